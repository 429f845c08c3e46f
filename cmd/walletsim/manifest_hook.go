package main

import (
	"github.com/walletsim/walletsim/internal/manifest"
)

// collectManifest records what a result was measured on, for the gate's
// baseline comparison.
func collectManifest(scenarioPath string, data []byte, seed int64, policy, broker string) any {
	return manifest.Collect(manifest.Options{ScenarioFile: scenarioPath, Scenario: data, Seed: seed, Policy: policy, Broker: broker})
}
