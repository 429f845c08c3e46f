package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
)

// PartitionReader tails one partition from a given offset (no consumer
// group: walletsim keeps its own offsets in the checkpoints topic, next
// to the state they describe). It is the processors' input, so it is
// built for their loop: each fetch is a long poll (Conn.ReadBatchWith,
// MinBytes 1, MaxWait fetchMaxWait) made on the caller's goroutine, whose
// records are kept in one arena the reader reuses. No goroutine and no
// channel hop per record (kafka-go's Reader costs both: about a tenth of
// a run's CPU). kafka-go's public Batch.ReadMessage still allocates the
// key and the value of each record; its allocation-free Batch.Read drops
// the key and the timestamp, which the processors need (dead letters,
// latency), and reaching the unexported reader both are built on would
// tie walletsim to one kafka-go release's internals.
//
// A connection reset, a broker restart or a moved leader redials (the
// next broker of cfg.Brokers each time) and resumes after the last record
// handed out, so each record is handed out once, in order.
//
// A PartitionReader is used by one goroutine at a time.
type PartitionReader struct {
	cfg       Config
	dialer    *kafka.Dialer
	topic     string
	partition int
	next      int64   // the offset after the last record handed out: where the next fetch starts
	admin     *Client // for the idle check, made on first use
	conn      *kafka.Conn
	dials     int // how many connections were made: rotates cfg.Brokers
	closed    bool

	// The last fetch: records recs[i:] are still to be handed out; their
	// keys and values are spans of arena.
	arena []byte
	recs  []fetched
	i     int
	hwm   int64
}

// fetched is one record of the arena.
type fetched struct {
	offset, ts int64 // ts: milliseconds since the epoch, <= 0 for none
	key, val   [2]int
	headers    []kafka.Header // nil unless the record has headers
}

// ErrLogTruncated: a partition ends before a reader's position, or its
// topic is gone: the topic was deleted (and perhaps created again, empty,
// by a client's metadata request on a cluster that auto-creates topics)
// or truncated under the run. Nothing will ever arrive at the reader's
// position, and a reader that only waited would wait forever.
var ErrLogTruncated = errors.New("the topic was deleted or truncated under the run")

// idleCheck is how long Fetch waits for a record before it checks that
// the partition still reaches the reader's position.
var idleCheck = 5 * time.Second

const (
	// fetchMaxWait is the fetch long poll: far shorter than the interval
	// of any connection reset walletsim rides through, so a fetch answers
	// before its connection goes, and short enough that an idle reader
	// sees a record a moment after it lands.
	fetchMaxWait = 20 * time.Millisecond
	// fetchMaxBytes bounds one fetch's response (the arena's size in
	// steady state). A record batch larger than this still comes whole:
	// the broker always returns the first batch (KIP-74), and the arena
	// grows to hold it.
	fetchMaxBytes = 1 << 20
	// readTimeout bounds one fetch on the wire, response included: a
	// connection that stalls without closing is dropped and redialed.
	readTimeout = 10 * time.Second
)

// tailRetry is how long one Fetch keeps redialing through connection
// trouble before it hands the error to its caller (who counts it and calls
// again: processor.fetch): about what kafka-go's Reader spent in its 20
// attempts, with its backoff bounds (5 ms to 200 ms).
var tailRetry = Retry{Budget: 3 * time.Second, Min: 5 * time.Millisecond, Max: 200 * time.Millisecond}

// NewPartitionReader starts reading topic[partition] at offset: an
// absolute offset, kafka.FirstOffset or kafka.LastOffset. It connects on
// the first Fetch.
func NewPartitionReader(cfg Config, topic string, partition int, offset int64) (*PartitionReader, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if offset < 0 && offset != kafka.FirstOffset && offset != kafka.LastOffset {
		return nil, fmt.Errorf("read %s[%d]: offset %d is neither an offset nor FirstOffset/LastOffset", topic, partition, offset)
	}
	d, err := cfg.Dialer()
	if err != nil {
		return nil, err
	}
	p := &PartitionReader{cfg: cfg, dialer: d, topic: topic, partition: partition, next: offset}
	return p, nil
}

