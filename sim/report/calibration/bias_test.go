package calibration

import (
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/scenario"
)

// biased compiles a copy of sc changed by edit: the generator of the
// copy is a generator with a bias, measured against sc's own targets.
func biased(t *testing.T, name string, sc *scenario.Compiled, edit func(s *scenario.Scenario)) *scenario.Compiled {
	t.Helper()
	_, src, err := scenarios.LoadScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Transit.Riders = nil
	s.Amounts = map[string]scenario.Dist{}
	for k, v := range sc.Scenario.Amounts {
		s.Amounts[k] = v
	}
	edit(&s)
	b, err := scenarios.Recompile(src, &s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ridersWithShare sets the riders so operator o's share of rides is
// factor times its default share.
func ridersWithShare(o sim.Operator, factor float64) map[string]float64 {
	tot := 0.0
	for _, op := range sim.Operators() {
		tot += float64(sim.DefaultFares[op].DailyRidersK)
	}
	p0 := float64(sim.DefaultFares[o].DailyRidersK) / tot
	rest := tot - float64(sim.DefaultFares[o].DailyRidersK)
	out := map[string]float64{}
	for _, op := range sim.Operators() {
		out[op.String()] = float64(sim.DefaultFares[op].DailyRidersK)
	}
	p := factor * p0
	out[o.String()] = p * rest / (1 - p)
	return out
}

func row(t *testing.T, rep *Report, kind, q, key string) Row {
	t.Helper()
	for _, r := range rep.Rows {
		if r.Kind == kind && r.Quantity == q && r.Key == key {
			return r
		}
	}
	t.Fatalf("no %s row %s %s", kind, q, key)
	return Row{}
}

func report(t *testing.T, sc *scenario.Compiled, src event.Source) *Report {
	t.Helper()
	rep, err := MeasureWith(sc, src).Report(sc, Config{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// A bias the generator did not mean must come out "off"; the same
// scenario without the bias must not (the control).
func TestBiasIsOff(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a million payments or more per case")
	}
	for _, tc := range []struct {
		name, scale string
		edit        func(s *scenario.Scenario)
		// rows that must be off with the bias and pass without it
		off [][3]string
		// a row whose z must exceed z* (significant) with the bias
		significant [3]string
	}{
		{
			name: "MTR share +5% at medium", scale: "medium",
			edit: func(s *scenario.Scenario) { s.Transit.Riders = ridersWithShare(sim.MTR, 1.05) },
			// +5% sits exactly on ε, so the MTR row alone is a coin toss by
			// design (|p̂−p0| ≤ max(ε·p0, z*·SE)); the operator group, a
			// pure significance test, is not.
			off:         [][3]string{{KindGenerator, OperatorMix, "all"}, {KindSource, OperatorMix, "all"}},
			significant: [3]string{KindGenerator, OperatorShare, "mtr"},
		},
		{
			name: "Star Ferry share +30% at large", scale: "large",
			edit: func(s *scenario.Scenario) { s.Transit.Riders = ridersWithShare(sim.StarFerry, 1.30) },
			off: [][3]string{{KindGenerator, OperatorShare, "star_ferry"}, {KindSource, OperatorShare, "star_ferry"},
				{KindGenerator, OperatorMix, "all"}},
			significant: [3]string{KindGenerator, OperatorShare, "star_ferry"},
		},
		{
			name: "scan median +10% at medium", scale: "medium",
			edit: func(s *scenario.Scenario) {
				d := s.Amounts["scan_mpm"]
				d.Median *= 1.10
				s.Amounts["scan_mpm"] = d
			},
			off:         [][3]string{{KindGenerator, TicketMedian, "scan_mpm"}, {KindGenerator, TicketLogMean, "scan_mpm"}},
			significant: [3]string{KindGenerator, TicketMedian, "scan_mpm"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := compiled(t, "quickstart", tc.scale)
			clean := report(t, sc, gen.New(sc))
			for _, k := range tc.off {
				if r := row(t, clean, k[0], k[1], k[2]); r.Status == StatusOff {
					t.Errorf("without the bias, %s %s %s is already off: %+v", k[0], k[1], k[2], r)
				}
			}
			bad := report(t, sc, gen.New(biased(t, "quickstart", sc, tc.edit)))
			if bad.Pass {
				t.Errorf("a biased generator passes every row")
			}
			for _, k := range tc.off {
				if r := row(t, bad, k[0], k[1], k[2]); r.Status != StatusOff {
					t.Errorf("with the bias, %s %s %s is %s, want off: %+v", k[0], k[1], k[2], r.Status, r)
				}
			}
			s := tc.significant
			if r := row(t, bad, s[0], s[1], s[2]); r.Stat < bad.ZStar && -r.Stat < bad.ZStar {
				t.Errorf("with the bias, %s %s has z = %.2f, below z* = %.2f", s[1], s[2], r.Stat, bad.ZStar)
			}
		})
	}
}

// The acceptance: quickstart at 200,000 payments, seeds 1-20:
// every row passes in at least 19 of them (the generator is unbiased and
// the family-wise false-alarm rate is 1%).
func TestQuickstartTwentySeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 20 x 200,000 payments")
	}
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments = 200_000
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	var seeds []int64
	for i := int64(1); i <= 20; i++ {
		seeds = append(seeds, i)
	}
	rep, err := Seeds(sc, src, seeds, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.AllPassed < 19 {
		for _, r := range rep.Rows {
			if r.Off > 0 {
				t.Logf("%s %s %s: off in %d of %d seeds", r.Kind, r.Quantity, r.Key, r.Off, r.Runs)
			}
		}
		t.Fatalf("every row passed in %d of 20 seeds, want at least 19", rep.AllPassed)
	}
	t.Logf("every row passed in %d of 20 seeds", rep.AllPassed)
}

// At 2,000 payments the small shares cannot resolve 5%: unresolved,
// never off.
func TestSmallRunUnresolvedNotOff(t *testing.T) {
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments = 2000
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	rep := report(t, sc, gen.New(sc))
	if rep.Off != 0 {
		t.Errorf("%d rows off at 2,000 payments", rep.Off)
	}
	if r := row(t, rep, KindGenerator, OperatorShare, "star_ferry"); r.Status != StatusUnresolved {
		t.Errorf("Star Ferry at 2,000 payments: %s, want unresolved", r.Status)
	}
	if rep.Unresolved == 0 {
		t.Error("nothing unresolved at 2,000 payments")
	}
}
