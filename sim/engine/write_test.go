package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/netfault"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/route"
)

// TestWriteKeepsPartitionOrder: a write of several batches of one
// partition whose first batch is cut off (the connection reset before the
// broker saw it) and not retried by kafka-go still reaches the log in
// order. Without one batch per partition per WriteMessages call, kafka-go
// sends the second batch while the first failed, and the resend of the
// first lands after it: a wallet's events out of sequence.
func TestWriteKeepsPartitionOrder(t *testing.T) {
	b, err := embedded.Start(embedded.Config{Partitions: 1, Topics: []string{"ord"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	px, err := netfault.Start("", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	px.SetLoseTopic("ord")
	e, err := New(Config{Bus: bus.Config{Brokers: []string{px.Addr()}}, Partitions: 1, Routes: &route.Table{}, Clock: ledger.Clock{Length: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.w.MaxAttempts = 1 // the batch fails at once, as after kafka-go's last retry
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.write(ctx, []kafka.Message{{Topic: "ord", Value: []byte("warm-up")}}); err != nil {
		t.Fatal(err)
	}
	n := 3*e.w.BatchSize + 10
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Topic: "ord", Value: fmt.Appendf(nil, "%08d", i)}
	}
	px.DropTopicRequests(1)
	if err := e.write(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	if px.Dropped() != 1 {
		t.Fatalf("dropped %d requests, want 1", px.Dropped())
	}
	first, next, err := e.admin.Offsets(ctx, "ord", 1)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	err = bus.Scan(ctx, e.cfg.Bus, "ord", 0, first[0]+1, next[0], func(off int64, v []byte) error {
		if got := string(v); got != fmt.Sprintf("%08d", want) {
			return fmt.Errorf("offset %d holds %s, want %08d: out of order", off, got, want)
		}
		want++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want != n {
		t.Fatalf("%d records in the log, want %d", want, n)
	}
}

func TestOneBatchEach(t *testing.T) {
	m := func(topic string, p, size int) kafka.Message {
		return kafka.Message{Topic: topic, Partition: p, Value: make([]byte, size)}
	}
	for _, c := range []struct {
		name  string
		msgs  []kafka.Message
		count int
		bytes int64
		want  int
	}{
		{"count", []kafka.Message{m("a", 0, 1), m("a", 0, 1), m("a", 0, 1)}, 2, 1 << 20, 2},
		{"other partitions do not count", []kafka.Message{m("a", 0, 1), m("a", 1, 1), m("b", 0, 1), m("a", 0, 1)}, 1, 1 << 20, 3},
		{"bytes", []kafka.Message{m("a", 0, 500), m("a", 0, 500)}, 100, 800, 1},
		{"a lone big record", []kafka.Message{m("a", 0, 5000)}, 100, 800, 1},
		{"all fit", []kafka.Message{m("a", 0, 10), m("a", 0, 10)}, 100, 800, 2},
	} {
		if got := oneBatchEach(c.msgs, c.count, c.bytes); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

// TestWriteRidesThroughUnsentFailures: a fresh writer whose first
// metadata request has its connection reset (kafka-go's transport then
// answers every write with that error, before sending anything, until
// its next metadata refresh, up to 6 s later) still writes: an error
// from before anything was sent is retried like any request, not counted
// against the attempts that bound resending a batch (about 0.6 s of
// them). Without that the write ends in ErrWriteExhausted unless the
// refresh happens to come within 0.6 s; five fresh writers make that
// chance negligible.
func TestWriteRidesThroughUnsentFailures(t *testing.T) {
	b, err := embedded.Start(embedded.Config{Partitions: 1, Topics: []string{"fresh"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	px, err := netfault.Start("", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const writers = 5
	for i := 0; i < writers; i++ {
		e, err := New(Config{Bus: bus.Config{Brokers: []string{px.Addr()}}, Partitions: 1, Routes: &route.Table{}, Clock: ledger.Clock{Length: 1}})
		if err != nil {
			t.Fatal(err)
		}
		px.DropMetadataRequests(1)
		if err := e.write(ctx, []kafka.Message{{Topic: "fresh", Value: fmt.Appendf(nil, "%d", i)}}); err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
		e.Close()
	}
	if px.Dropped() != writers {
		t.Fatalf("%d metadata requests cut off, want %d: the test did not test", px.Dropped(), writers)
	}
	admin, err := bus.NewClient(bus.Config{Brokers: []string{b.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	first, next, err := admin.Offsets(ctx, "fresh", 1)
	if err != nil {
		t.Fatal(err)
	}
	if n := next[0] - first[0]; n != writers {
		t.Fatalf("%d records in the log, want %d", n, writers)
	}
}
