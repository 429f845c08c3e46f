package run_test

import (
	"context"
	"testing"

	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/simtest"
)

// TestEngineConformance: the engine on the embedded Kafka broker yields
// the in-memory reference's events and wallets, case by case.
func TestEngineConformance(t *testing.T) {
	simtest.Run(t, func(t testing.TB, c simtest.Case) simtest.Outcome {
		res, err := run.Run(context.Background(), run.Options{
			Scenario: c.Scenario, Policy: c.Policy, PolicyName: c.PolicyName,
			Partitions: c.Partitions, Topics: bus.DefaultTopics("conformance"), Fresh: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summary
		return simtest.Outcome{Digest: s.Events.Digest, StateDigest: s.Events.StateDigest, Attempted: s.Payments.Attempted, Invariants: s.Invariants}
	})
}
