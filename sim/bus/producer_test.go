package bus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/netfault"
)

// proxied starts a broker with topic, a netfault proxy in front of it that
// can cut that topic's requests, and a producer through the proxy that has
// written one warm-up record to partition 0.
func proxied(t *testing.T, topic string, parts int, pc bus.ProducerConfig) (*netfault.Proxy, bus.Config, *bus.Producer, context.Context) {
	t.Helper()
	b, err := embedded.Start(embedded.Config{Partitions: parts, Topics: []string{topic}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	px, err := netfault.Start("", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	px.SetLoseTopic(topic)
	cfg := bus.Config{Brokers: []string{px.Addr()}}
	p, err := bus.NewProducer(cfg, pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	if err := p.Write(ctx, []kafka.Message{{Topic: topic, Value: []byte("warm-up")}}); err != nil {
		t.Fatal(err)
	}
	return px, cfg, p, ctx
}

// TestProducerKeepsPartitionOrder: a write of several requests to one
// partition whose first request is cut off (the connection reset before
// the broker saw it) reaches the log in order, once: the producer resends
// a request until it lands before it sends the next. A producer that sent
// the next while the first was failing (kafka-go's Writer does, after a
// batch's last retry) lands the resend after it: a wallet's events out of
// sequence.
func TestProducerKeepsPartitionOrder(t *testing.T) {
	px, cfg, p, ctx := proxied(t, "ord", 2, bus.ProducerConfig{BatchSize: 100, Attempts: 3, BackoffMin: time.Millisecond})
	const n = 310 // four requests of partition 0
	var msgs []kafka.Message
	for i := 0; i < n; i++ {
		msgs = append(msgs, kafka.Message{Topic: "ord", Partition: 0, Value: fmt.Appendf(nil, "%08d", i)})
		msgs = append(msgs, kafka.Message{Topic: "ord", Partition: 1, Value: fmt.Appendf(nil, "%08d", i)})
	}
	px.DropTopicRequests(1)
	if err := p.Write(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if px.Dropped() != 1 {
		t.Fatalf("dropped %d requests, want 1", px.Dropped())
	}
	if p.Retries() != 1 {
		t.Fatalf("%d retries, want 1", p.Retries())
	}
	cl, err := bus.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	first, next, err := cl.Offsets(ctx, "ord", 2)
	if err != nil {
		t.Fatal(err)
	}
	for part := 0; part < 2; part++ {
		from := first[part]
		if part == 0 {
			from++ // the warm-up
		}
		want := 0
		err = bus.Scan(ctx, cfg, "ord", part, from, next[part], func(off int64, v []byte) error {
			if got := string(v); got != fmt.Sprintf("%08d", want) {
				return fmt.Errorf("partition %d offset %d holds %s, want %08d: out of order", part, off, got, want)
			}
			want++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want != n {
			t.Fatalf("partition %d: %d records in the log, want %d", part, want, n)
		}
	}
}

// TestProducerExhausted: a request that fails every attempt ends the
// write with ErrWriteExhausted, and nothing of that partition after it is
// sent (the caller recovers from the log; a later record must not land
// before the failed one).
func TestProducerExhausted(t *testing.T) {
	px, cfg, p, ctx := proxied(t, "ex", 1, bus.ProducerConfig{BatchSize: 10, Attempts: 2, BackoffMin: time.Millisecond})
	msgs := make([]kafka.Message, 30)
	for i := range msgs {
		msgs[i] = kafka.Message{Topic: "ex", Value: fmt.Appendf(nil, "%d", i)}
	}
	px.DropTopicRequests(2)
	err := p.Write(ctx, msgs)
	if !errors.Is(err, bus.ErrWriteExhausted) {
		t.Fatalf("write: %v, want ErrWriteExhausted", err)
	}
	cl, err := bus.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, next, err := cl.Offsets(ctx, "ex", 1)
	if err != nil {
		t.Fatal(err)
	}
	if next[0] != 1 {
		t.Fatalf("%d records in the log, want only the warm-up: later requests went out after the failed one", next[0])
	}
}

func TestBatchLen(t *testing.T) {
	m := func(size int) kafka.Message { return kafka.Message{Value: make([]byte, size)} }
	for _, c := range []struct {
		name  string
		msgs  []kafka.Message
		count int
		bytes int64
		want  int
	}{
		{"count", []kafka.Message{m(1), m(1), m(1)}, 2, 1 << 20, 2},
		{"bytes", []kafka.Message{m(500), m(500)}, 100, 800, 1},
		{"a lone big record", []kafka.Message{m(5000)}, 100, 800, 1},
		{"all fit", []kafka.Message{m(10), m(10)}, 100, 800, 2},
	} {
		if got := bus.BatchLen(c.msgs, c.count, c.bytes); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// TestProducerCancelledWritesNothing: a write whose context is already
// cancelled returns the context's error and lands nothing (kafka-go's
// client would send the request anyway; a stopped run's half-made epoch
// then reached the log).
func TestProducerCancelledWritesNothing(t *testing.T) {
	b, err := embedded.Start(embedded.Config{Partitions: 1, Topics: []string{"cx"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cfg := bus.Config{Brokers: []string{b.Addr()}}
	p, err := bus.NewProducer(cfg, bus.ProducerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// A connection open already, as in a run.
	if err := p.Write(context.Background(), []kafka.Message{{Topic: "cx", Value: []byte("warm-up")}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Write(ctx, []kafka.Message{{Topic: "cx", Value: []byte("late")}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("write: %v, want context.Canceled", err)
	}
	cl, err := bus.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, next, err := cl.Offsets(context.Background(), "cx", 1)
	if err != nil {
		t.Fatal(err)
	}
	if next[0] != 1 {
		t.Fatalf("%d records in the log after a cancelled write, want the warm-up only", next[0])
	}
}
