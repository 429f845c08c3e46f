package bus

import (
	"bytes"
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

// ReadRange calls fn for every message of topic[partition] in [from, to).
// It is how verify, replay and recovery scan the log. A fetch that fails
// (PartitionReader hands over an error it gave up on) reopens the
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
		// The reader's key and value are only good until its next
		// Fetch; fn may keep them (a checkpoint, a dead letter).
		m.Key, m.Value = bytes.Clone(m.Key), bytes.Clone(m.Value)
		if err := fn(m); err != nil {
			return callerError{err}
		}
		*from = m.Offset + 1
	}
	return nil
}
