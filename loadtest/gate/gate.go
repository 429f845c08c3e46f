// Package gate is the CI performance regression gate: it checks a result
// (summary.json, attack.json, compare.json, bench.json or any JSON object)
// against k6-style thresholds and against a baseline with a tolerance per
// metric, and reports the verdict as a table, JUnit XML, Markdown or JSON.
//
// Fields are addressed by path (latency_ms.p99, payments.by_kind[0].count,
// declines["insufficient_funds"]) or as a ratio of two fields measured in the
// same run (pipeline.payments_per_s / ceiling.produce_consume_msgs_per_s), so
// one baseline holds on machines of different speeds. A field that does not
// exist is an error, never a silent pass.
//
// Several runs of the same result reduce noise: numbers (ratios included,
// computed per run) are gated on their median; a threshold on a boolean or a
// string must hold in every run.
package gate

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/walletsim/walletsim/internal/manifest"
)

// Config is one gate evaluation.
type Config struct {
	// Results are runs of the result under test; with more than one, numbers
	// are gated on their median. At least one is required.
	Results []*Document
	// Baselines are runs of the baseline; empty skips the tolerances.
	Baselines []*Document
	// Rules are the thresholds and tolerances.
	Rules *Rules
}

func (c *Config) setDefaults() {
	if c.Rules == nil {
		c.Rules = &Rules{}
	}
	if c.Rules.Directions == nil {
		c.Rules.Directions = map[string]Direction{}
	}
}

// Validate reports what is missing or inconsistent.
func (c *Config) Validate() error {
	if len(c.Results) == 0 {
		return errors.New("no result to gate")
	}
	for _, d := range append(append([]*Document{}, c.Results...), c.Baselines...) {
		if d == nil {
			return errors.New("nil document")
		}
	}
	if c.Rules == nil || len(c.Rules.Thresholds) == 0 && len(c.Rules.Tolerances) == 0 {
		return errors.New("nothing to check: give a thresholds file, a threshold or a tolerance")
	}
	return c.Rules.Validate()
}

// CheckKind tells thresholds from baseline comparisons.
type CheckKind string

const (
	KindThreshold CheckKind = "threshold"
	KindBaseline  CheckKind = "baseline"
)

// Check is the verdict on one threshold or tolerance.
type Check struct {
	Kind   CheckKind `json:"kind"`
	Name   string    `json:"name"`   // the threshold, or "metric tolerance"
	Metric string    `json:"metric"` // canonical metric
	// Baseline and Now are the values compared: float64, bool, string or nil.
	Baseline  any      `json:"baseline,omitempty"`
	Now       any      `json:"now"`
	ChangePct *float64 `json:"change_pct,omitempty"`
	Change    string   `json:"change,omitempty"` // as shown in the table
	Limit     string   `json:"limit"`
	Direction string   `json:"direction,omitempty"`
	Pass      bool     `json:"pass"`
	Message   string   `json:"message,omitempty"` // why it failed
	Source    string   `json:"source,omitempty"`  // where the rule was written
}

// Report is the outcome of a gate.
type Report struct {
	Results   []string `json:"results"`
	Baselines []string `json:"baselines,omitempty"`
	Pass      bool     `json:"pass"`
	Checks    []Check  `json:"checks"`
	Warnings  []string `json:"warnings,omitempty"`
}

// Failed counts the failed checks.
func (r *Report) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if !c.Pass {
			n++
		}
	}
	return n
}

// Evaluate runs every check. An error means bad input: a field that does
// not exist, a type mismatch, a zero divisor; every such problem is
// reported, joined. Failed checks are not errors: see Report.Pass.
func Evaluate(cfg Config) (*Report, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Results: names(cfg.Results), Baselines: names(cfg.Baselines)}
	var errs []error
	for _, t := range cfg.Rules.Thresholds {
		c, err := evalThreshold(t, cfg.Results)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rep.Checks = append(rep.Checks, c)
	}
	switch {
	case len(cfg.Rules.Tolerances) > 0 && len(cfg.Baselines) == 0:
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("no baseline given: %d tolerance(s) not checked", len(cfg.Rules.Tolerances)))
	case len(cfg.Rules.Tolerances) == 0 && len(cfg.Baselines) > 0:
		rep.Warnings = append(rep.Warnings, "a baseline was given but there are no tolerances to compare it with")
	case len(cfg.Baselines) > 0:
		for _, t := range cfg.Rules.Tolerances {
			c, err := evalTolerance(cfg.Rules, t, cfg.Results, cfg.Baselines)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			rep.Checks = append(rep.Checks, c)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	rep.Warnings = append(rep.Warnings, ManifestWarnings(cfg.Results, cfg.Baselines)...)
	rep.Pass = rep.Failed() == 0
	return rep, nil
}

