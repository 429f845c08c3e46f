package gate

import (
	"fmt"
	"strconv"
)

// KindCoverage marks a rule-coverage check: a rule a policy change touches
// must have fired at least K times in the gated run (summary.json's
// policy_coverage), so the change is exercised, not only present.
const KindCoverage CheckKind = "coverage"

// CoverageChecks checks that each rule in ids fired at least k times in
// every result. policy, when set, must be the results' policy: gating the
// rules of one policy on a run of another says nothing. An error means bad
// input (a result without policy_coverage, another policy).
func CoverageChecks(results []*Document, policy string, ids []string, k int64) ([]Check, error) {
	var out []Check
	for _, d := range results {
		root, ok := d.Root.(map[string]any)
		cov, _ := root["policy_coverage"].(map[string]any)
		if !ok || cov == nil {
			return nil, fmt.Errorf("%s: no policy_coverage (a summary.json of walletsim run is needed)", d.Name)
		}
		if p, _ := cov["policy"].(string); policy != "" && p != policy {
			return nil, fmt.Errorf("%s: the run's policy is %q, the policy change is to %q", d.Name, p, policy)
		}
		fired := map[string]int64{}
		rules, _ := cov["rules"].([]any)
		for _, r := range rules {
			m, _ := r.(map[string]any)
			id, _ := m["id"].(string)
			n, _ := number(m["fired"])
			fired[id] = int64(n)
		}
		for _, id := range ids {
			n, have := fired[id]
			c := Check{Kind: KindCoverage, Name: fmt.Sprintf("rule %s fired", id), Metric: "policy_coverage " + id,
				Now: float64(n), Limit: ">= " + strconv.FormatInt(k, 10), Pass: have && n >= k, Source: "--require-coverage"}
			switch {
			case !have:
				c.Message = fmt.Sprintf("%s: the policy has no rule %s", d.Name, id)
			case n < k:
				c.Message = fmt.Sprintf("%s: rule %s fired %d times, want at least %d (the change is not exercised by this traffic)", d.Name, id, n, k)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// Add appends checks and recomputes the verdict.
func (r *Report) Add(checks ...Check) {
	r.Checks = append(r.Checks, checks...)
	r.Pass = r.Failed() == 0
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case interface{ Float64() (float64, error) }:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
