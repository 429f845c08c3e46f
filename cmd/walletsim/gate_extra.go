package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/loadtest/gate"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/report/coverage"
	"github.com/walletsim/walletsim/sim/report/diff"
)

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
	ids := append([]string{}, g.rules...)
	policy := ""
	var notes []string
	if len(g.diff) == 2 {
		_, prev, _, err := scenarios.LoadPolicy(g.diff[0])
		if err != nil {
			return nil, nil, fmt.Errorf("--policy-diff OLD: %w", err)
		}
		table, next, _, err := scenarios.LoadPolicy(g.diff[1])
		if err != nil {
			return nil, nil, fmt.Errorf("--policy-diff NEW: %w", err)
		}
		touched := coverage.Touched(prev, next, table)
		notes = append(notes, fmt.Sprintf("policy change %s -> %s touches %d rule(s): %s", prev.Name, next.Name, len(touched), strings.Join(touched, ", ")))
		ids, policy = append(ids, touched...), next.Name
	}
	c, err := gate.CoverageChecks(results, policy, ids, g.k)
	return c, notes, err
}

// digestPointer prints, under a failed digest comparison, where the result
// and the baseline part (the first partition and window, and the first
// differing event when both logs are still reachable), as `walletsim diff`
// does.
func digestPointer(w io.Writer, rep *gate.Report, results, baselines []string) {
	failed := false
	for _, c := range rep.Checks {
		failed = failed || !c.Pass && strings.Contains(c.Metric, "digest")
	}
	if !failed {
		return
	}
	if len(results) == 0 || len(baselines) == 0 {
		fmt.Fprintln(w, "digest differs; give --baseline RUN/summary.json to locate where (walletsim diff)")
		return
	}
	a, err := diff.Load(baselines[0])
	if err != nil {
		return
	}
	b, err := diff.Load(results[0])
	if err != nil {
		return
	}
	d, err := diff.Compare(context.Background(), diff.Config{A: a, B: b})
	if err != nil {
		fmt.Fprintf(w, "digest differs; cannot locate where: %v\n", err)
		return
	}
	if d.Identical {
		return
	}
	fmt.Fprintf(w, "digest differs: baseline (A) %s against result (B) %s\n", baselines[0], results[0])
	d.WritePointer(w)
}
