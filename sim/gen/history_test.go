package gen

import (
	"math"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// smallQuickstart is quickstart resized to wallets wallets, for holderDays
// of its consumers' days.
func smallQuickstart(t *testing.T, wallets int64, holderDays float64) *scenario.Compiled {
	t.Helper()
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	if err := scenario.Scale(&s, scenario.Preset{Name: "history", Wallets: wallets, Payments: 1}, false); err != nil {
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
	return sc
}

// TestHistoryCounters: the counters stop at their limits, class I wallets
// that pay as first choice have used up their lifetime allowance (they are
// years old), the year counter of a busy wallet holds about seven months
// of spending (24 July), and a scenario without holder days has no past.
func TestHistoryCounters(t *testing.T) {
	sc := smallQuickstart(t, 20_000, 1)
	p := NewPopulation(sc)
	var first1, spent1, withYear, class2 int
	for i, w := range p.Wallets {
		lim := sim.DefaultLimits[w.Class]
		if w.YearSpent < 0 || w.LifeSpent < 0 || (lim.PerYear > 0 && w.YearSpent > lim.PerYear) || (lim.Lifetime > 0 && w.LifeSpent > lim.Lifetime) ||
			(lim.PerYear == 0 && w.YearSpent != 0) || (lim.Lifetime == 0 && w.LifeSpent != 0) {
			t.Fatalf("wallet %d (%s): year %d life %d outside its limits %+v", i+1, w.Class, w.YearSpent, w.LifeSpent, lim)
		}
		if w.Class == sim.CNClass1 && p.top[i+1] {
			first1++
			if w.LifeSpent >= lim.Lifetime*9/10 {
				spent1++
			}
		}
		if w.Class == sim.CNClass2 && w.Region == sim.CN && (w.Provider == sim.Alipay || w.Provider == sim.Weixin) && p.top[i+1] {
			class2++
			if w.YearSpent > 0 {
				withYear++
			}
		}
	}
	if first1 == 0 || float64(spent1) < 0.9*float64(first1) {
		t.Errorf("%d of %d first-choice class I wallets near their lifetime limit, want at least 90%%", spent1, first1)
	}
	if class2 == 0 || float64(withYear) < 0.95*float64(class2) {
		t.Errorf("%d of %d first-choice class II wallets with spending this year, want at least 95%%", withYear, class2)
	}
	// The free withdrawal quota is used by the past's withdrawals: within
	// [0, quota], and used up by most holders (years of withdrawals), not
	// by all (the youngest wallets).
	var feeWallets, quotaUsedUp int
	for _, w := range p.Wallets {
		if !route.WithdrawalFeeApplies(w.Provider) {
			continue
		}
		if w.QuotaUsed < 0 || w.QuotaUsed > route.WithdrawalQuota {
			t.Fatalf("quota used %d outside [0, %d]", w.QuotaUsed, route.WithdrawalQuota)
		}
		feeWallets++
		if w.QuotaUsed == route.WithdrawalQuota {
			quotaUsedUp++
		}
	}
	if used := float64(quotaUsedUp) / float64(max(feeWallets, 1)); used < 0.7 || used > 0.99 {
		t.Errorf("%.1f%% of %d Weixin and Alipay wallets used up their free withdrawal quota, want 70%% to 99%%", 100*used, feeWallets)
	}
	// Without payments_per_day a holder's day is the civil day: no past.
	s := *sc.Scenario
	s.Population.PaymentsPerDay = 0
	civil, err := scenario.Compile(&s)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range NewPopulation(civil).Wallets {
		if w.YearSpent != 0 || w.LifeSpent != 0 {
			t.Fatalf("civil days: a wallet starts with year %d, life %d spent", w.YearSpent, w.LifeSpent)
		}
	}
}

// TestHistoryRatesSumToTheDay: the first-choice rates of all wallets add
// up to the payments of a holder day, so the past is drawn at the run's
// own rate.
func TestHistoryRatesSumToTheDay(t *testing.T) {
	sc := smallQuickstart(t, 20_000, 1)
	p := NewPopulation(sc)
	h := newHistory(sc, newWarmStart(sc))
	h.setProviders(p, regionMap(sc.Population.Preference))
	sum := 0.0
	for i := range p.Wallets {
		sum += h.firstRate(p, uint32(i+1))
	}
	if math.Abs(sum/h.perDay-1) > 1e-9 {
		t.Fatalf("first-choice rates sum to %.1f payments a holder day, want %.1f", sum, h.perDay)
	}
}

// TestHistoryRateMatchesTheRun: what the past credits a wallet per holder
// day is what the run then has it spend from its balance. Over 6 holder
// days, the first-choice mainland Alipay and Weixin wallets (most of the
// money) spend within 15% of the rate their past was drawn at.
func TestHistoryRateMatchesTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 6 consumer-days of a 20,000-wallet quickstart")
	}
	const days = 6
	sc := smallQuickstart(t, 20_000, days)
	table, _, _, err := scenarios.LoadPolicy(sc.Policy)
	if err != nil {
		t.Fatal(err)
	}
	g := New(sc)
	h := newHistory(sc, newWarmStart(sc))
	h.setProviders(g.Pop, regionMap(sc.Population.Preference))
	m := &ledger.Memory{Routes: table, Parts: 2, Seed: uint64(sc.Seed), Clock: g.Clock}
	if err := m.Run(g); err != nil {
		t.Fatal(err)
	}
	ran := float64(sc.Payments) / sc.Rate * 1000 / float64(sc.DayMS)
	for _, pr := range []sim.Provider{sim.Alipay, sim.Weixin} {
		var want, got float64
		for i, w := range g.Pop.Wallets {
			id := uint64(i + 1)
			// Class II and III wallets have no lifetime limit: their
			// lifetime counter starts at zero and counts the run's spending.
			if w.Region != sim.CN || w.Provider != pr || !g.Pop.top[id] || (w.Class != sim.CNClass2 && w.Class != sim.CNClass3) {
				continue
			}
			want += h.rate(g.Pop, uint32(id)) * h.moment(w)[0] * ran
			got += float64(m.Books[ledger.Partition(id, 2)].Peek(id).LifeSpent)
		}
		if want == 0 || math.Abs(got/want-1) > 0.15 {
			t.Errorf("%s: first-choice wallets spent RMB %.0f from their balances in %.1f holder days; their past was drawn at RMB %.0f", pr, got/100, ran, want/100)
		}
	}
}
