package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// scenarioFlags are the overrides every command that runs a scenario
// takes. Each command adds the ones that make sense for it; resolve applies
// only those the user set, so the scenario file and WALLETSIM_* variables
// keep the rest.
type scenarioFlags struct {
	payments   int64
	seed       int64
	partitions int
	policy     string
	// alwaysPayments: the command's --payments has a default that applies
	// even when the flag is not given (bench measures a fixed size).
	alwaysPayments bool
}

func (f *scenarioFlags) addPayments(fs *pflag.FlagSet, def int64, usage string) {
	fs.Int64Var(&f.payments, "payments", def, usage)
	f.alwaysPayments = def > 0
}

func (f *scenarioFlags) addSeed(fs *pflag.FlagSet) {
	fs.Int64Var(&f.seed, "seed", 0, "random seed (overrides the scenario)")
}

func (f *scenarioFlags) addPartitions(fs *pflag.FlagSet) {
	fs.IntVar(&f.partitions, "partitions", 0, "partitions per topic (overrides the scenario)")
}

func (f *scenarioFlags) addPolicy(fs *pflag.FlagSet) {
	fs.StringVar(&f.policy, "policy", "", "interoperability policy: built-in name or YAML file (overrides the scenario)")
}

// resolve reads the scenario (WALLETSIM_* applied), applies the flags the
// user set, then the hooks, and validates the result. Every input error
// is a usage error (exit 2).
func (f *scenarioFlags) resolve(cmd *cobra.Command, name string, hooks ...func(*scenario.Scenario) error) (*scenario.Compiled, scenarios.File, error) {
	s, src, err := scenarios.ReadScenario(name)
	if err != nil {
		return nil, src, cli.Usage(err)
	}
	changed := func(flag string) bool { return cmd.Flags().Lookup(flag) != nil && cmd.Flags().Changed(flag) }
	if changed("payments") || f.alwaysPayments {
		if f.payments <= 0 {
			return nil, src, cli.Usagef("--payments: must be positive, got %d", f.payments)
		}
		s.Payments, s.Duration = f.payments, ""
	}
	if changed("seed") {
		s.Seed = f.seed
	}
	if changed("partitions") {
		if f.partitions < 1 || f.partitions > 1024 {
			return nil, src, cli.Usagef("--partitions: want 1-1024, got %d", f.partitions)
		}
		s.Partitions = f.partitions
	}
	if f.policy != "" {
		s.Policy = f.policy
	}
	if s.Policy == "" {
		s.Policy = scenarios.DefaultPolicy
	}
	for _, h := range hooks {
		if err := h(s); err != nil {
			return nil, src, err
		}
	}
	sc, err := scenarios.Recompile(src, s)
	if err != nil {
		return nil, src, cli.Usage(err)
	}
	return sc, src, nil
}

// loadPolicy loads a policy file or built-in name as a usage error on
// failure.
func loadPolicy(name string) (*route.Table, *route.Policy, error) {
	table, pol, _, err := scenarios.LoadPolicy(name)
	if err != nil {
		return nil, nil, cli.Usage(err)
	}
	return table, pol, nil
}
