package main

import (
	"context"
	"fmt"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/internal/manifest"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/run"
)

// collectManifest records what a result was measured on, for the gate's
// baseline comparison.
func collectManifest(scenarioPath string, data []byte, seed int64, policy, broker string) any {
	return manifest.Collect(manifest.Options{ScenarioFile: scenarioPath, Scenario: data, Seed: seed, Policy: policy, Broker: broker})
}

func init() {
	// gate --repeat runs the scenario through the same runner as `run`.
	runScenario = func(ctx context.Context, name string, seed int64, outDir string) (string, error) {
		read, src, err := scenarios.ReadScenario(name)
		if err != nil {
			return "", cli.Usage(err)
		}
		if seed != 0 {
			read.Seed = seed
		}
		if read.Policy == "" {
			read.Policy = scenarios.DefaultPolicy
		}
		sc, err := scenarios.Recompile(src, read)
		if err != nil {
			return "", cli.Usage(err)
		}
		s := sc.Scenario
		table, pol, err := loadPolicy(s.Policy)
		if err != nil {
			return "", err
		}
		res, err := run.Run(ctx, run.Options{Scenario: sc, Policy: table, PolicyName: pol.Name, Partitions: s.Partitions, Fresh: true})
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
