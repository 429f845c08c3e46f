package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/netfault"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/run"
)

// TestExhaustedWriteStopsAndRecovers: an events write that fails through
// every retry (the proxy resets the connection under each of the next 80
// produce requests for the events topic, before the broker sees them)
// stops its processor, which recovers from its checkpoint in the same
// process and finishes the run: nothing dropped, nothing doubled, the
// digest of a fault-free run. A writer that went on after such a failure
// would leave commands without outcomes and wallets with gaps.
func TestExhaustedWriteStopsAndRecovers(t *testing.T) {
	defer engine.SetWriteAttempts(10)()
	b, err := embedded.Start(embedded.Config{DataDir: t.TempDir(), Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	const payments = 20_000
	ref := quickstart(t, payments, 4)
	ref.Bus, ref.Topics, ref.Fresh = bus.Config{Brokers: []string{b.Addr()}}, bus.DefaultTopics("ref"), true
	want, err := run.Run(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}

	px, err := netfault.Start("", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	o := quickstart(t, payments, 4)
	o.Bus, o.Topics, o.Fresh = bus.Config{Brokers: []string{px.Addr()}}, bus.DefaultTopics("dropped"), true
	o.Logf = t.Logf
	px.SetLoseTopic(o.Topics.Events)
	var eng *engine.Engine
	o.OnEngine = func(e *engine.Engine) {
		eng = e
		go func() {
			for e.Resolved() < payments/5 {
				time.Sleep(time.Millisecond)
			}
			// Over 4 partitions, enough to exhaust kafka-go's 10 attempts of some
			// writes, and fewer than the restarts a partition may make in a row
			// (maxRestarts) if they all land on one.
			px.DropTopicRequests(40)
		}()
	}
	res, err := run.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	t.Logf("dropped %d requests, %d restarts, %d retries", px.Dropped(), eng.Restarts(), s.Retries)
	if !s.Invariants.OK() {
		t.Fatalf("invariants: %+v", s.Invariants)
	}
	if s.Events.Digest != want.Summary.Events.Digest || s.Payments.Attempted != payments {
		t.Fatalf("digest %s (%d payments), want %s", s.Events.Digest, s.Payments.Attempted, want.Summary.Events.Digest)
	}
	if eng.Restarts() == 0 {
		t.Fatalf("no processor restarted (%d requests dropped): the test did not test", px.Dropped())
	}
}
