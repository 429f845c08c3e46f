package bus

import (
	"context"
	"errors"
	"fmt"
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
	}
}

// Partitioned lists the topics that must share a partition count.
func (t Topics) Partitioned() []string {
	return []string{t.Commands, t.Transfers, t.Events, t.Checkpoints}
}

// Client is a small admin client.
type Client struct {
	c   *kafka.Client
	cfg Config
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
	return &Client{c: &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Transport: tr, Timeout: 30 * time.Second}, cfg: cfg}, nil
}

// Config returns the connection settings.
func (c *Client) Config() Config { return c.cfg }

// Partitions returns a topic's partition count; 0 and no error when the
// topic does not exist.
func (c *Client) Partitions(ctx context.Context, topic string) (int, error) {
	md, err := c.c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
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

// EnsureTopics creates missing topics with n partitions and checks that
// existing ones have exactly n: the engine maps partition p of every topic
// to one processor, so mismatched counts would misroute wallets.
func (c *Client) EnsureTopics(ctx context.Context, n int, topics ...string) error {
	var missing []kafka.TopicConfig
	for _, t := range topics {
		have, err := c.Partitions(ctx, t)
		if err != nil {
			return err
		}
		switch {
		case have == 0:
			missing = append(missing, kafka.TopicConfig{Topic: t, NumPartitions: n, ReplicationFactor: -1})
		case have != n:
			return fmt.Errorf("topic %s has %d partitions, this run needs %d (use --partitions %d or new topic names)", t, have, n, have)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	resp, err := c.c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: missing})
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for name, err := range resp.Errors {
		if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", name, err)
		}
	}
	// Metadata can lag creation by a moment on real clusters.
	for i := 0; i < 50; i++ {
		ok := true
		for _, t := range missing {
			if have, err := c.Partitions(ctx, t.Topic); err != nil || have != n {
				ok = false
			}
		}
		if ok {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("topics not visible after creation")
}

// Offsets returns the first and next offsets of each partition of topic.
func (c *Client) Offsets(ctx context.Context, topic string, parts int) (first, next []int64, err error) {
	req := make([]kafka.OffsetRequest, 0, 2*parts)
	for p := 0; p < parts; p++ {
		req = append(req, kafka.FirstOffsetOf(p), kafka.LastOffsetOf(p))
	}
	resp, err := c.c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: req}})
	if err != nil {
		return nil, nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	first, next = make([]int64, parts), make([]int64, parts)
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, nil, fmt.Errorf("list offsets of %s[%d]: %w", topic, po.Partition, po.Error)
		}
		if po.Partition >= 0 && po.Partition < parts {
			first[po.Partition], next[po.Partition] = po.FirstOffset, po.LastOffset
		}
	}
	return first, next, nil
}

// DeleteTopics removes topics (tests and `--fresh` runs).
func (c *Client) DeleteTopics(ctx context.Context, topics ...string) error {
	resp, err := c.c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics})
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
