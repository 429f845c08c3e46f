package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/loadtest/gate"
)

// runScenario runs a scenario once with a seed, writing its results under
// outDir, and returns the path of the summary.json it wrote. The run engine
// sets it; while it is nil, gate --repeat is a usage error.
var runScenario func(ctx context.Context, scenario string, seed int64, outDir string) (summaryPath string, err error)

func init() { rootCmd.AddCommand(newGateCmd()) }

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

func newGateCmd() *cobra.Command {
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
			return runGate(cmd, args, &f)
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

func runGate(cmd *cobra.Command, args []string, f *gateFlags) error {
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
	rules, err := gateRules(f)
	if err != nil {
		return cli.Usage(err)
	}
	if f.repeat > 0 {
		if args, err = repeatRuns(cmd, f); err != nil {
			return err
		}
	}
	results, err := loadDocs(args)
	if err != nil {
		return cli.Usage(err)
	}
	baselines, err := loadDocs(f.baselines)
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
		c, err := sameDigestCheck(results, baselines)
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
	for _, out := range []struct {
		path   string
		append bool
		write  func(io.Writer) error
	}{
		{f.junit, false, rep.WriteJUnit},
		{f.markdown, true, rep.WriteMarkdown},
		{f.json, false, rep.WriteJSON},
	} {
		if err := writeOutput(cmd, out.path, out.append, out.write); err != nil {
			return err
		}
	}
	if !rep.Pass {
		return &cli.ExitError{Code: cli.ExitFailure}
	}
	return nil
}

// gateRules gathers the thresholds file and the --threshold and --tolerance
// flags.
func gateRules(f *gateFlags) (*gate.Rules, error) {
	rules := &gate.Rules{}
	if f.thresholds != "" {
		r, err := gate.LoadRules(f.thresholds)
		if err != nil {
			return nil, err
		}
		rules = r
	}
	for _, e := range f.exprs {
		if err := rules.AddThreshold(e, "--threshold"); err != nil {
			return nil, fmt.Errorf("--threshold: %w", err)
		}
	}
	for _, t := range f.tolerances {
		i := strings.LastIndex(t, "=")
		if i < 0 {
			return nil, fmt.Errorf("--tolerance %q: want METRIC=TOL, e.g. throughput.payments_per_s=-10%%", t)
		}
		if err := rules.AddTolerance(strings.TrimSpace(t[:i]), t[i+1:], "--tolerance"); err != nil {
			return nil, fmt.Errorf("--tolerance: %w", err)
		}
	}
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	if len(rules.Thresholds) == 0 && len(rules.Tolerances) == 0 && !f.cov.enabled() && !f.cov.sameDigest {
		return nil, fmt.Errorf("nothing to check: give --thresholds FILE, --threshold EXPR or --tolerance METRIC=TOL")
	}
	return rules, nil
}

func loadDocs(paths []string) ([]*gate.Document, error) {
	var docs []*gate.Document
	for _, p := range paths {
		d, err := gate.LoadDocument(p)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// repeatRuns runs the scenario f.repeat times, each in its own directory,
// and returns the summaries.
func repeatRuns(cmd *cobra.Command, f *gateFlags) ([]string, error) {
	if _, err := os.Stat(f.scenario); err != nil {
		return nil, cli.Usage(fmt.Errorf("--scenario: %w", err))
	}
	out := f.outDir
	if out == "" {
		d, err := os.MkdirTemp("", "walletsim-gate-")
		if err != nil {
			return nil, err
		}
		out = d
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	var paths []string
	for i := 1; i <= f.repeat; i++ {
		dir := filepath.Join(out, fmt.Sprintf("run-%d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		p, err := runScenario(ctx, f.scenario, f.seed, dir)
		if err != nil {
			return nil, fmt.Errorf("run %d of %d of %s: %w", i, f.repeat, f.scenario, err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "run %d of %d: %s\n", i, f.repeat, p)
		paths = append(paths, p)
	}
	return paths, nil
}

func writeOutput(cmd *cobra.Command, path string, appendTo bool, write func(io.Writer) error) error {
	switch path {
	case "":
		return nil
	case "-":
		return write(cmd.OutOrStdout())
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	fh, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	if err := write(fh); err != nil {
		fh.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return fh.Close()
}
