package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/run/compare"
)

type compareFlags struct {
	bus      busFlags
	policies []string
	sf       scenarioFlags
	out      string
	quiet    bool
	// seeds: a paired comparison over N seeds with intervals;
	// attribution: who gains, for two policies.
	seeds       int
	attribution bool
	scale       string
}

func newCompareCmd() *cobra.Command {
	f := &compareFlags{}
	cmd := &cobra.Command{
		Use:   "compare SCENARIO [--policy A --policy B ...]",
		Short: "Run one scenario's seeded traffic under several interoperability policies and compare them",
		Long: `Compare runs SCENARIO once per --policy, with the same seed and so the
same traffic, each run through the engine on Kafka and audited like
'walletsim run', and prints one table with a column per policy: acceptance,
first-wallet success, fallback, abandonment, declines by reason, mean hops,
route latency, fees by party, net settlement between providers and
cross-border FX volume. With --out DIR it writes DIR/compare.json and
DIR/compare.html (self-contained, charts inline).

Without --policy, the scenario's compare: list is used (interop-eras: the
seven era policies in date order). A policy is a built-in name
(walled-garden, netsunion-2018, fee-cut-2021, mutual-scan-2021,
transfer-pilot-2022, telco-2023, unionpay-open-2024, unified-qr,
all-open-hypothetical) or a YAML file. Every policy is loaded and checked before any
run starts. Exit 0: every run kept every invariant; 1: a runtime failure
or a broken invariant; 2: bad arguments, scenario or policy file.`,
		Example: `  walletsim compare interop-eras --out /tmp/eras
  walletsim compare quickstart --policy walled-garden --policy unified-qr --out /tmp/c
  walletsim compare scenarios/quickstart.yaml --policy unionpay-open-2024 --policy my-policy.yaml --payments 200000 --seed 3
  walletsim compare quickstart --scale large --policy walled-garden --policy unionpay-open-2024 --payments 500000`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runCompare(cmd, f, args[0]) },
	}
	fs := cmd.Flags()
	f.bus.register(fs)
	fs.StringArrayVar(&f.policies, "policy", nil, "policy to compare: built-in name or YAML file (repeat, at least twice; default: the scenario's compare list)")
	f.sf.addPayments(fs, 0, "number of payments (overrides the scenario)")
	f.sf.addSeed(fs)
	f.sf.addPartitions(fs)
	fs.StringVar(&f.scale, "scale", "", "resize the scenario first, as run does (small, medium, large, xlarge: 1k to 10M wallets; their payments unless --payments is given)")
	fs.StringVar(&f.out, "out", "", "directory for compare.json and compare.html (default: table only)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	fs.IntVar(&f.seeds, "seeds", 0, "run every policy on `N` seeds (the scenario's seed and the next N-1) and report each metric's difference from the first policy with a 95% interval (0: one seed)")
	fs.BoolVar(&f.attribution, "attribution", false, "for two policies: attribute every payment whose outcome differs to the rules that decided it (attribution.json, a section of compare.html)")
	return cmd
}

func runCompare(cmd *cobra.Command, f *compareFlags, name string) error {
	sc, _, err := f.sf.resolve(cmd, name, scaleHook(cmd, f.scale, cmd.Flags().Changed("scale")))
	if err != nil {
		return err
	}
	if len(f.policies) == 0 {
		// The scenario's own list (interop-eras: the era policies in date order).
		f.policies = sc.Compare
	}
	if len(f.policies) < 2 {
		return cli.Usagef("compare needs at least two --policy flags (or a scenario with a compare: list), got %d", len(f.policies))
	}
	s := *sc.Scenario
	pols, err := compare.LoadPolicies(f.policies)
	if err != nil {
		return cli.Usage(err)
	}
	bus, err := f.bus.config()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	opts := compare.Options{
		Scenario: sc, Policies: pols,
		Run: run.Options{Bus: bus, Topics: f.bus.topics(), Partitions: s.Partitions},
	}
	if !f.quiet {
		opts.Run.Progress, opts.Run.Terminal = os.Stderr, isTerminal(os.Stderr)
		opts.OnRun = compare.Progress(os.Stderr, len(pols))
	}
	cmp, err := compare.RunAll(ctx, opts, f.seeds, f.attribution)
	if err != nil {
		return err
	}
	if err := cmp.Write(cmd.OutOrStdout(), f.out); err != nil {
		return err
	}
	if !cmp.InvariantsOK() {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("invariants violated under %s: see the table above", cmp.Violations())}
	}
	return nil
}