// Fetch returns the next record; it blocks until one arrives or ctx ends.
// The record's Key and Value are the reader's: valid until the next call
// to Fetch (copy what is kept longer). Connection trouble is redialed
// for tailRetry's budget; an error that outlasts it, or that the broker
// says will not go away, is returned, naming the partition, and the next
// call resumes at the same record. After idleCheck without a record
// Fetch checks the partition's end: one that ends before the reader's
// position, or a topic that is gone, is ErrLogTruncated. A closed reader
// returns io.EOF.
func (p *PartitionReader) Fetch(ctx context.Context) (kafka.Message, error) {
	if p.closed {
		return kafka.Message{}, io.EOF
	}
	if p.i >= len(p.recs) {
		if err := p.await(ctx); err != nil {
			return kafka.Message{}, err
		}
	}
	r := &p.recs[p.i]
	p.i++
	p.next = r.offset + 1
	return kafka.Message{
		Topic:         p.topic,
		Partition:     p.partition,
		Offset:        r.offset,
		HighWaterMark: p.hwm,
		Key:           p.span(r.key),
		Value:         p.span(r.val),
		Headers:       r.headers,
		Time:          recordTime(r.ts),
	}, nil
}

// span is a key or value of the arena; nil for a null or empty one, as
// kafka-go's ReadMessage returns them.
func (p *PartitionReader) span(s [2]int) []byte {
	if s[0] < 0 || s[0] == s[1] {
		return nil
	}
	return p.arena[s[0]:s[1]:s[1]]
}

// recordTime is kafka-go's makeTime: a record's timestamp as Message.Time.
func recordTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.Unix(ms/1000, (ms%1000)*int64(time.Millisecond)).UTC()
}

// await fetches until the arena holds a record.
func (p *PartitionReader) await(ctx context.Context) error {
	idle := time.Now()
	err := tailRetry.DoProgress(ctx, func(ctx context.Context) (bool, error) {
		for {
			if err := ctx.Err(); err != nil {
				return false, callerError{err}
			}
			if time.Since(idle) >= idleCheck {
				idle = time.Now()
				if err := p.reaches(ctx); err != nil {
					return false, callerError{err}
				}
			}
			n, err := p.fill(ctx)
			if n > 0 {
				return true, nil // an error after them dropped the connection: the next fill redials
			}
			if err != nil {
				return false, err
			}
		}
	}, nil)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	var c callerError
	if errors.As(err, &c) {
		return c.err
	}
	if errors.Is(err, io.EOF) {
		// A connection closed under a request. Not io.EOF to the
		// caller: that is a closed reader (processor.fetch stops on it).
		err = fmt.Errorf("%w (%v)", io.ErrUnexpectedEOF, err)
	}
	return fmt.Errorf("fetch %s[%d] at %d: %w", p.topic, p.partition, p.next, err)
}

// fill makes one fetch at p.next and puts its records in the arena,
// returning how many. Records the fetch got before an error are kept (the
// error has dropped the connection, and is reported when the next fetch
// fails too). A long poll that found nothing is 0 records, no error.
func (p *PartitionReader) fill(ctx context.Context) (int, error) {
	p.arena, p.recs, p.i = p.arena[:0], p.recs[:0], 0
	if p.conn == nil {
		if err := p.dial(ctx); err != nil {
			return 0, err
		}
	}
	c := p.conn
	if _, err := c.Seek(p.next, kafka.SeekAbsolute|kafka.SeekDontCheck); err != nil {
		p.drop()
		return 0, err
	}
	// ReadBatchWith takes no context: ctx ending cuts the connection's
	// deadline short instead, so Fetch returns at once. That connection
	// is done for (its write deadline too): the next call redials.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer func() {
		if !stop() {
			p.drop()
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(readTimeout))
	b := c.ReadBatchWith(kafka.ReadBatchConfig{MinBytes: 1, MaxBytes: fetchMaxBytes, MaxWait: fetchMaxWait})
	p.hwm = b.HighWaterMark()
	at := p.next
	for {
		mark := len(p.arena)
		r, err := p.readRecord(b)
		if err != nil {
			break // io.EOF: the end of this fetch; anything else Close returns
		}
		if r.offset < at {
			// A record batch (compressed or not) comes whole, and can
			// start before the offset asked for.
			p.arena = p.arena[:mark]
			continue
		}
		p.recs = append(p.recs, r)
		at = r.offset + 1
	}
	end := b.Offset() // past the records read, and past a batch's compacted tail
	err := b.Close()
	n := len(p.recs)
	var ke kafka.Error
	switch {
	case err == nil, errors.Is(err, kafka.RequestTimedOut):
		// RequestTimedOut: the long poll ended with nothing new.
		if n == 0 && end > p.next {
			// Only records below p.next, then a gap compaction left at
			// the end of their batch: fetching at p.next again would
			// get the same batch, forever.
			p.next = end
		}
		return n, nil
	case n == 0 && errors.Is(err, kafka.OffsetOutOfRange):
		return 0, p.outOfRange(ctx)
	case errors.As(err, &ke):
		// NOT_LEADER, UNKNOWN_TOPIC_OR_PARTITION and the like: the next
		// dial looks the leader up again. A permanent one ends Fetch.
		p.drop()
		return n, err
	default:
		// kafka-go has closed the connection under a broken batch.
		p.drop()
		return n, err
	}
}

