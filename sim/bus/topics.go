package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
)

// Topics names the engine's topics. All but DeadLetters share one
// partition count: partition p of each belongs to the same processor.
type Topics struct {
	Commands    string // payments in, partitioned by payer wallet
	Transfers   string // saga steps between partitions (credit, refund, retry)
	Events      string // the event log, partitioned by wallet: the source of truth
	Checkpoints string // per-partition progress of the processors
	DeadLetters string // records that could not be decoded or attributed
	Producer    string // the producer's progress: where a restarted run resumes
	Identity    string // the run's identity (compacted, one key): what a resume must match
}

// DefaultTopics derives topic names from a prefix.
func DefaultTopics(prefix string) Topics {
	if prefix == "" {
		prefix = "walletsim"
	}
	return Topics{
		Commands:    prefix + ".commands",
		Transfers:   prefix + ".transfers",
		Events:      prefix + ".events",
		Checkpoints: prefix + ".checkpoints",
		DeadLetters: prefix + ".deadletters",
		Producer:    prefix + ".producer",
		Identity:    prefix + ".identity",
	}
}

// Partitioned lists the topics that must share a partition count.
func (t Topics) Partitioned() []string {
	return []string{t.Commands, t.Transfers, t.Events, t.Checkpoints}
}

// Client is a small admin client. Every request is retried through
// connection resets and transient broker errors (DefaultRetry): one failed
// round trip never ends a run.
type Client struct {
	c        *kafka.Client
	tr       *kafka.Transport
	cfg      Config
	retries  atomic.Int64
	answered atomic.Bool // a request of this client succeeded once
}

// NewClient returns an admin client for cfg.
func NewClient(cfg Config) (*Client, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr, err := cfg.Transport()
	if err != nil {
		return nil, err
	}
	return &Client{c: &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Transport: tr, Timeout: 30 * time.Second}, cfg: cfg, tr: tr}, nil
}

// Close drops the client's connections and stops its metadata refresh.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// Config returns the connection settings.
func (c *Client) Config() Config { return c.cfg }

// Retries counts the requests this client repeated after a transient
// failure.
func (c *Client) Retries() int64 { return c.retries.Load() }

// firstBudget bounds the retries of a client that has never had an
// answer: a broker that closes the connection on a wrong SASL password
// looks like a reset (EOF), and the user should hear of it in seconds,
// not after DefaultRetry's minute. Resets several times a second still
// leave dozens of attempts in it.
var firstBudget = 5 * time.Second

// retry is DefaultRetry.Do, counting what it repeats.
func (c *Client) retry(ctx context.Context, fn func(ctx context.Context) error) error {
	r := DefaultRetry
	if !c.answered.Load() {
		r.Budget = min(r.Budget, firstBudget)
	}
	err := r.Do(ctx, fn, func(error) { c.retries.Add(1) })
	if err == nil {
		c.answered.Store(true)
	}
	return err
}

// metadata is Client.Metadata, retried.
func (c *Client) metadata(ctx context.Context, req *kafka.MetadataRequest) (*kafka.MetadataResponse, error) {
	var md *kafka.MetadataResponse
	err := c.retry(ctx, func(ctx context.Context) error {
		var err error
		md, err = c.c.Metadata(ctx, req)
		return err
	})
	return md, err
}

// Partitions returns a topic's partition count; 0 and no error when the
// topic does not exist.
func (c *Client) Partitions(ctx context.Context, topic string) (int, error) {
	md, err := c.metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("metadata for %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name != topic {
			continue
		}
		if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
			return 0, nil
		}
		if t.Error != nil {
			return 0, fmt.Errorf("metadata for %s: %w", topic, t.Error)
		}
		return len(t.Partitions), nil
	}
	return 0, nil
}

// Retained are the settings of a topic whose records must outlive the
// run: retention.ms from Config.Retention (-1: forever).
// EnsureTopicsWith adds min.insync.replicas.
func (c *Client) Retained() map[string]string {
	m := map[string]string{"cleanup.policy": "delete", "retention.ms": "-1"}
	if c.cfg.Retention > 0 {
		m["retention.ms"] = strconv.FormatInt(c.cfg.Retention.Milliseconds(), 10)
	}
	return m
}

// DefaultReplicationFactor and DefaultMinInsyncReplicas fit a 3-broker
// cluster: a write acknowledged by 2 of 3 replicas survives losing any
// one broker. On a smaller cluster (the embedded broker has one) both are
// capped at its broker count.
const (
	DefaultReplicationFactor = 3
	DefaultMinInsyncReplicas = 2
)

