package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/loadtest/gate"
	"github.com/walletsim/walletsim/sim/report/coverage"
	"github.com/walletsim/walletsim/sim/report/diff"
	"github.com/walletsim/walletsim/sim/run"
)

// runOnce is gate --repeat's run: run.Once, bad input exit 2.
func runOnce(ctx context.Context, name string, seed int64, outDir string) (string, error) {
	p, err := run.Once(ctx, name, seed, outDir)
	return p, usageOf(err)
}

type gateFlags struct {
	baselines  []string
	thresholds string
	exprs      []string
	tolerances []string
	junit      string
	markdown   string
	json       string
	repeat     int
	scenario   string
	seed       int64
	outDir     string
	cov        gateCoverage
}

// newGateCmd builds gate; runScenario runs --repeat's runs.
func newGateCmd(runScenario gate.RunFunc) *cobra.Command {
	var f gateFlags
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
			return runGate(cmd, args, &f, runScenario)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.baselines, "baseline", nil, "baseline result `BASE` to compare with (repeat for a median)")
	fl.StringVar(&f.thresholds, "thresholds", "", "YAML `FILE` of thresholds, tolerances and directions")
	fl.StringArrayVar(&f.exprs, "threshold", nil, "a threshold `EXPR` such as 'latency_ms.p99 < 25' (repeatable)")
	fl.StringArrayVar(&f.tolerances, "tolerance", nil, "a tolerance `METRIC=TOL` such as 'throughput.payments_per_s=-10%' (repeatable)")
	fl.StringVar(&f.junit, "junit", "", "write JUnit XML to `FILE` (- for stdout)")
	fl.StringVar(&f.markdown, "markdown", "", "append a Markdown summary to `FILE`, e.g. \"$GITHUB_STEP_SUMMARY\" (- for stdout)")
	fl.StringVar(&f.json, "json", "", "write the report as JSON to `FILE` (- for stdout)")
	fl.IntVar(&f.repeat, "repeat", 0, "run --scenario `N` times and gate on the median")
	fl.StringVar(&f.scenario, "scenario", "", "scenario `FILE` to run with --repeat")
	fl.Int64Var(&f.seed, "seed", 0, "seed for the --repeat runs (0: the engine's default)")
	fl.StringVar(&f.outDir, "out", "", "directory for the --repeat runs (default: a new temporary directory)")
	f.cov.register(fl)
	return cmd
}

