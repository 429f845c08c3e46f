package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/netfault"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/route"
)

// TestCloseBounded: an engine whose write was in flight to a broker that
// stopped answering (responses held by the proxy, nothing closed: a
// paused broker or a network partition) returns from Close at once, while
// the broker still does not answer. kafka-go's Writer.Close waited for
// the batch through every retry (10 attempts of up to 10 s): a worker
// would hold its partitions past the group's rebalance timeout. The
// request the broker had when it stalled is in the log once it answers
// again (the write's caller got an error: it recovers from the log).
func TestCloseBounded(t *testing.T) {
	b, err := embedded.Start(embedded.Config{Partitions: 1, Topics: []string{"slow"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	px, err := netfault.Start("", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	e, err := New(Config{Bus: bus.Config{Brokers: []string{px.Addr()}}, Partitions: 1, Routes: &route.Table{}, Clock: ledger.Clock{Length: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.write(ctx, []kafka.Message{{Topic: "slow", Value: []byte("warm-up")}}); err != nil {
		t.Fatal(err)
	}
	px.Stall()
	sent := px.Produces()
	wctx, wcancel := context.WithCancel(ctx)
	wrote := make(chan error, 1)
	go func() { wrote <- e.write(wctx, []kafka.Message{{Topic: "slow", Value: []byte("in flight")}}) }()
	for px.Produces() == sent {
		time.Sleep(time.Millisecond) // until the produce is at the broker, its answer held
	}
	// The generation ends: the write's context goes.
	wcancel()
	if err := <-wrote; !errors.Is(err, context.Canceled) {
		t.Fatalf("write under a stalled broker: %v, want context.Canceled", err)
	}
	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close after a write to a stalled broker: %v", err)
		}
	case <-time.After(45 * time.Second):
		// The proxy still holds every answer: only the bound can return.
		t.Fatal("Close still waiting for a stalled broker's answer: unbounded")
	}
	px.Resume()
	admin, err := bus.NewClient(bus.Config{Brokers: []string{b.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for {
		_, next, err := admin.Offsets(ctx, "slow", 1)
		if err != nil {
			t.Fatal(err)
		}
		if next[0] >= 2 {
			break // the stalled request landed
		}
		if ctx.Err() != nil {
			t.Fatalf("the stalled request never landed after the broker answered again (log ends at %d)", next[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
