package run

import (
	"github.com/walletsim/walletsim/internal/manifest"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/scenario"
)

// IdentityOf is what a command knows of the run's identity: the
// scenario's and the policy's bytes, seed, partitions and epoch length.
// The payment count is left to the caller (a worker does not know it).
func IdentityOf(data []byte, sc *scenario.Compiled, policy string) engine.Identity {
	id := engine.Identity{
		Seed: sc.Seed, Policy: policy, Partitions: sc.Partitions, EpochMS: sc.EpochMS,
		Version: manifest.BuildVersion(),
	}
	if len(data) > 0 {
		id.ScenarioSHA256 = manifest.Hash(data)
	}
	if _, _, f, err := scenarios.LoadPolicy(sc.Policy); err == nil && len(f.Data) > 0 {
		id.PolicySHA256 = manifest.Hash(f.Data)
	}
	return id
}