func names(docs []*Document) []string {
	var out []string
	for _, d := range docs {
		out = append(out, d.Name)
	}
	return out
}

// values evaluates m in every document.
func values(m Metric, docs []*Document) ([]any, error) {
	out := make([]any, len(docs))
	for i, d := range docs {
		v, err := m.Eval(d)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// numbers returns the values as float64 when they all are.
func numbers(vals []any) ([]float64, bool) {
	out := make([]float64, len(vals))
	for i, v := range vals {
		f, ok := v.(float64)
		if !ok {
			return nil, false
		}
		out[i] = f
	}
	return out, true
}

// Median of xs; the mean of the middle two for an even count.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func evalThreshold(t Threshold, docs []*Document) (Check, error) {
	e := t.Expr
	c := Check{Kind: KindThreshold, Name: e.String(), Metric: e.Left.String(), Source: t.Source}
	wrap := func(err error) error { return fmt.Errorf("threshold %q (%s): %w", e.String(), t.Source, err) }
	left, err := values(e.Left, docs)
	if err != nil {
		return c, wrap(err)
	}
	var right []any
	if e.Right.Metric != nil {
		if right, err = values(*e.Right.Metric, docs); err != nil {
			return c, wrap(err)
		}
	} else {
		for range docs {
			right = append(right, e.Right.Lit)
		}
	}
	limit := func(r any) string {
		if e.Right.Metric != nil {
			return fmt.Sprintf("%s %s (%s)", e.Op, e.Right.Metric, FormatValue(r))
		}
		return fmt.Sprintf("%s %s", e.Op, FormatValue(r))
	}
	ln, lok := numbers(left)
	rn, rok := numbers(right)
	if lok && rok {
		l, r := Median(ln), Median(rn)
		c.Now, c.Limit = l, limit(r)
		c.Pass, _ = Compare(l, e.Op, r)
		if !c.Pass {
			c.Message = fmt.Sprintf("%s is %s, want %s", e.Left, FormatValue(l), limit(r))
			if len(docs) > 1 {
				c.Message += fmt.Sprintf(" (median of %d runs)", len(docs))
			}
		}
		return c, nil
	}
	// Booleans and strings must hold in every run.
	c.Pass, c.Now, c.Limit = true, left[0], limit(right[0])
	for i := range docs {
		ok, err := Compare(left[i], e.Op, right[i])
		if err != nil {
			return c, wrap(fmt.Errorf("%s: %s is %s: %w", docs[i].Name, e.Left, kindOf(left[i]), err))
		}
		if !ok && c.Pass {
			c.Pass, c.Now, c.Limit = false, left[i], limit(right[i])
			c.Message = fmt.Sprintf("%s is %s, want %s", e.Left, FormatValue(left[i]), limit(right[i]))
			if len(docs) > 1 {
				c.Message += fmt.Sprintf(" (run %d of %d, %s)", i+1, len(docs), docs[i].Name)
			}
		}
	}
	return c, nil
}

// tolerance slack for float rounding: 100 at -10% is exactly 90.
const epsilon = 1e-9

func evalTolerance(rules *Rules, t Tolerance, now, base []*Document) (Check, error) {
	c := Check{Kind: KindBaseline, Name: t.Metric.String() + " " + t.Text, Metric: t.Metric.String(), Source: t.Source}
	wrap := func(err error) error {
		return fmt.Errorf("tolerance %s on %s (%s): %w", t.Text, t.Metric, t.Source, err)
	}
	side, dir, err := rules.effective(t)
	if err != nil {
		return c, wrap(err)
	}
	if dir != Unknown {
		c.Direction = dir.String()
	}
	nv, err := values(t.Metric, now)
	if err != nil {
		return c, wrap(err)
	}
	bv, err := values(t.Metric, base)
	if err != nil {
		return c, wrap(err)
	}
	nn, ok := numbers(nv)
	if !ok {
		return c, wrap(fmt.Errorf("%s is %s in the result; tolerances apply to numbers, use a threshold", t.Metric, kindOf(firstNonNumber(nv))))
	}
	bn, ok := numbers(bv)
	if !ok {
		return c, wrap(fmt.Errorf("%s is %s in the baseline; tolerances apply to numbers, use a threshold", t.Metric, kindOf(firstNonNumber(bv))))
	}
	n, b := Median(nn), Median(bn)
	c.Now, c.Baseline = n, b
	delta := t.Amount
	if t.Percent {
		delta = t.Amount / 100 * math.Abs(b)
	}
	lo, hi := b-delta, b+delta
	slack := epsilon * math.Max(1, math.Max(math.Abs(b), math.Abs(n)))
	c.Change = formatChange(n, b)
	if b != 0 {
		pct := (n - b) / math.Abs(b) * 100
		c.ChangePct = &pct
	}
	switch side {
	case SideDown:
		c.Limit = fmt.Sprintf(">= %s (%s)", FormatValue(lo), t.Text)
		c.Pass = n >= lo-slack
	case SideUp:
		c.Limit = fmt.Sprintf("<= %s (%s)", FormatValue(hi), t.Text)
		c.Pass = n <= hi+slack
	default:
		c.Limit = fmt.Sprintf("%s..%s (%s)", FormatValue(lo), FormatValue(hi), t.Text)
		c.Pass = n >= lo-slack && n <= hi+slack
	}
	if !c.Pass {
		verb := "rose"
		if n < b {
			verb = "fell"
		}
		c.Message = fmt.Sprintf("%s %s %s from %s to %s; the limit is %s", t.Metric, verb, strings.TrimLeft(c.Change, "+-"), FormatValue(b), FormatValue(n), c.Limit)
		if len(now) > 1 || len(base) > 1 {
			c.Message += fmt.Sprintf(" (medians of %d and %d runs)", len(base), len(now))
		}
	}
	return c, nil
}

func firstNonNumber(vals []any) any {
	for _, v := range vals {
		if _, ok := v.(float64); !ok {
			return v
		}
	}
	return nil
}

func formatChange(n, b float64) string {
	if b == 0 {
		if n == 0 {
			return "0"
		}
		return signed(n) + FormatValue(math.Abs(n))
	}
	pct := (n - b) / math.Abs(b) * 100
	s := strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", math.Abs(pct)), "0"), ".")
	if s == "0" && pct != 0 {
		s = fmt.Sprintf("%.2g", math.Abs(pct)) // a tiny change is not 0
	}
	return signed(pct) + s + "%"
}

func signed(x float64) string {
	switch {
	case x > 0:
		return "+"
	case x < 0:
		return "-"
	}
	return ""
}

// FormatValue renders a value for people: integers without decimals, other
// numbers with two decimals above 1 and four significant digits below.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case float64:
		switch {
		case math.IsInf(x, 0) || math.IsNaN(x):
			return fmt.Sprint(x)
		case x == math.Trunc(x) && math.Abs(x) < 1e15:
			return fmt.Sprintf("%.0f", x)
		case math.Abs(x) >= 1:
			s := strings.TrimRight(fmt.Sprintf("%.2f", x), "0")
			return strings.TrimSuffix(s, ".")
		default:
			return fmt.Sprintf("%.4g", x)
		}
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v)
}

