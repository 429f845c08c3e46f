package api

import (
	"fmt"
	"maps"
	"math"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/route"
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

// LoadScenario loads the scenario whose population the API serves (a
// built-in name or a YAML file), its population multiplied by scale, with
// partitions (0: the scenario's) and policy (empty: the scenario's, else
// unionpay-open-2024) applied, and the policy's route table. Its errors
// name the CLI's flags (--scale, --partitions).
func LoadScenario(name, policy string, scale float64, partitions int) (*scenario.Compiled, *route.Table, error) {
	sc, src, err := scenarios.LoadScenario(name)
	if err != nil {
		return nil, nil, err
	}
	s := *sc.Scenario
	if scale != 1 {
		if err := ScalePopulation(&s, scale); err != nil {
			return nil, nil, fmt.Errorf("--scale: %v", err)
		}
	}
	if partitions != 0 {
		if partitions < 1 || partitions > 1024 {
			return nil, nil, fmt.Errorf("--partitions: want 1-1024, got %d", partitions)
		}
		s.Partitions = partitions
	}
	if policy != "" {
		s.Policy = policy
	}
	if s.Policy == "" {
		s.Policy = "unionpay-open-2024"
	}
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		return nil, nil, err
	}
	table, _, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		return nil, nil, err
	}
	return sc, table, nil
}
