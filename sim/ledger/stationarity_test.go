package ledger_test

import (
	"math"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// quickstartFor is quickstart resized to wallets wallets for holderDays of
// its consumers' days, with its policy's route table.
func quickstartFor(t *testing.T, wallets int64, holderDays float64) (*scenario.Compiled, *route.Table) {
	t.Helper()
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	if err := scenario.Scale(&s, scenario.Preset{Name: "stationarity", Wallets: wallets, Payments: 1}, false); err != nil {
		t.Fatal(err)
	}
	var consumers int64
	for _, c := range s.Population.Consumers {
		consumers += c
	}
	s.Payments, s.Duration = int64(holderDays*float64(consumers)*s.Population.PaymentsPerDay), ""
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	table, _, _, err := scenarios.LoadPolicy(sc.Policy)
	if err != nil {
		t.Fatal(err)
	}
	return sc, table
}

// mixOf runs quickstart resized to wallets wallets for holderDays of its
// consumers' days and returns the success rate and each decline reason's
// count, with the number of payments.
func mixOf(t *testing.T, wallets int64, holderDays float64) (success float64, declines map[sim.Reason]int64, n int64) {
	t.Helper()
	sc, table := quickstartFor(t, wallets, holderDays)
	g := gen.New(sc)
	declines = map[sim.Reason]int64{}
	var ok int64
	m := &ledger.Memory{Routes: table, Parts: 2, Seed: uint64(sc.Seed), Clock: g.Clock,
		OnEvent: func(e *event.Event) {
			if !e.Type.IsOutcome() || !e.Kind.IsPayment() {
				return
			}
			n++
			if e.Type.Succeeded() {
				ok++
			} else {
				declines[e.Reason]++
			}
		}}
	if err := m.Run(g); err != nil {
		t.Fatal(err)
	}
	if n != sc.Payments {
		t.Fatalf("%d outcomes for %d payments", n, sc.Payments)
	}
	return float64(ok) / float64(n), declines, n
}

// TestStationaryDeclineMix is the stationarity must-show of issue 13 at a
// small scale: a run of 2 consumer-days and one of 60 (more than the ~43
// of 10M quickstart payments) over the same population have success rates
// within a percentage point and each decline reason's share within 20%
// relative (or within the sampling error, for a reason too rare to resolve
// 20%). Started at zero, the yearly and lifetime limit counters bind more
// the longer the run: limit_exceeded rose by half.
func TestStationaryDeclineMix(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 60 consumer-days of a 6,000-wallet quickstart")
	}
	const wallets = 6_000
	s0, d0, n0 := mixOf(t, wallets, 2)
	s1, d1, n1 := mixOf(t, wallets, 60)
	t.Logf("success %.2f%% (%d payments) vs %.2f%% (%d payments)", 100*s0, n0, 100*s1, n1)
	if math.Abs(s1-s0) > 0.01 {
		t.Errorf("success rate %.2f%% after 2 consumer-days, %.2f%% after 60: more than 1 point apart", 100*s0, 100*s1)
	}
	for _, r := range sim.Reasons() {
		a, b := d0[r], d1[r]
		if a == 0 && b == 0 {
			continue
		}
		p0, p1 := float64(a)/float64(n0), float64(b)/float64(n1)
		if float64(max(a, 1)) < 10 || p1*float64(n0) < 10 {
			// Fewer than ten in the short run (or expected there): no
			// share of it can be told from another (GUIDE: unresolved).
			t.Logf("%-22s %7d %8d  unresolved", r, a, b)
			continue
		}
		// Relative standard error of the ratio p1/p0 (Poisson counts); a
		// 20% tolerance is only asked of reasons whose counts resolve it.
		se := math.Sqrt(1/float64(max(a, 1)) + 1/float64(max(b, 1)))
		tol := max(0.20, 3.5*se)
		rel := p1/p0 - 1
		t.Logf("%-22s %7d %.4f%%  %8d %.4f%%  %+6.1f%% (tolerance %.0f%%)", r, a, 100*p0, b, 100*p1, 100*rel, 100*tol)
		if math.Abs(rel) > tol {
			t.Errorf("%s: %.4f%% of payments after 2 consumer-days, %.4f%% after 60 (%+.1f%%, tolerance %.0f%%)", r, 100*p0, 100*p1, 100*rel, 100*tol)
		}
	}
}

// TestSecondWalletsStationary: a wallet that is not its holder's first
// choice receives transfers like any other but pays only as a fallback;
// unless rebalancing top-ups reach it too (sim/gen rebalance.go) its balance
// climbs for the whole run and credits bounce at its balance cap ever more
// often (balance_cap_exceeded drifting up with run length, issue 13). Over
// 60 consumer-days of a 20,000-wallet quickstart the share of such wallets
// with a balance cap that sit above their float must not rise by more than
// a fifth from what it was two days in (without the fix: 5% to 19%).
//
// Nor may they open much fuller than the run leaves them: the warm start
// once counted every transfer aimed at a second wallet as received, while
// about one in five is stopped by the payer's balance or limits (and more
// by the policy), so 63% opened above their float against 44% at the end,
// and balance_cap_exceeded ran high early in a run. Counting only what the
// payers' burn-in lets go (warmStart.sentShares) brings it to 52% against
// 41%; the rest is cross transfers the policy declines, which the
// population, built before any policy, cannot know (docs/ECONOMICS.md).
func TestSecondWalletsStationary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 60 consumer-days of a 20,000-wallet quickstart")
	}
	const days = 60
	sc, table := quickstartFor(t, 20_000, days)
	g := gen.New(sc)
	second := func(id uint64) bool {
		return uint64(g.Pop.Holdings[g.Pop.Wallets[id-1].Consumer][0]) != id
	}
	var m *ledger.Memory
	// above is the share of capped second wallets above their float.
	above := func() (float64, int) {
		n, up := 0, 0
		for _, b := range m.Books {
			b.Each(func(id uint64, w *ledger.Wallet) {
				if sim.DefaultLimits[w.Class].BalanceCap == 0 || w.Target == 0 || !second(id) {
					return
				}
				n++
				if w.Balance > w.Target {
					up++
				}
			})
		}
		return float64(up) / float64(max(n, 1)), n
	}
	early := -1.0
	m = &ledger.Memory{Routes: table, Parts: 2, Seed: uint64(sc.Seed), Clock: g.Clock,
		OnEvent: func(e *event.Event) {
			if early < 0 && int64(e.Epoch)*sc.EpochMS >= 2*sc.DayMS {
				early, _ = above()
			}
		}}
	if err := m.Run(g); err != nil {
		t.Fatal(err)
	}
	late, n := above()
	t.Logf("%d capped second wallets: %.1f%% above their float after 2 consumer-days, %.1f%% after %d", n, 100*early, 100*late, days)
	if n < 300 {
		t.Fatalf("only %d capped second wallets: too few to tell", n)
	}
	if late > 1.2*early+0.01 {
		t.Errorf("capped second wallets above their float: %.1f%% after 2 consumer-days, %.1f%% after %d: they fill up", 100*early, 100*late, days)
	}
	if early > 1.35*late {
		t.Errorf("capped second wallets above their float: %.1f%% after 2 consumer-days, %.1f%% after %d: they open too full", 100*early, 100*late, days)
	}
}