// ManifestWarnings compares the manifest of the first baseline with the
// first result's, and every result run's with the first: each differing
// field is a warning, since such results may not be comparable.
func ManifestWarnings(results, baselines []*Document) []string {
	var out []string
	first, err := readManifest(results[0])
	if err != nil {
		out = append(out, err.Error())
	}
	for _, d := range results[1:] {
		m, err := readManifest(d)
		switch {
		case err != nil:
			out = append(out, err.Error())
		case m != nil && first != nil:
			for _, line := range manifest.Diff(*first, *m) {
				line = strings.Replace(line, "(baseline)", "("+results[0].Name+")", 1)
				out = append(out, fmt.Sprintf("%s manifest differs from %s: %s", d.Name, results[0].Name, strings.Replace(line, "(now)", "("+d.Name+")", 1)))
			}
		}
	}
	if len(baselines) == 0 {
		return out
	}
	base, err := readManifest(baselines[0])
	switch {
	case err != nil:
		out = append(out, err.Error())
	case base == nil && first != nil:
		out = append(out, fmt.Sprintf("baseline %s has no manifest: cannot tell whether it was measured the same way", baselines[0].Name))
	case base != nil && first == nil:
		out = append(out, fmt.Sprintf("result %s has no manifest: cannot tell whether it was measured like the baseline", results[0].Name))
	case base != nil:
		for _, line := range manifest.Diff(*base, *first) {
			out = append(out, "manifest differs from the baseline: "+line)
		}
	}
	return out
}

func readManifest(d *Document) (*manifest.Manifest, error) {
	root, _ := d.Root.(map[string]any)
	raw, ok := root["manifest"]
	if !ok {
		return nil, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: manifest: %v", d.Name, err)
	}
	var m manifest.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: manifest unreadable, not compared: %v", d.Name, err)
	}
	return &m, nil
}
