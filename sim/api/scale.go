package api

import (
	"fmt"
	"maps"
	"math"

	"github.com/walletsim/walletsim/sim/scenario"
)

// ScalePopulation multiplies a scenario's consumers, wallets and merchants
// by f (0 < f <= 1 shrinks it: a quick serve for tests and laptops). Counts
// are rounded up, so nothing that existed disappears entirely. The maps are
// copied: the caller's scenario is not changed.
func ScalePopulation(s *scenario.Scenario, f float64) error {
	if !(f > 0) || f > 100 {
		return fmt.Errorf("population scale %v: want a factor above 0 and at most 100", f)
	}
	up := func(n int64) int64 {
		if n == 0 {
			return 0
		}
		return max(1, int64(math.Ceil(float64(n)*f)))
	}
	p := &s.Population
	cons := maps.Clone(p.Consumers)
	for k, v := range cons {
		cons[k] = up(v)
	}
	wallets := make(map[string]map[string]int64, len(p.Wallets))
	for r, m := range p.Wallets {
		wallets[r] = maps.Clone(m)
		for k, v := range m {
			// A consumer holds at most one wallet per provider.
			wallets[r][k] = min(up(v), cons[r])
		}
	}
	merch := maps.Clone(s.Merchants.Count)
	for k, v := range merch {
		merch[k] = up(v)
	}
	p.Consumers, p.Wallets, s.Merchants.Count = cons, wallets, merch
	return nil
}
