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
