package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
)

// NewWriter returns a writer for an event store (GUIDE.md section 1): every
// write acknowledged by all in-sync replicas, a short batch timeout so a
// lone synchronous write does not wait a second, and the partition chosen
// by the caller (Message.Partition), because walletsim maps wallets to
// partitions itself so that every topic agrees.
func NewWriter(cfg Config) (*kafka.Writer, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr, err := cfg.Transport()
	if err != nil {
		return nil, err
	}
	return &kafka.Writer{
		Addr:         kafka.TCP(cfg.Brokers...),
		Transport:    tr,
		Balancer:     kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition }),
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 2 * time.Millisecond,
		BatchSize:    4096,
		// Under the 1 MiB default max.message.bytes of Kafka, Redpanda and
		// the embedded broker: a larger batch is refused, not split.
		BatchBytes:  900_000,
		MaxAttempts: 10,
		// Backoff between attempts: a restarting broker gets a few seconds.
		WriteBackoffMin: 50 * time.Millisecond,
		WriteBackoffMax: 1 * time.Second,
	}, nil
}

// PartitionReader reads one partition from a given offset with a kafka-go
// Reader (no consumer group: walletsim keeps its own offsets in the
// checkpoints topic, next to the state they describe).
type PartitionReader struct {
	r         *kafka.Reader
	cfg       Config
	topic     string
	partition int
	next      int64   // the offset of the next message expected
	admin     *Client // for the idle check, made on first use
}

// ErrLogTruncated: a partition ends before a reader's position, or its
// topic is gone: the topic was deleted (and perhaps created again, empty,
// by a client's metadata request on a cluster that auto-creates topics)
// or truncated under the run. Nothing will ever arrive at the reader's
// position, and kafka-go's reader would wait for it forever.
var ErrLogTruncated = errors.New("the topic was deleted or truncated under the run")

// idleCheck is how long Fetch waits for a message before it checks that
// the partition still reaches the reader's position.
var idleCheck = 5 * time.Second

// NewPartitionReader starts reading topic[partition] at offset.
func NewPartitionReader(cfg Config, topic string, partition int, offset int64) (*PartitionReader, error) {
	cfg.SetDefaults()
	d, err := cfg.Dialer()
	if err != nil {
		return nil, err
	}
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers:   cfg.Brokers,
		Dialer:    d,
		Topic:     topic,
		Partition: partition,
		MinBytes:  1,
		MaxBytes:  1 << 20,
		// The fetch long poll: far shorter than the interval of any
		// connection reset walletsim rides through, so a fetch answers
		// before its connection goes.
		MaxWait:        20 * time.Millisecond,
		QueueCapacity:  4096,
		ReadBackoffMin: 5 * time.Millisecond,
		ReadBackoffMax: 200 * time.Millisecond,
		MaxAttempts:    20,
	})
	if err := r.SetOffset(offset); err != nil {
		r.Close()
		return nil, fmt.Errorf("seek %s[%d] to %d: %w", topic, partition, offset, err)
	}
	return &PartitionReader{r: r, cfg: cfg, topic: topic, partition: partition, next: offset}, nil
}

// Fetch returns the next message; it blocks until one arrives or ctx ends.
// kafka-go's reader redials by itself after a connection reset; an error
// it gives up on is returned, naming the partition. After idleCheck
// without a message Fetch checks the partition's end: one that ends
// before the reader's position, or a topic that is gone, is
// ErrLogTruncated (kafka-go's reader would wait for it forever).
func (p *PartitionReader) Fetch(ctx context.Context) (kafka.Message, error) {
	for {
		fctx, cancel := context.WithTimeout(ctx, idleCheck)
		m, err := p.r.FetchMessage(fctx)
		cancel()
		switch {
		case err == nil:
			p.next = m.Offset + 1
			return m, nil
		case ctx.Err() != nil:
			return m, ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return m, fmt.Errorf("fetch %s[%d] at %d: %w", p.topic, p.partition, p.next, err)
		}
		if err := p.reaches(ctx); err != nil {
			return kafka.Message{}, err
		}
	}
}

// reaches checks that the partition still reaches the reader's position.
func (p *PartitionReader) reaches(ctx context.Context) error {
	if p.next < 0 {
		return nil // FirstOffset or LastOffset: no position to check
	}
	if p.admin == nil {
		a, err := NewClient(p.cfg)
		if err != nil {
			return err
		}
		p.admin = a
	}
	_, next, err := p.admin.Offsets(ctx, p.topic, p.partition+1)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, kafka.UnknownTopicOrPartition):
		return fmt.Errorf("fetch %s[%d] at %d: %w: %v", p.topic, p.partition, p.next, ErrLogTruncated, err)
	case err != nil:
		return nil // the reader reports connection trouble itself
	case next[p.partition] < p.next:
		return fmt.Errorf("fetch %s[%d] at %d: the partition ends at %d: %w", p.topic, p.partition, p.next, next[p.partition], ErrLogTruncated)
	}
	return nil
}

// Close stops the reader.
func (p *PartitionReader) Close() error {
	if p.admin != nil {
		p.admin.Close()
	}
	return p.r.Close()
}

// ReadRange calls fn for every message of topic[partition] in [from, to).
// It is how verify, replay and recovery scan the log. A fetch that fails
// (kafka-go's reader hands over an error it gave up on) reopens the
// reader after the last message handed to fn, with DefaultRetry, so fn
// sees each message once, in order; an error fn returns ends the read.
func ReadRange(ctx context.Context, cfg Config, topic string, partition int, from, to int64, fn func(kafka.Message) error) error {
	if from >= to {
		return nil
	}
	err := DefaultRetry.DoProgress(ctx, func(ctx context.Context) (bool, error) {
		start := from
		err := readRangeOnce(ctx, cfg, topic, partition, &from, to, fn)
		return from > start, err
	}, nil)
	return unwrapCaller(err)
}

func readRangeOnce(ctx context.Context, cfg Config, topic string, partition int, from *int64, to int64, fn func(kafka.Message) error) error {
	r, err := NewPartitionReader(cfg, topic, partition, *from)
	if err != nil {
		return callerError{err}
	}
	defer r.Close()
	for *from < to {
		m, err := r.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return callerError{ctx.Err()}
			}
			if errors.Is(err, io.EOF) {
				return callerError{fmt.Errorf("read %s[%d]: reader closed at offset %d before %d", topic, partition, *from, to)}
			}
			return fmt.Errorf("read %s[%d]: %w", topic, partition, err)
		}
		if err := fn(m); err != nil {
			return callerError{err}
		}
		*from = m.Offset + 1
	}
	return nil
}
