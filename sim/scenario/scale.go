package scenario

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Preset is a --scale size: the wallets a scenario is resized to and the
// payments it then generates.
type Preset struct {
	Name    string
	Wallets int64
	// Payments: ten per wallet at small and medium sizes, so every
	// calibrated quantity has thousands of samples (the 5% check at medium
	// needs about 10k even for a 1% share); fewer per wallet above, so a
	// large or xlarge run stays within minutes and a few GiB. Each is a
	// round figure, not derived, so reports are easy to compare.
	Payments int64
}

// Presets are the sizes --scale accepts, smallest first.
var Presets = []Preset{
	{Name: "small", Wallets: 1_000, Payments: 20_000},
	{Name: "medium", Wallets: 100_000, Payments: 1_000_000},
	{Name: "large", Wallets: 1_000_000, Payments: 5_000_000},
	{Name: "xlarge", Wallets: 10_000_000, Payments: 20_000_000},
}

// ParsePreset finds a preset by name.
func ParsePreset(name string) (Preset, error) {
	var names []string
	for _, p := range Presets {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Preset{}, fmt.Errorf("unknown scale %q (want one of %s)", name, strings.Join(names, ", "))
}

// Scale resizes s in place to preset p. Consumers, wallets and merchants
// all scale by the same factor, so every share the scenario states (wallet
// holdings, merchants per consumer) stays what it was; wallets are
// apportioned by largest remainder so they total exactly p.Wallets, and a
// provider the scenario has keeps at least one wallet so its preference
// share still has someone to draw. The payment count becomes p.Payments
// unless keepPayments (the user gave --payments): a payments scenario sets
// Payments, a duration scenario scales Rate so its simulated day (and its
// rush hours) stay the same length and only get denser.
func Scale(s *Scenario, p Preset, keepPayments bool) error {
	if p.Wallets <= 0 || p.Payments <= 0 {
		return fmt.Errorf("scale %q: wallets and payments must be positive", p.Name)
	}
	type bucket struct {
		region, provider string
		quota            float64
		n                int64
	}
	var buckets []*bucket
	total := int64(0)
	for _, r := range sortedKeys(s.Population.Wallets) {
		for _, pr := range sortedKeys(s.Population.Wallets[r]) {
			if n := s.Population.Wallets[r][pr]; n > 0 {
				buckets = append(buckets, &bucket{region: r, provider: pr, n: n})
				total += n
			}
		}
	}
	if total == 0 {
		return fmt.Errorf("population.wallets: no wallets to scale")
	}
	f := float64(p.Wallets) / float64(total)
	assigned := int64(0)
	for _, b := range buckets {
		b.quota = float64(b.n) * f
		b.n = int64(math.Floor(b.quota))
		assigned += b.n
	}
	// Largest remainder, ties in key order: deterministic and exact.
	order := make([]*bucket, len(buckets))
	copy(order, buckets)
	sort.SliceStable(order, func(i, j int) bool {
		return order[i].quota-math.Floor(order[i].quota) > order[j].quota-math.Floor(order[j].quota)
	})
	for i := 0; assigned < p.Wallets; i++ {
		order[i%len(order)].n++
		assigned++
	}
	// A provider keeps at least one wallet; the largest bucket pays for it.
	for _, b := range buckets {
		if b.n == 0 {
			b.n = 1
			biggest := buckets[0]
			for _, c := range buckets {
				if c.n > biggest.n {
					biggest = c
				}
			}
			if biggest.n > 1 {
				biggest.n--
			}
		}
	}
	wallets := map[string]map[string]int64{}
	most := map[string]int64{}
	for _, b := range buckets {
		if wallets[b.region] == nil {
			wallets[b.region] = map[string]int64{}
		}
		wallets[b.region][b.provider] = b.n
		most[b.region] = max(most[b.region], b.n)
	}
	consumers := map[string]int64{}
	for _, r := range sortedKeys(s.Population.Consumers) {
		// A consumer holds at most one wallet per provider: never fewer
		// consumers than the region's biggest provider has wallets.
		consumers[r] = max(int64(math.Round(float64(s.Population.Consumers[r])*f)), most[r])
	}
	for r, n := range most {
		consumers[r] = max(consumers[r], n)
	}
	merchants := map[string]int64{}
	for _, r := range sortedKeys(s.Merchants.Count) {
		if n := s.Merchants.Count[r]; n > 0 {
			merchants[r] = max(int64(math.Round(float64(n)*f)), 1)
		} else {
			merchants[r] = n
		}
	}
	s.Population.Wallets, s.Population.Consumers, s.Merchants.Count = wallets, consumers, merchants
	if keepPayments {
		return nil
	}
	if s.Duration == "" {
		s.Payments = p.Payments
		return nil
	}
	planned, err := PlannedPayments(s)
	if err != nil {
		return err
	}
	if !(planned > 0) {
		return fmt.Errorf("profile: the rate is zero over the whole duration, nothing to scale")
	}
	s.Rate *= float64(p.Payments) / planned
	return nil
}

// PlannedPayments is the expected payment count of a duration scenario:
// Rate times the integral of the profile's multiplier over Duration. As
// in the generator, outside every phase the multiplier is 1 and where
// phases overlap the later one wins.
func PlannedPayments(s *Scenario) (float64, error) {
	d, err := time.ParseDuration(s.Duration)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("duration: %q is not a positive duration", s.Duration)
	}
	type span struct {
		from, to time.Duration
		m        float64
	}
	cuts := []time.Duration{0, d}
	var spans []span
	for i, ph := range s.Profile {
		from, err1 := time.ParseDuration(ph.From)
		to, err2 := time.ParseDuration(ph.To)
		if err1 != nil || err2 != nil || from < 0 || to <= from {
			return 0, fmt.Errorf("profile[%d]: from/to must be durations with from < to", i)
		}
		spans = append(spans, span{from, to, ph.Multiplier})
		cuts = append(cuts, min(max(from, 0), d), min(to, d))
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i] < cuts[j] })
	sum := 0.0
	for i := 1; i < len(cuts); i++ {
		lo, hi := cuts[i-1], cuts[i]
		if hi <= lo {
			continue
		}
		m := 1.0
		for _, sp := range spans {
			if lo >= sp.from && lo < sp.to {
				m = sp.m
			}
		}
		sum += m * (hi - lo).Seconds()
	}
	return s.Rate * sum, nil
}
