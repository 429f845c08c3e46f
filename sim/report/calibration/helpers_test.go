package calibration

import (
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/scenario"
)

// compiled loads a built-in scenario, resized to a preset ("" = as is).
func compiled(t testing.TB, name, scale string) *scenario.Compiled {
	t.Helper()
	sc, _, err := scenarios.LoadScaled(name, scale)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
