package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/scenario"
)

// run --scale small|medium|large|xlarge resizes any scenario (package
// scenario, Scale): 1k, 100k, 1M or 10M wallets with consumers and
// merchants in proportion, and 20k, 1M, 5M or 20M payments unless
// --payments says otherwise.

var runScale string

func init() {
	registerRunFlags(func(fs *pflag.FlagSet) {
		var names []string
		for _, p := range scenario.Presets {
			names = append(names, fmt.Sprintf("%s (%d wallets, %d payments)", p.Name, p.Wallets, p.Payments))
		}
		fs.StringVar(&runScale, "scale", "", "resize the scenario: "+strings.Join(names, ", "))
	})
	runScenarioHooks = append(runScenarioHooks, scaleScenario)
}

func scaleScenario(cmd *cobra.Command, s *scenario.Scenario) error {
	if !cmd.Flags().Changed("scale") {
		return nil
	}
	p, err := scenario.ParsePreset(runScale)
	if err != nil {
		return cli.Usage(fmt.Errorf("--scale: %w", err))
	}
	if err := scenario.Scale(s, p, cmd.Flags().Changed("payments")); err != nil {
		return cli.Usage(fmt.Errorf("--scale %s: %w", p.Name, err))
	}
	return nil
}
