package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
)

// ErrWriteExhausted wraps a write that failed after every retry. The
// records may or may not be in the log; the writer must not go on as if
// they were (a later record would land before them) nor as if they were
// not (the caller does not know): it stops, and recovers from what the log
// holds, as after a crash.
var ErrWriteExhausted = errors.New("write failed after every retry")

// ProducerConfig tunes a Producer.
type ProducerConfig struct {
	// BatchBytes caps one produce request's records (default 900,000:
	// under the 1 MiB default max.message.bytes of Kafka, Redpanda and
	// the embedded broker, where a larger batch is refused, not split).
	BatchBytes int64
	// BatchSize caps one request's record count (default 16,384).
	BatchSize int
	// Attempts bounds the tries of one request (default 30), with
	// Backoff doubling from BackoffMin to BackoffMax between them (default
	// 20 ms to 1 s: a restarting broker gets about half a minute).
	Attempts               int
	BackoffMin, BackoffMax time.Duration
	// Timeout bounds one request (default 10 s).
	Timeout time.Duration
}

func (c *ProducerConfig) setDefaults() {
	if c.BatchBytes == 0 {
		c.BatchBytes = 900_000
	}
	if c.BatchSize == 0 {
		c.BatchSize = 16384
	}
	if c.Attempts == 0 {
		c.Attempts = 30
	}
	if c.BackoffMin == 0 {
		c.BackoffMin = 20 * time.Millisecond
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
}

// Validate reports what is wrong with the configuration.
func (c *ProducerConfig) Validate() error {
	switch {
	case c.BatchBytes < 1:
		return fmt.Errorf("producer: batch bytes %d: want at least 1", c.BatchBytes)
	case c.BatchSize < 1:
		return fmt.Errorf("producer: batch size %d: want at least 1", c.BatchSize)
	case c.Attempts < 1:
		return fmt.Errorf("producer: attempts %d: want at least 1", c.Attempts)
	case c.BackoffMin < 0 || c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("producer: backoff %v to %v: want 0 <= min <= max", c.BackoffMin, c.BackoffMax)
	case c.Timeout <= 0:
		return fmt.Errorf("producer: timeout %v: want > 0", c.Timeout)
	}
	return nil
}

// Producer writes records to the partitions they name with kafka-go's
// Client.RawProduce: the produce request kafka-go's Writer makes for each
// batch, without the Writer around it, and with the record batch encoded
// here (appendBatch: the same bytes, about eight times faster).
//
// Why not the Writer: an event store needs each partition's records in the
// log in the order given, retries or not, and never one dropped. The
// Writer goes on with a partition's next batch after one failed its
// retries (a resend then lands behind a later batch), looks up metadata
// once per message (a tenth of a run's CPU), and waits BatchTimeout to
// fill each batch of a synchronous write. Here each partition's records go
// as requests of at most BatchBytes, one after the other, and a request is
// retried until it lands before the next is sent; partitions go in
// parallel. A request whose answer was lost after the broker appended it
// lands twice, next to itself: readers skip the identical copy
// (audit.Auditor.Redelivered). kafka-go has no idempotent producer.
type Producer struct {
	cfg     ProducerConfig
	client  *kafka.Client
	tr      *kafka.Transport
	retries atomic.Int64
}

// NewProducer returns a producer for the cluster of cfg; every write is
// acknowledged by all in-sync replicas.
func NewProducer(cfg Config, pc ProducerConfig) (*Producer, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pc.setDefaults()
	if err := pc.Validate(); err != nil {
		return nil, err
	}
	tr, err := cfg.Transport()
	if err != nil {
		return nil, err
	}
	return &Producer{cfg: pc, tr: tr, client: &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Transport: tr, Timeout: pc.Timeout}}, nil
}

// Close releases the producer's connections.
func (p *Producer) Close() error {
	p.tr.CloseIdleConnections()
	return nil
}

// Retries is the number of produce requests sent again after an error.
func (p *Producer) Retries() int64 { return p.retries.Load() }

type topicPart struct {
	topic string
	part  int
}

