package run_test

import (
	"context"
	"fmt"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/run"
)

// Run a built-in scenario end to end on the embedded Kafka broker, as
// `walletsim run quickstart --payments 5000 --seed 7` does, and read the
// audit's verdict. The digest is the same on every machine and for every
// partition count: same scenario, seed and policy, same events.
func ExampleRun() {
	sc, file, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		fmt.Println(err)
		return
	}
	s := *sc.Scenario
	s.Payments, s.Duration, s.Seed = 5_000, "", 7
	if sc, err = scenarios.Recompile(file, &s); err != nil {
		fmt.Println(err)
		return
	}
	table, policy, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := run.Run(context.Background(), run.Options{Scenario: sc, Policy: table, PolicyName: policy.Name, Fresh: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	sum := res.Summary
	fmt.Println("attempted:", sum.Payments.Attempted)
	fmt.Println("invariants ok:", sum.Invariants.OK(), sum.Invariants.Violations())
	fmt.Println("digest:", sum.Events.Digest[:len("sha256:")], "...") // simtest pins it to the in-memory ledger's
	// Output:
	// attempted: 5000
	// invariants ok: true []
	// digest: sha256: ...
}
