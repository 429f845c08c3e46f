package gate

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/report/coverage"
)

// Options is one whole gate check, as `walletsim gate` takes it: the
// result files (or a repeated run of a scenario), the baselines and every
// kind of rule. Run turns it into a Report.
type Options struct {
	Results   []string // result files; empty with Repeat.N > 0
	Baselines []string
	// ThresholdsFile, Thresholds and Tolerances are BuildRules's.
	ThresholdsFile string
	Thresholds     []string
	Tolerances     []string
	// Repeat, with N > 0, runs Repeat.Scenario N times and gates on the
	// median of the runs' summaries instead of Results.
	Repeat RepeatConfig
	// Coverage: each rule a policy change touches (PolicyDiff OLD, NEW)
	// or named (Rules) must have fired at least K times.
	Coverage CoverageOptions
	// SameDigest: the result's events.digest must equal the baseline's.
	SameDigest bool
}

// CoverageOptions is gate's --require-coverage.
type CoverageOptions struct {
	K          int64
	PolicyDiff []string // OLD, NEW: files or built-in names
	Rules      []string // rule IDs (rules[3], or an id: key)
}

// Validate reports the first inconsistent combination, naming the flags
// a user gave (every error is a usage error: exit 2).
func (o *Options) Validate() error {
	r, c := o.Repeat, o.Coverage
	switch {
	case r.N < 0:
		return cli.Usagef("--repeat %d: want 1 or more runs", r.N)
	case r.N == 0 && (r.Scenario != "" || r.Seed != 0 || r.Out != ""):
		return cli.Usagef("--scenario, --seed and --out go with --repeat N")
	case r.N > 0 && len(o.Results) > 0:
		return cli.Usagef("give RESULT files or --repeat N --scenario FILE, not both")
	case r.N > 0 && r.Scenario == "":
		return cli.Usagef("--repeat needs --scenario FILE")
	case r.N > 0 && r.Run == nil:
		return cli.Usagef("--repeat needs the run engine, which this build does not have; run the scenario yourself and give each summary.json as RESULT")
	case r.N == 0 && len(o.Results) == 0:
		return cli.Usagef("give at least one RESULT file (summary.json, attack.json, compare.json or bench.json)")
	case c.K < 0:
		return cli.Usagef("--require-coverage %d: want 1 or more firings", c.K)
	case c.K == 0 && (len(c.PolicyDiff) > 0 || len(c.Rules) > 0):
		return cli.Usagef("--policy-diff and --rule go with --require-coverage K")
	case c.K > 0 && len(c.PolicyDiff) == 0 && len(c.Rules) == 0:
		return cli.Usagef("--require-coverage needs --policy-diff OLD,NEW or --rule ID")
	case len(c.PolicyDiff) > 0 && len(c.PolicyDiff) != 2:
		return cli.Usagef("--policy-diff %s: want exactly two policies, OLD,NEW", strings.Join(c.PolicyDiff, ","))
	}
	return nil
}

// Run runs the gate: Validate, the repeated runs if any, then every
// rule against the results. Bad input (a missing file, a field that does
// not exist, an unknown key) is a *cli.UsageError; a failed check is a
// Report with Pass false, not an error. It returns the result files
// checked (the runs' summaries with Repeat).
func Run(ctx context.Context, o Options) (*Report, []string, error) {
	if err := o.Validate(); err != nil {
		return nil, nil, err
	}
	rules, err := BuildRules(o.ThresholdsFile, o.Thresholds, o.Tolerances)
	if err != nil {
		return nil, nil, cli.Usage(err)
	}
	if len(rules.Thresholds) == 0 && len(rules.Tolerances) == 0 && o.Coverage.K == 0 && !o.SameDigest {
		return nil, nil, cli.Usagef("nothing to check: give --thresholds FILE, --threshold EXPR or --tolerance METRIC=TOL")
	}
	paths := o.Results
	if o.Repeat.N > 0 {
		if _, err := os.Stat(o.Repeat.Scenario); err != nil {
			return nil, nil, cli.Usage(fmt.Errorf("--scenario: %w", err))
		}
		if paths, err = Repeat(ctx, o.Repeat); err != nil {
			return nil, nil, err
		}
	}
	results, err := LoadDocuments(paths)
	if err != nil {
		return nil, paths, cli.Usage(err)
	}
	baselines, err := LoadDocuments(o.Baselines)
	if err != nil {
		return nil, paths, cli.Usage(err)
	}
	rep := &Report{Pass: true}
	for _, d := range results {
		rep.Results = append(rep.Results, d.Name)
	}
	if len(rules.Thresholds) > 0 || len(rules.Tolerances) > 0 {
		if rep, err = Evaluate(Config{Results: results, Baselines: baselines, Rules: rules}); err != nil {
			return nil, paths, cli.Usage(err)
		}
	}
	if o.SameDigest {
		c, err := SameDigest(results, baselines)
		if err != nil {
			return nil, paths, cli.Usage(err)
		}
		rep.Add(c)
		rep.Baselines = append(rep.Baselines[:0], o.Baselines...)
	}
	if c := o.Coverage; c.K > 0 {
		ids, policy := append([]string{}, c.Rules...), ""
		if len(c.PolicyDiff) == 2 {
			touched, next, note, err := coverage.Change(c.PolicyDiff[0], c.PolicyDiff[1])
			if err != nil {
				return nil, paths, cli.Usage(err)
			}
			ids, policy = append(ids, touched...), next
			rep.Warnings = append(rep.Warnings, note)
		}
		checks, err := CoverageChecks(results, policy, ids, c.K)
		if err != nil {
			return nil, paths, cli.Usage(err)
		}
		rep.Add(checks...)
	}
	return rep, paths, nil
}
