package calibration

import (
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/scenario"
)

// compiledS loads a built-in scenario, resized to a preset ("" = as is).
func compiled(t testing.TB, name, scale string) *scenario.Compiled {
	t.Helper()
	sc, src, err := scenarios.LoadScenario(name)
	if err != nil {
		t.Fatal(err)
	}
	if scale == "" {
		return sc
	}
	s := *sc.Scenario
	p, err := scenario.ParsePreset(scale)
	if err != nil {
		t.Fatal(err)
	}
	if err := scenario.Scale(&s, p, false); err != nil {
		t.Fatal(err)
	}
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	return sc
}
