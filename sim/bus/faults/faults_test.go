package faults_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/faults"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/scenario"
)

// run runs quickstart in 100 ms epochs (many epochs, so faults land all
// through the run) on an embedded broker with cfg injected, and returns
// the result and what was injected.
func runWith(t *testing.T, payments int64, cfg faults.Config) (*run.Result, faults.Report) {
	t.Helper()
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments, s.Duration, s.Partitions, s.Epoch = payments, "", 4, "100ms"
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	table, pol, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		t.Fatal(err)
	}
	var in *faults.Injector
	o := run.Options{Scenario: sc, Policy: table, PolicyName: pol.Name, Partitions: 4, Fresh: true}
	o.OnBroker = func(b *embedded.Broker) error {
		in, err = faults.Inject(b, cfg, faults.Options{Logf: t.Logf})
		return err
	}
	o.OnEngine = func(e *engine.Engine) {
		// Restart once the payments flow, as run's hook does.
		go func() {
			for e.Resolved() == 0 {
				time.Sleep(time.Millisecond)
			}
			in.Arm()
		}()
	}
	res, err := run.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	in.Stop()
	return res, in.Report()
}

func checkSame(t *testing.T, got, want *run.Result) {
	t.Helper()
	g, w := got.Summary, want.Summary
	if !g.Invariants.OK() {
		t.Fatalf("invariants under faults: %+v", g.Invariants)
	}
	if g.Payments.Attempted != w.Payments.Attempted || g.Payments.Succeeded != w.Payments.Succeeded {
		t.Fatalf("payments under faults %+v, without %+v", g.Payments, w.Payments)
	}
	if g.Events.Digest != w.Events.Digest {
		t.Fatalf("digest under faults %s, without %s", g.Events.Digest, w.Events.Digest)
	}
}

// TestErrorResponses: 5% of produce and of fetch requests fail with a
// retriable error. The run retries through them: same digest, every
// invariant, and the retries show in the summary.
func TestErrorResponses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine twice")
	}
	want, _ := runWith(t, 20_000, faults.Config{})
	got, rep := runWith(t, 20_000, faults.Config{ProduceErrorRate: 0.05, FetchErrorRate: 0.05, CommitErrorRate: 0.05, Seed: 1})
	checkSame(t, got, want)
	if rep.ProduceErrors == 0 || rep.FetchErrors == 0 {
		t.Fatalf("no faults injected: %+v", rep)
	}
	if got.Summary.Retries == 0 {
		t.Fatalf("summary.retries = 0 after %d produce errors", rep.ProduceErrors)
	}
	t.Logf("injected %+v; summary.retries %d", rep, got.Summary.Retries)
}

// TestLatencyAndRestart: every request delayed, and the broker restarted
// while payments flow. Every connection drops; the run reconnects and
// finishes with the log it would have had.
func TestLatencyAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine twice")
	}
	want, _ := runWith(t, 20_000, faults.Config{})
	got, rep := runWith(t, 20_000, faults.Config{Latency: time.Millisecond, RestartAfter: time.Millisecond})
	checkSame(t, got, want)
	if rep.DelayedRequests == 0 {
		t.Fatalf("no request delayed: %+v", rep)
	}
	// The restart is armed once payments have outcomes and fires 1 ms
	// later; a run can only have finished its processing by then if it
	// resolved everything in one write, which 4 partitions and 100 ms
	// epochs rule out. Skipped would still be a valid outcome, not a bug.
	if rep.Restarts != 1 && !rep.RestartSkipped {
		t.Fatalf("restarts %d, skipped %v, error %q", rep.Restarts, rep.RestartSkipped, rep.RestartError)
	}
	t.Logf("injected %+v; summary.retries %d", rep, got.Summary.Retries)
}

func TestFromScenario(t *testing.T) {
	c, err := faults.FromScenario(scenario.Faults{ProduceErrorRate: 0.1, Latency: "2ms", RestartAfter: "1s"}, 7)
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != 7 || c.Latency != 2*time.Millisecond || c.RestartAfter != time.Second || !c.Enabled() {
		t.Fatalf("FromScenario = %+v", c)
	}
	if (faults.Config{}).Enabled() {
		t.Fatal("an empty config is enabled")
	}
	for _, f := range []scenario.Faults{{ProduceErrorRate: 1}, {FetchErrorRate: -0.1}, {Latency: "soon"}, {RestartAfter: "-1s"}} {
		if _, err := faults.FromScenario(f, 1); err == nil || !strings.Contains(err.Error(), "faults.") {
			t.Errorf("FromScenario(%+v) = %v, want an error naming the key", f, err)
		}
	}
}
