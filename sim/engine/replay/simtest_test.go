package replay_test

import (
	"context"
	"testing"

	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine/replay"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/simtest"
)

// TestReplayConformance: rebuilding the engine's log from Kafka alone
// yields the in-memory reference's events and wallets. The verdict is the
// run's audit; the digests are the replay's own.
func TestReplayConformance(t *testing.T) {
	simtest.Run(t, func(t testing.TB, c simtest.Case) simtest.Outcome {
		b, err := embedded.Start(embedded.Config{Partitions: c.Partitions})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		bc := bus.Config{Brokers: []string{b.Addr()}}
		res, err := run.Run(context.Background(), run.Options{
			Scenario: c.Scenario, Policy: c.Policy, PolicyName: c.PolicyName, Bus: bc, Partitions: c.Partitions, Fresh: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := replay.Rebuild(context.Background(), replay.Options{Bus: bc})
		if err != nil {
			t.Fatal(err)
		}
		inv := res.Summary.Invariants
		if r.Violations != 0 {
			inv.BalanceMismatches += r.Violations
		}
		return simtest.Outcome{Digest: r.Digest, StateDigest: r.StateDigest, Attempted: res.Summary.Payments.Attempted, Invariants: inv}
	})
}
