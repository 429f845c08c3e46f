package main

import (
	"context"
	"fmt"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/internal/config"
	"github.com/walletsim/walletsim/manifest"
	"github.com/walletsim/walletsim/runner"
)

// collectManifest records what a result was measured on, for the gate's
// baseline comparison.
func collectManifest(scenarioPath string, data []byte, seed int64, policy, broker string) any {
	return manifest.Collect(manifest.Options{ScenarioFile: scenarioPath, Scenario: data, Seed: seed, Policy: policy, Broker: broker})
}

func init() {
	// gate --repeat runs the scenario through the same runner as `run`.
	runScenario = func(ctx context.Context, name string, seed int64, outDir string) (string, error) {
		sc, src, err := config.LoadScenario(name)
		if err != nil {
			return "", cli.Usage(err)
		}
		s := *sc.Scenario
		if seed != 0 {
			s.Seed = seed
		}
		if s.Policy == "" {
			s.Policy = "unionpay-open-2024"
		}
		if sc, err = config.Recompile(src, &s); err != nil {
			return "", cli.Usage(err)
		}
		table, pol, _, err := config.LoadPolicy(s.Policy)
		if err != nil {
			return "", cli.Usage(err)
		}
		res, err := runner.Run(ctx, runner.Options{Scenario: sc, Policy: table, PolicyName: pol.Name, Partitions: s.Partitions, Fresh: true})
		if err != nil {
			return "", err
		}
		res.Summary.Manifest = collectManifest(src.Path, src.Data, s.Seed, pol.Name, res.Summary.Engine.Broker)
		if !res.Summary.Invariants.OK() {
			return "", fmt.Errorf("run %s seed %d: invariants violated", name, s.Seed)
		}
		return res.Summary.WriteJSON(outDir)
	}
}
