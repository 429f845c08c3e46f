// Package simtest is the conformance suite every way of running the model
// must pass (after hallgren/eventsourcing's shared store suite): the
// in-memory ledger, the engine on Kafka and a replay of the engine's log
// must all yield the same events (log digest) and the same wallets (state
// digest) for the same scenario, seed and policy, with every invariant
// held. An implementation is a Runner; its test calls Run.
package simtest

import (
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/engine/replay"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Case is one scenario under one policy.
type Case struct {
	Name       string
	Scenario   *scenario.Compiled
	Policy     *route.Table
	PolicyName string
	Partitions int
}

// Outcome is what an implementation made of a case. StateDigest may be
// empty where an implementation keeps no wallets it can hash.
type Outcome struct {
	Digest      string
	StateDigest string
	Attempted   int64
	Invariants  audit.Invariants
}

// Runner runs one case to completion.
type Runner func(t testing.TB, c Case) Outcome

// caseSpec is a built-in scenario cut to a size a unit test affords, with
// the traffic mix that stresses a different path: domestic scans and
// transit, cross-border FX and sagas, red packets at a peak.
var caseSpec = []struct {
	scenario, policy string
	payments, seed   int64
	partitions       int
}{
	{"quickstart", "unionpay-open-2024", 6_000, 7, 4},
	{"quickstart", "walled-garden", 6_000, 7, 3},
	{"gba-cross-border", "", 4_000, 3, 4},
	{"cny-red-packets", "", 4_000, 5, 2},
}

// Cases loads the suite's cases.
func Cases(t testing.TB) []Case {
	t.Helper()
	var out []Case
	for _, cs := range caseSpec {
		sc, src, err := scenarios.LoadScenario(cs.scenario)
		if err != nil {
			t.Fatal(err)
		}
		s := *sc.Scenario
		s.Payments, s.Duration, s.Seed = cs.payments, "", cs.seed
		if cs.policy != "" {
			s.Policy = cs.policy
		}
		if s.Policy == "" {
			s.Policy = scenarios.DefaultPolicy
		}
		if sc, err = scenarios.Recompile(src, &s); err != nil {
			t.Fatal(err)
		}
		table, pol, _, err := scenarios.LoadPolicy(s.Policy)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Case{Name: cs.scenario + "/" + pol.Name, Scenario: sc, Policy: table, PolicyName: pol.Name, Partitions: cs.partitions})
	}
	return out
}

// Reference runs c in memory: the ledger's books fed by the generator in
// the engine's epoch order, every event audited as the engine's log would be.
func Reference(t testing.TB, c Case) Outcome {
	t.Helper()
	g := gen.New(c.Scenario)
	a := audit.New()
	var raw []byte
	m := &ledger.Memory{Routes: c.Policy, Parts: c.Partitions, Seed: uint64(c.Scenario.Seed), Clock: g.Clock,
		OnCommand: func(cmd *event.Command) { a.Command(cmd) },
		OnEvent: func(e *event.Event) {
			raw = event.AppendEvent(raw[:0], e)
			a.Event(e, raw)
		}}
	if err := m.Run(g); err != nil {
		t.Fatalf("%s: memory run: %v", c.Name, err)
	}
	r := a.Finish()
	books := map[int]*ledger.Book{}
	for p, b := range m.Books {
		books[p] = b
	}
	return Outcome{Digest: r.Digest, StateDigest: replay.StateDigest(books, c.Partitions), Attempted: r.Attempted, Invariants: r.Invariants}
}

// Run checks an implementation against the reference on every case.
func Run(t *testing.T, run Runner) {
	for _, c := range Cases(t) {
		t.Run(c.Name, func(t *testing.T) {
			want := Reference(t, c)
			if !want.Invariants.OK() {
				t.Fatalf("reference broke invariants: %v", want.Invariants.Violations())
			}
			got := run(t, c)
			if !got.Invariants.OK() {
				t.Errorf("invariants: %v", got.Invariants.Violations())
			}
			if got.Attempted != c.Scenario.Payments {
				t.Errorf("attempted %d payments, the scenario has %d", got.Attempted, c.Scenario.Payments)
			}
			if got.Digest != want.Digest {
				t.Errorf("log digest %s, the in-memory reference's %s", got.Digest, want.Digest)
			}
			if got.StateDigest != "" && got.StateDigest != want.StateDigest {
				t.Errorf("state digest %s, the in-memory reference's %s", got.StateDigest, want.StateDigest)
			}
		})
	}
}
