package scenarios

import (
	"fmt"

	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// ParseScenario decodes and compiles a scenario from bytes, as
// LoadScenario does from a file but without WALLETSIM_* overrides: the
// result depends on data alone. name labels errors. It is the entry point
// the fuzz tests drive; anything a user can put in a file goes through
// the same decode and Compile.
func ParseScenario(name string, data []byte) (*scenario.Compiled, error) {
	src := File{Name: name, Path: name, Data: data}
	var s scenario.Scenario
	if err := decode(src, &s, nil); err != nil {
		return nil, err
	}
	c, err := scenario.Compile(&s)
	if err != nil {
		return nil, prefixAll(name, err)
	}
	return c, nil
}

// ParsePolicy decodes and compiles a policy from bytes, as LoadPolicy does
// from a file.
func ParsePolicy(name string, data []byte) (*route.Table, *route.Policy, error) {
	src := File{Name: name, Path: name, Data: data}
	var p route.Policy
	if err := decode(src, &p, nil); err != nil {
		return nil, nil, err
	}
	t, err := route.Compile(&p)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, &p, nil
}
