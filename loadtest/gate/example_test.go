package gate_test

import (
	"fmt"
	"io"

	"github.com/walletsim/walletsim/loadtest/gate"
)

// A CI step: hold a run's summary.json to thresholds and to a baseline.
// Here throughput fell by more than the 10% the tolerance allows.
// Evaluate's error is bad input (exit 2); Pass false fails the build.
func ExampleEvaluate() {
	rules, err := gate.ParseRules("gate.yaml", []byte(`
thresholds:
  - "invariants.money_conserved == true"
  - "latency_ms.p99 < 25"
tolerances:
  throughput.payments_per_s: "-10%"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	result, err := gate.LoadDocument("testdata/summary.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	baseline, err := gate.LoadDocument("testdata/baseline.json")
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := gate.Evaluate(gate.Config{Results: []*gate.Document{result}, Baselines: []*gate.Document{baseline}, Rules: rules})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("pass:", rep.Pass)
	for _, c := range rep.Checks {
		fmt.Printf("%v %s\n", c.Pass, c.Name)
	}
	_ = rep.WriteJUnit(io.Discard) // or WriteTable, WriteMarkdown, WriteJSON
	// Output:
	// pass: false
	// true invariants.money_conserved == true
	// true latency_ms.p99 < 25
	// false throughput.payments_per_s -10%
}