// replication resolves Config's replication factor and min.insync.replicas
// (0: the defaults, capped at the cluster's broker count).
func (c *Client) replication(ctx context.Context) (rf, minISR int, err error) {
	rf, minISR = c.cfg.ReplicationFactor, c.cfg.MinInsyncReplicas
	if rf > 0 && minISR > 0 {
		return rf, minISR, nil
	}
	md, err := c.metadata(ctx, &kafka.MetadataRequest{Topics: []string{}})
	if err != nil {
		return 0, 0, fmt.Errorf("cluster metadata: %w", err)
	}
	brokers := max(1, len(md.Brokers))
	if rf == 0 {
		rf = min(DefaultReplicationFactor, brokers)
	}
	if minISR == 0 {
		minISR = min(DefaultMinInsyncReplicas, rf)
	}
	return rf, minISR, nil
}

// Compacted are the settings of a topic read by key, latest value wins.
func (c *Client) Compacted() map[string]string {
	m := c.Retained()
	m["cleanup.policy"] = "compact"
	delete(m, "retention.ms")
	return m
}

// TopicConfigs reads back a topic's configuration (DescribeConfigs):
// name to value, as the broker reports it.
func (c *Client) TopicConfigs(ctx context.Context, topic string) (map[string]string, error) {
	var resp *kafka.DescribeConfigsResponse
	err := c.retry(ctx, func(ctx context.Context) error {
		var err error
		resp, err = c.c.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{
			Resources: []kafka.DescribeConfigRequestResource{{ResourceType: kafka.ResourceTypeTopic, ResourceName: topic}},
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("describe configs of %s: %w", topic, err)
	}
	out := map[string]string{}
	for _, r := range resp.Resources {
		if r.Error != nil {
			return nil, fmt.Errorf("describe configs of %s: %w", topic, r.Error)
		}
		for _, e := range r.ConfigEntries {
			out[e.ConfigName] = e.ConfigValue
		}
	}
	return out, nil
}

// ReplicationFactor is the replica count of a topic's first partition
// (0 when the topic does not exist).
func (c *Client) ReplicationFactor(ctx context.Context, topic string) (int, error) {
	md, err := c.metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return 0, fmt.Errorf("metadata for %s: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Name == topic && t.Error == nil && len(t.Partitions) > 0 {
			return len(t.Partitions[0].Replicas), nil
		}
	}
	return 0, nil
}

// EnsureTopics creates missing topics with n partitions and the Retained
// settings, and checks that existing ones have exactly n: the engine maps
// partition p of every topic to one processor, so mismatched counts would
// misroute wallets.
func (c *Client) EnsureTopics(ctx context.Context, n int, topics ...string) error {
	return c.EnsureTopicsWith(ctx, n, c.Retained(), topics...)
}

// topicVisibleWait bounds how long EnsureTopicsWith waits for created
// topics to show in metadata, and Setup for deleted ones to go.
var topicVisibleWait = 10 * time.Second

// EnsureTopicsWith is EnsureTopics with the given topic settings.
func (c *Client) EnsureTopicsWith(ctx context.Context, n int, settings map[string]string, topics ...string) error {
	var missing []kafka.TopicConfig
	var rf, minISR int
	var entries []kafka.ConfigEntry
	for _, t := range topics {
		have, err := c.Partitions(ctx, t)
		if err != nil {
			return err
		}
		switch {
		case have == 0:
			if entries == nil {
				var err error
				if rf, minISR, err = c.replication(ctx); err != nil {
					return err
				}
				entries = append(entries, kafka.ConfigEntry{ConfigName: "min.insync.replicas", ConfigValue: strconv.Itoa(minISR)})
				for k, v := range settings {
					entries = append(entries, kafka.ConfigEntry{ConfigName: k, ConfigValue: v})
				}
			}
			missing = append(missing, kafka.TopicConfig{Topic: t, NumPartitions: n, ReplicationFactor: rf, ConfigEntries: entries})
		case have != n:
			return fmt.Errorf("topic %s has %d partitions, this run needs %d (use --partitions %d or new topic names)", t, have, n, have)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	// kafka-go's transport waits, after the answer, for the topics to show
	// in metadata (up to the client's 30 s); bound that by the same wait.
	names := make([]string, len(missing))
	for i, t := range missing {
		names[i] = t.Topic
	}
	// A retry after a lost answer finds the topics there: TopicAlreadyExists
	// is success below.
	cctx, cancel := context.WithTimeout(ctx, topicVisibleWait)
	var resp *kafka.CreateTopicsResponse
	err := c.retry(cctx, func(ctx context.Context) error {
		var err error
		resp, err = c.c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: missing})
		return err
	})
	cancel()
	if err != nil {
		if ctx.Err() == nil && cctx.Err() != nil {
			return fmt.Errorf("topic %s not visible with %d partitions %s after creation: %w", strings.Join(names, ", "), n, topicVisibleWait, err)
		}
		return fmt.Errorf("create topic %s: %w", strings.Join(names, ", "), err)
	}
	for name, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", name, err)
		}
	}
	// Metadata can lag creation by a moment on real clusters; a topic
	// that never shows is an error naming it, not a run on half a log.
	deadline := time.Now().Add(topicVisibleWait)
	for {
		var absent []string
		for _, t := range missing {
			if have, err := c.Partitions(ctx, t.Topic); err != nil || have != n {
				absent = append(absent, t.Topic)
			}
		}
		if len(absent) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topic %s not visible with %d partitions %s after creation", strings.Join(absent, ", "), n, topicVisibleWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// WaitDeleted waits until none of topics exists; an error names the
// topics still there after topicVisibleWait (deletion is asynchronous on
// real clusters, and recreating a topic that is still being deleted
// fails or, worse, keeps its old records).
func (c *Client) WaitDeleted(ctx context.Context, topics ...string) error {
	deadline := time.Now().Add(topicVisibleWait)
	for {
		var left []string
		for _, t := range topics {
			k, err := c.Partitions(ctx, t)
			if err != nil {
				return err
			}
			if k > 0 {
				left = append(left, t)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("topic %s still exists %s after deletion", strings.Join(left, ", "), topicVisibleWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Offsets returns the first and next offsets of each partition of topic.
func (c *Client) Offsets(ctx context.Context, topic string, parts int) (first, next []int64, err error) {
	first, next = make([]int64, parts), make([]int64, parts)
	// kafka-go splits the request into one round trip per partition and
	// offset, each on a connection of its own, and answers one whose
	// connection failed with UNKNOWN (-1). What was answered is kept and
	// only the rest asked again: under connections reset several times a
	// second, 2 x parts round trips rarely all fit between two resets.
	type want struct {
		part int
		last bool
	}
	todo := make([]want, 0, 2*parts)
	for p := 0; p < parts; p++ {
		todo = append(todo, want{p, false}, want{p, true})
	}
	err = c.retry(ctx, func(ctx context.Context) error {
		req := make([]kafka.OffsetRequest, len(todo))
		for i, w := range todo {
			if w.last {
				req[i] = kafka.LastOffsetOf(w.part)
			} else {
				req[i] = kafka.FirstOffsetOf(w.part)
			}
		}
		resp, err := c.c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
		if err != nil {
			return fmt.Errorf("list offsets of %s: %w", topic, err)
		}
		got := map[int]kafka.PartitionOffsets{}
		for _, po := range resp.Topics[topic] {
			got[po.Partition] = po
		}
		var firstErr error
		left := todo[:0]
		for _, w := range todo {
			po, ok := got[w.part]
			// kafka-go merges a partition's two answers into one
			// PartitionOffsets with a single Error: on an error both are
			// asked again.
			switch {
			case !ok:
				if firstErr == nil {
					firstErr = fmt.Errorf("list offsets of %s[%d]: no answer: %w", topic, w.part, kafka.Unknown)
				}
				left = append(left, w)
			case po.Error != nil:
				if firstErr == nil {
					firstErr = fmt.Errorf("list offsets of %s[%d]: %w", topic, w.part, po.Error)
				}
				left = append(left, w)
			case w.last:
				next[w.part] = po.LastOffset
			default:
				first[w.part] = po.FirstOffset
			}
		}
		todo = left
		return firstErr
	})
	if err != nil {
		return nil, nil, err
	}
	return first, next, nil
}

// DeleteTopics removes topics (tests and `--fresh` runs).
func (c *Client) DeleteTopics(ctx context.Context, topics ...string) error {
	// A retry after a lost answer finds the topics gone:
	// UnknownTopicOrPartition is success below.
	var resp *kafka.DeleteTopicsResponse
	err := c.retry(ctx, func(ctx context.Context) error {
		var err error
		resp, err = c.c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics})
		return err
	})
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	for name, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.UnknownTopicOrPartition) {
			return fmt.Errorf("delete topic %s: %w", name, err)
		}
	}
	return nil
}
