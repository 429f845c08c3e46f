package main

import (
	"context"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/loadtest/gate"
	"github.com/walletsim/walletsim/sim/report/diff"
)

// newGateCmd builds gate; runScenario runs --repeat's runs.
func newGateCmd(runScenario gate.RunFunc) *cobra.Command {
	var o gate.Options
	var junit, markdown, json string
	cmd := &cobra.Command{
		Use:   "gate RESULT... [--baseline BASE]... [--thresholds FILE] [--junit F] [--markdown F] [--json F]",
		Short: "Fail CI when a result breaks a threshold or regresses against a baseline",
		Long: `gate checks a result (summary.json, attack.json, compare.json, bench.json or
any JSON object) against thresholds and against a baseline, prints a table
(metric, baseline, now, change, limit, verdict) and exits:

  0  every check passed
  1  a threshold or a regression failed
  2  bad arguments or input (a missing file, a field that does not exist,
     an unknown key in the thresholds file)

Give RESULT several times (or --repeat N with --scenario) to gate on the
median of several runs; --baseline may be repeated too. See docs/gate.md.

Thresholds file (YAML):

  thresholds:
    - "latency_ms.p99 < 25"
    - "payments.success_rate >= 0.999"
    - "invariants.money_conserved == true"
  tolerances:
    throughput.payments_per_s: -10%
    latency_ms.p99: +20%
    pipeline.payments_per_s / ceiling.produce_consume_msgs_per_s: -10%
  directions:
    some.metric: lower`,
		Example: `  walletsim gate out/summary.json --thresholds .ci/gate.yaml
  walletsim gate run1.json run2.json run3.json --baseline base.json --thresholds gate.yaml \
      --junit gate.xml --markdown "$GITHUB_STEP_SUMMARY"
  walletsim gate bench.json --threshold 'latency_ms.p99 < 25' --baseline main.json \
      --tolerance 'throughput.payments_per_s=-10%'`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			switch { // an explicit 0 is a mistake, not "off"
			case fl.Changed("repeat") && o.Repeat.N < 1:
				return cli.Usagef("--repeat %d: want 1 or more runs", o.Repeat.N)
			case fl.Changed("require-coverage") && o.Coverage.K < 1:
				return cli.Usagef("--require-coverage %d: want 1 or more firings", o.Coverage.K)
			}
			ctx := cmd.Context()
			o.Results, o.Repeat.Run, o.Repeat.Log = args, runScenario, cmd.ErrOrStderr()
			rep, results, err := gate.Run(ctx, o)
			if err != nil {
				return err
			}
			table := cmd.OutOrStdout()
			if junit == "-" || markdown == "-" || json == "-" {
				table = cmd.ErrOrStderr() // stdout carries the machine-readable report
			}
			if err := rep.WriteTable(table); err != nil {
				return err
			}
			digestPointer(table, rep, results, o.Baselines)
			if err := rep.WriteOutputs(cmd.OutOrStdout(), junit, markdown, json); err != nil {
				return err
			}
			if !rep.Pass {
				return &cli.ExitError{Code: cli.ExitFailure}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&o.Baselines, "baseline", nil, "baseline result `BASE` to compare with (repeat for a median)")
	fl.StringVar(&o.ThresholdsFile, "thresholds", "", "YAML `FILE` of thresholds, tolerances and directions")
	fl.StringArrayVar(&o.Thresholds, "threshold", nil, "a threshold `EXPR` such as 'latency_ms.p99 < 25' (repeatable)")
	fl.StringArrayVar(&o.Tolerances, "tolerance", nil, "a tolerance `METRIC=TOL` such as 'throughput.payments_per_s=-10%' (repeatable)")
	fl.StringVar(&junit, "junit", "", "write JUnit XML to `FILE` (- for stdout)")
	fl.StringVar(&markdown, "markdown", "", "append a Markdown summary to `FILE`, e.g. \"$GITHUB_STEP_SUMMARY\" (- for stdout)")
	fl.StringVar(&json, "json", "", "write the report as JSON to `FILE` (- for stdout)")
	fl.IntVar(&o.Repeat.N, "repeat", 0, "run --scenario `N` times and gate on the median")
	fl.StringVar(&o.Repeat.Scenario, "scenario", "", "scenario `FILE` to run with --repeat")
	fl.Int64Var(&o.Repeat.Seed, "seed", 0, "seed for the --repeat runs (0: the engine's default)")
	fl.StringVar(&o.Repeat.Out, "out", "", "directory for the --repeat runs (default: a new temporary directory)")
	fl.Int64Var(&o.Coverage.K, "require-coverage", 0, "each rule the policy change touches (--policy-diff) or named (--rule) must have fired at least `K` times in the gated run")
	fl.StringSliceVar(&o.Coverage.PolicyDiff, "policy-diff", nil, "`OLD,NEW` policies (files or built-in names): the rules NEW adds or changes are the ones --require-coverage checks")
	fl.BoolVar(&o.SameDigest, "same-digest", false, "fail unless the result's events.digest equals the baseline's; on a difference print where the logs part (as walletsim diff)")
	fl.StringArrayVar(&o.Coverage.Rules, "rule", nil, "a rule `ID` (rules[3], or its id: key) that --require-coverage checks (repeatable)")
	return cmd
}

// digestPointer prints, under a failed digest comparison, where the result
// and the baseline part (diff.Pointer).
func digestPointer(w io.Writer, rep *gate.Report, results, baselines []string) {
	for _, c := range rep.Checks {
		if !c.Pass && strings.Contains(c.Metric, "digest") {
			var r, b string
			if len(results) > 0 && len(baselines) > 0 {
				r, b = results[0], baselines[0]
			}
			diff.Pointer(context.Background(), w, r, b)
			return
		}
	}
}