// Write writes msgs (Topic and Partition set) and returns once every one
// is acknowledged. On an error some of msgs may be in the log: of each
// partition, a prefix in order. An error that retrying cannot mend (the
// broker says so) is returned as is; one that outlasted Attempts wraps
// ErrWriteExhausted.
func (p *Producer) Write(ctx context.Context, msgs []kafka.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	// Most writes are one processor's epoch: one partition of events.
	first := topicPart{msgs[0].Topic, msgs[0].Partition}
	one := true
	for i := range msgs {
		if msgs[i].Topic != first.topic || msgs[i].Partition != first.part {
			one = false
			break
		}
	}
	if one {
		return p.writePartition(ctx, first, msgs, nil)
	}
	order, groups := group(msgs)
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	for i, k := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.writePartition(ctx, k, msgs, groups[i])
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// group splits msgs by topic and partition, in order of first appearance:
// indexes, not copies (a Message is 152 bytes). The usual write is one
// topic's partitions, grouped through a slice: hashing the topic string of
// every message into a map was 1% of a run's CPU.
func group(msgs []kafka.Message) (order []topicPart, groups [][]int32) {
	topic, maxPart := msgs[0].Topic, 0
	for i := range msgs {
		if msgs[i].Topic != topic || msgs[i].Partition < 0 || msgs[i].Partition >= 1<<12 {
			maxPart = -1
			break
		}
		maxPart = max(maxPart, msgs[i].Partition)
	}
	if maxPart >= 0 {
		slot := make([]int32, maxPart+1) // 1 + index into order; 0: none yet
		for i := range msgs {
			pt := msgs[i].Partition
			if slot[pt] == 0 {
				order = append(order, topicPart{topic, pt})
				groups = append(groups, nil)
				slot[pt] = int32(len(order))
			}
			g := slot[pt] - 1
			groups[g] = append(groups[g], int32(i))
		}
		return order, groups
	}
	at := map[topicPart]int{}
	for i := range msgs {
		k := topicPart{msgs[i].Topic, msgs[i].Partition}
		g, ok := at[k]
		if !ok {
			g = len(order)
			at[k] = g
			order, groups = append(order, k), append(groups, nil)
		}
		groups[g] = append(groups[g], int32(i))
	}
	return order, groups
}

// writePartition sends one partition's records (msgs, or msgs[idx] for
// each of idx when idx is set) in order, request after request, each
// retried until it has landed.
func (p *Producer) writePartition(ctx context.Context, k topicPart, msgs []kafka.Message, idx []int32) error {
	n := len(msgs)
	if idx != nil {
		n = len(idx)
	}
	at := func(i int) *kafka.Message {
		if idx != nil {
			return &msgs[idx[i]]
		}
		return &msgs[i]
	}
	buf := batchBufs.Get().(*[]byte)
	defer batchBufs.Put(buf)
	for from := 0; from < n; {
		rest := func(i int) *kafka.Message { return at(from + i) }
		count, size := batchLen(n-from, rest, p.cfg.BatchSize, p.cfg.BatchBytes)
		to := from + count
		// size bounds the records; the batch header is 61 bytes more.
		*buf = appendBatch(slices.Grow((*buf)[:0], int(size)+64), count, rest, time.Now().UnixNano()/int64(time.Millisecond))
		if err := p.send(ctx, k, count, *buf); err != nil {
			return err
		}
		from = to
	}
	return nil
}

// batchBufs holds encoded requests' buffers (up to about BatchBytes each).
var batchBufs = sync.Pool{New: func() any { return new([]byte) }}

// send produces one encoded record set of n records, retrying until it
// lands: the same bytes each time.
func (p *Producer) send(ctx context.Context, k topicPart, n int, set []byte) error {
	backoff := p.cfg.BackoffMin
	var rd bytes.Reader
	for attempt := 1; ; attempt++ {
		// kafka-go sends a request whose context is already cancelled; a
		// cancelled write must not land.
		if err := ctx.Err(); err != nil {
			return err
		}
		rd.Reset(set)
		res, err := p.client.RawProduce(ctx, &kafka.RawProduceRequest{
			Topic: k.topic, Partition: k.part, RequiredAcks: kafka.RequireAll, RawRecords: protocol.RawRecordSet{Reader: &rd},
		})
		if err == nil && res != nil {
			err = res.Error
			if err == nil {
				for _, re := range res.RecordErrors {
					err = re
					break
				}
			}
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ke kafka.Error
		if errors.As(err, &ke) && !ke.Temporary() {
			return fmt.Errorf("write %d records to %s[%d]: %w", n, k.topic, k.part, err)
		}
		if attempt >= p.cfg.Attempts {
			return fmt.Errorf("write %d records to %s[%d]: %w after %d attempts: %v", n, k.topic, k.part, ErrWriteExhausted, attempt, err)
		}
		p.retries.Add(1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, p.cfg.BackoffMax)
	}
}

// batchLen is how many of msgs go in the next request, and their size in
// a batch (an upper bound): at most maxCount
// records of at most maxBytes in all, and at least one (a lone record
// larger than maxBytes goes alone, for the broker to refuse by name).
func batchLen(count int, at func(int) *kafka.Message, maxCount int, maxBytes int64) (n int, size int64) {
	for n < count && n < maxCount {
		s := messageSize(at(n))
		if n > 0 && size+s > maxBytes {
			break
		}
		size += s
		n++
	}
	return n, size
}

// messageSize is a record's size in a v2 batch, generous on varints.
func messageSize(m *kafka.Message) int64 {
	n := int64(1+10+10+5+5+5) + int64(len(m.Key)+len(m.Value))
	for _, h := range m.Headers {
		n += int64(len(h.Key)+len(h.Value)) + 10
	}
	return n
}