func runGate(cmd *cobra.Command, args []string, f *gateFlags, runScenario gate.RunFunc) error {
	fl := cmd.Flags()
	switch {
	case fl.Changed("repeat") && f.repeat < 1:
		return cli.Usagef("--repeat %d: want 1 or more runs", f.repeat)
	case f.repeat == 0 && (fl.Changed("scenario") || fl.Changed("seed") || fl.Changed("out")):
		return cli.Usagef("--scenario, --seed and --out go with --repeat N")
	case f.repeat > 0 && len(args) > 0:
		return cli.Usagef("give RESULT files or --repeat N --scenario FILE, not both")
	case f.repeat > 0 && f.scenario == "":
		return cli.Usagef("--repeat needs --scenario FILE")
	case f.repeat > 0 && runScenario == nil:
		return cli.Usagef("--repeat needs the run engine, which this build does not have; run the scenario yourself and give each summary.json as RESULT")
	case f.repeat == 0 && len(args) == 0:
		return cli.Usagef("give at least one RESULT file (summary.json, attack.json, compare.json or bench.json)")
	}

	if err := f.cov.validate(fl.Changed); err != nil {
		return err
	}
	rules, err := gate.BuildRules(f.thresholds, f.exprs, f.tolerances)
	if err != nil {
		return cli.Usage(err)
	}
	if len(rules.Thresholds) == 0 && len(rules.Tolerances) == 0 && !f.cov.enabled() && !f.cov.sameDigest {
		return cli.Usagef("nothing to check: give --thresholds FILE, --threshold EXPR or --tolerance METRIC=TOL")
	}
	if f.repeat > 0 {
		if _, err := os.Stat(f.scenario); err != nil {
			return cli.Usage(fmt.Errorf("--scenario: %w", err))
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
		defer stop()
		args, err = gate.Repeat(ctx, gate.RepeatConfig{Run: runScenario, N: f.repeat, Scenario: f.scenario, Seed: f.seed, Out: f.outDir, Log: cmd.ErrOrStderr()})
		if err != nil {
			return err
		}
	}
	results, err := gate.LoadDocuments(args)
	if err != nil {
		return cli.Usage(err)
	}
	baselines, err := gate.LoadDocuments(f.baselines)
	if err != nil {
		return cli.Usage(err)
	}
	rep := &gate.Report{Pass: true}
	for _, d := range results {
		rep.Results = append(rep.Results, d.Name)
	}
	if len(rules.Thresholds) > 0 || len(rules.Tolerances) > 0 {
		if rep, err = gate.Evaluate(gate.Config{Results: results, Baselines: baselines, Rules: rules}); err != nil {
			return cli.Usage(err)
		}
	}
	if f.cov.sameDigest {
		c, err := gate.SameDigest(results, baselines)
		if err != nil {
			return cli.Usage(err)
		}
		rep.Add(c)
		rep.Baselines = append(rep.Baselines[:0], f.baselines...)
	}
	if f.cov.enabled() {
		checks, notes, err := f.cov.checks(results)
		if err != nil {
			return cli.Usage(err)
		}
		rep.Add(checks...)
		rep.Warnings = append(rep.Warnings, notes...)
	}

	table := cmd.OutOrStdout()
	if f.junit == "-" || f.markdown == "-" || f.json == "-" {
		table = cmd.ErrOrStderr() // stdout carries the machine-readable report
	}
	if err := rep.WriteTable(table); err != nil {
		return err
	}
	digestPointer(table, rep, args, f.baselines)
	if err := rep.WriteOutputs(cmd.OutOrStdout(), f.junit, f.markdown, f.json); err != nil {
		return err
	}
	if !rep.Pass {
		return &cli.ExitError{Code: cli.ExitFailure}
	}
	return nil
}

// gateCoverage is gate's --require-coverage: the rules a policy change
// touches must have fired at least K times in the gated run.
type gateCoverage struct {
	k     int64
	diff  []string // OLD, NEW policy files or built-in names
	rules []string // explicit rule IDs
	// sameDigest: the result's events.digest must equal the baseline's.
	sameDigest bool
}

func (g *gateCoverage) register(fl *pflag.FlagSet) {
	fl.Int64Var(&g.k, "require-coverage", 0, "each rule the policy change touches (--policy-diff) or named (--rule) must have fired at least `K` times in the gated run")
	fl.StringSliceVar(&g.diff, "policy-diff", nil, "`OLD,NEW` policies (files or built-in names): the rules NEW adds or changes are the ones --require-coverage checks")
	fl.BoolVar(&g.sameDigest, "same-digest", false, "fail unless the result's events.digest equals the baseline's; on a difference print where the logs part (as walletsim diff)")
	fl.StringArrayVar(&g.rules, "rule", nil, "a rule `ID` (rules[3], or its id: key) that --require-coverage checks (repeatable)")
}

func (g *gateCoverage) enabled() bool { return g.k > 0 }

func (g *gateCoverage) validate(changed func(string) bool) error {
	switch {
	case changed("require-coverage") && g.k < 1:
		return cli.Usagef("--require-coverage %d: want 1 or more firings", g.k)
	case g.k == 0 && (len(g.diff) > 0 || len(g.rules) > 0):
		return cli.Usagef("--policy-diff and --rule go with --require-coverage K")
	case g.k > 0 && len(g.diff) == 0 && len(g.rules) == 0:
		return cli.Usagef("--require-coverage needs --policy-diff OLD,NEW or --rule ID")
	case len(g.diff) > 0 && len(g.diff) != 2:
		return cli.Usagef("--policy-diff %s: want exactly two policies, OLD,NEW", strings.Join(g.diff, ","))
	}
	return nil
}

// checks builds the coverage checks for the results.
func (g *gateCoverage) checks(results []*gate.Document) ([]gate.Check, []string, error) {
	ids, policy, notes := append([]string{}, g.rules...), "", []string(nil)
	if len(g.diff) == 2 {
		touched, next, note, err := coverage.Change(g.diff[0], g.diff[1])
		if err != nil {
			return nil, nil, err
		}
		ids, policy, notes = append(ids, touched...), next, []string{note}
	}
	c, err := gate.CoverageChecks(results, policy, ids, g.k)
	return c, notes, err
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