// readRecord reads the next record of b into the arena.
func (p *PartitionReader) readRecord(b *kafka.Batch) (fetched, error) {
	m, err := b.ReadMessage()
	if err != nil {
		return fetched{}, err
	}
	r := fetched{offset: m.Offset, headers: m.Headers}
	if !m.Time.IsZero() {
		r.ts = m.Time.UnixMilli()
	}
	r.key = p.keep(m.Key)
	r.val = p.keep(m.Value)
	return r, nil
}

// keep appends b to the arena.
func (p *PartitionReader) keep(b []byte) [2]int {
	if b == nil {
		return [2]int{-1, -1}
	}
	start := len(p.arena)
	p.arena = append(p.arena, b...)
	return [2]int{start, len(p.arena)}
}

// outOfRange answers OFFSET_OUT_OF_RANGE for p.next. Past the partition's
// end is a truncated log (ErrLogTruncated); before its start (records
// removed by retention) the reader moves to the first record, as
// kafka-go's Reader does; in range again (the log grew meanwhile), the
// fetch is simply repeated. The bounds come from the admin client: the
// fetch's connection is dropped (kafka-go leaves the rest of an error
// response unread on it).
func (p *PartitionReader) outOfRange(ctx context.Context) error {
	p.drop()
	first, next, err := p.bounds(ctx)
	switch {
	case errors.Is(err, kafka.UnknownTopicOrPartition):
		return callerError{fmt.Errorf("fetch %s[%d] at %d: %w: %v", p.topic, p.partition, p.next, ErrLogTruncated, err)}
	case err != nil:
		return err
	case next < p.next:
		return callerError{fmt.Errorf("fetch %s[%d] at %d: the partition ends at %d: %w", p.topic, p.partition, p.next, next, ErrLogTruncated)}
	case p.next < first:
		p.next = first
	}
	return nil
}

// bounds is the partition's first offset and end, from the admin client
// (made on first use).
func (p *PartitionReader) bounds(ctx context.Context) (first, next int64, err error) {
	if p.admin == nil {
		a, err := NewClient(p.cfg)
		if err != nil {
			return 0, 0, err
		}
		p.admin = a
	}
	f, n, err := p.admin.Offsets(ctx, p.topic, p.partition+1)
	if err != nil {
		return 0, 0, err
	}
	return f[p.partition], n[p.partition], nil
}

// dial connects to the partition's leader through the next broker of
// cfg.Brokers, and resolves FirstOffset or LastOffset on the first one.
func (p *PartitionReader) dial(ctx context.Context) error {
	broker := p.cfg.Brokers[p.dials%len(p.cfg.Brokers)]
	p.dials++
	// kafka-go's partition lookup waits as long as its context for a
	// topic the broker does not know: bounded, so that the idle check
	// gets its turn when the topic is gone.
	dctx, cancel := context.WithTimeout(ctx, min(readTimeout, idleCheck))
	defer cancel()
	c, err := p.dialer.DialLeader(dctx, "tcp", broker, p.topic, p.partition)
	if err != nil {
		return err
	}
	if p.next < 0 {
		_ = c.SetDeadline(time.Now().Add(readTimeout))
		first, last, err := c.ReadOffsets()
		_ = c.SetDeadline(time.Time{})
		if err != nil {
			c.Close()
			return err
		}
		if p.next == kafka.FirstOffset {
			p.next = first
		} else {
			p.next = last
		}
	}
	p.conn = c
	return nil
}

// drop closes the connection; the next fetch redials.
func (p *PartitionReader) drop() {
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
}

// reaches checks that the partition still reaches the reader's position.
func (p *PartitionReader) reaches(ctx context.Context) error {
	if p.next < 0 {
		return nil // FirstOffset or LastOffset: no position to check
	}
	_, next, err := p.bounds(ctx)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, kafka.UnknownTopicOrPartition):
		return fmt.Errorf("fetch %s[%d] at %d: %w: %v", p.topic, p.partition, p.next, ErrLogTruncated, err)
	case err != nil:
		return nil // the fetches report connection trouble themselves
	case next < p.next:
		return fmt.Errorf("fetch %s[%d] at %d: the partition ends at %d: %w", p.topic, p.partition, p.next, next, ErrLogTruncated)
	}
	return nil
}

// Close closes the reader's connections; Fetch then returns io.EOF.
func (p *PartitionReader) Close() error {
	p.closed = true
	if p.admin != nil {
		p.admin.Close()
		p.admin = nil
	}
	var err error
	if p.conn != nil {
		err = p.conn.Close()
		p.conn = nil
	}
	return err
}
