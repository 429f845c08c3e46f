package run

import (
	"context"
	"fmt"

	"github.com/walletsim/walletsim/internal/manifest"
	"github.com/walletsim/walletsim/scenarios"
)

// InputError is input that cannot make a run (a scenario or policy that
// does not load): the caller's mistake, not a runtime failure.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// BadInput marks it as the caller's mistake (the CLI exits 2).
func (e *InputError) BadInput() bool { return true }

// Once runs the scenario (a YAML file or built-in name) once with seed
// (0: the scenario's own) under its policy (default
// scenarios.DefaultPolicy) on an embedded broker, and writes
// outDir/summary.json with the manifest it was measured on; it returns
// that path. Broken invariants are an error. `walletsim gate --repeat`
// runs it.
func Once(ctx context.Context, name string, seed int64, outDir string) (string, error) {
	read, src, err := scenarios.ReadScenario(name)
	if err != nil {
		return "", &InputError{err}
	}
	if seed != 0 {
		read.Seed = seed
	}
	if read.Policy == "" {
		read.Policy = scenarios.DefaultPolicy
	}
	sc, err := scenarios.Recompile(src, read)
	if err != nil {
		return "", &InputError{err}
	}
	s := sc.Scenario
	table, pol, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		return "", &InputError{err}
	}
	res, err := Run(ctx, Options{Scenario: sc, Policy: table, PolicyName: pol.Name, Partitions: s.Partitions, Fresh: true})
	if err != nil {
		return "", err
	}
	res.Summary.Manifest = manifest.Collect(manifest.Options{ScenarioFile: src.Path, Scenario: src.Data, Seed: s.Seed, Policy: pol.Name, Broker: res.Summary.Engine.Broker})
	if !res.Summary.Invariants.OK() {
		return "", fmt.Errorf("run %s seed %d: invariants violated", name, s.Seed)
	}
	return res.Summary.WriteJSON(outDir)
}
