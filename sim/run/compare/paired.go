package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/walletsim/walletsim/sim/report/html"
)

// Confidence is the level of the paired intervals.
const Confidence = 0.95

// Paired is compare.json's paired: every policy run on the same seeds,
// each metric's difference from the first policy per seed, and the mean
// of those differences with a 95% Student-t interval over the seeds. The
// traffic of one seed is identical under every policy, so the per-seed
// differences are paired: the seed-to-seed spread of the traffic cancels
// and what is left is the policy's effect and its uncertainty.
type Paired struct {
	Seeds      []int64        `json:"seeds"`
	Baseline   string         `json:"baseline"`
	Policies   []string       `json:"policies"`
	Confidence float64        `json:"confidence"`
	Metrics    []PairedMetric `json:"metrics"`
	Runs       []PairedRun    `json:"runs"`
}

// PairedMetric is one metric over the seeds.
type PairedMetric struct {
	Group    string `json:"group"`
	Name     string `json:"name"`
	Unit     string `json:"unit,omitempty"`
	BetterIs string `json:"better_is,omitempty"`
	// Values[p][s] is policy p's value under seed s (rates in percent,
	// money in major units, as the table shows them).
	Values [][]float64 `json:"values"`
	// Means[p] is policy p's mean over the seeds.
	Means []float64 `json:"means"`
	// Diffs has one entry per policy after the first.
	Diffs []Diff `json:"diffs"`
}

// Diff is one policy's paired difference from the first policy.
type Diff struct {
	Policy string  `json:"policy"`
	Mean   float64 `json:"mean"`
	// Low and High bound the 95% interval of the mean difference.
	Low    float64 `json:"low"`
	High   float64 `json:"high"`
	StdDev float64 `json:"stddev"` // of the per-seed differences
	N      int     `json:"n"`
	// Significant: the interval excludes zero.
	Significant bool `json:"significant"`
}

// PairedRun is one run of the paired comparison.
type PairedRun struct {
	Seed         int64  `json:"seed"`
	Policy       string `json:"policy"`
	Digest       string `json:"digest"`
	Payments     int64  `json:"payments"`
	InvariantsOK bool   `json:"invariants_ok"`
}

// RunPaired runs every policy under each of seeds (at least two) and
// returns the comparison of the first seed with Paired filled in.
func RunPaired(ctx context.Context, o Options, seeds []int64) (*Comparison, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if len(seeds) < 2 {
		return nil, fmt.Errorf("compare: a paired comparison needs at least 2 seeds, got %d", len(seeds))
	}
	var per []*Comparison
	for _, seed := range seeds {
		sc := *o.Scenario
		s := *sc.Scenario
		s.Seed = seed
		sc.Scenario = &s
		so := o
		so.Scenario = &sc
		c, err := Run(ctx, so)
		if err != nil {
			return nil, fmt.Errorf("seed %d: %w", seed, err)
		}
		per = append(per, c)
	}
	c := per[0]
	c.Paired = Pair(per)
	return c, nil
}

// missingIsZero are the row groups whose rows exist only where something
// happened: a decline reason, a fee, a provider pair, an FX currency that
// a seed lacks counted zero there.
var missingIsZero = map[string]bool{GroupDeclines: true, GroupFees: true, GroupSettlement: true, GroupFX: true}

// Pair computes the paired differences of comparisons of the same
// policies under different seeds.
func Pair(per []*Comparison) *Paired {
	p := &Paired{Confidence: Confidence, Policies: per[0].Policies, Baseline: per[0].Policies[0]}
	type key struct{ group, name, unit string }
	var order []key
	rows := map[key][]*Row{} // per seed
	meta := map[key]Row{}
	for s, c := range per {
		p.Seeds = append(p.Seeds, c.Seed)
		for _, r := range c.Results {
			p.Runs = append(p.Runs, PairedRun{Seed: c.Seed, Policy: r.Policy, Digest: r.Events.Digest, Payments: r.Payments.Attempted, InvariantsOK: r.Invariants.OK()})
		}
		for _, r := range c.Rows() {
			if r.Group == GroupRun || r.Name == "payments" {
				continue
			}
			k := key{r.Group, r.Name, r.Unit}
			if _, ok := rows[k]; !ok {
				order = append(order, k)
				rows[k] = make([]*Row, len(per))
				meta[k] = r
			}
			r := r
			rows[k][s] = &r
		}
	}
	np := len(p.Policies)
	for _, k := range order {
		m := PairedMetric{Group: k.group, Name: k.name, Unit: k.unit, BetterIs: meta[k].BetterIs, Values: make([][]float64, np)}
		ok := true
		for pi := 0; pi < np && ok; pi++ {
			for s := range per {
				v := math.NaN()
				if r := rows[k][s]; r != nil && pi < len(r.Values) {
					v = r.Values[pi]
				} else if missingIsZero[k.group] {
					v = 0
				}
				if math.IsNaN(v) || math.IsInf(v, 0) {
					ok = false
					break
				}
				m.Values[pi] = append(m.Values[pi], v)
			}
		}
		if !ok {
			continue // a metric some run lacks has no paired difference
		}
		for pi := range np {
			m.Means = append(m.Means, mean(m.Values[pi]))
		}
		for pi := 1; pi < np; pi++ {
			d := make([]float64, len(per))
			for s := range d {
				d[s] = m.Values[pi][s] - m.Values[0][s]
			}
			m.Diffs = append(m.Diffs, PairedDiff(p.Policies[pi], d))
		}
		p.Metrics = append(p.Metrics, m)
	}
	return p
}

// PairedDiff is the mean of paired differences d with its 95% Student-t
// interval (n-1 degrees of freedom).
func PairedDiff(policy string, d []float64) Diff {
	n := len(d)
	out := Diff{Policy: policy, N: n, Mean: mean(d)}
	if n < 2 {
		out.Low, out.High = out.Mean, out.Mean
		return out
	}
	var ss float64
	for _, x := range d {
		ss += (x - out.Mean) * (x - out.Mean)
	}
	out.StdDev = math.Sqrt(ss / float64(n-1))
	half := TQuantile975(n-1) * out.StdDev / math.Sqrt(float64(n))
	out.Low, out.High = out.Mean-half, out.Mean+half
	out.Significant = out.Low > 0 || out.High < 0
	return out
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// t975 is the 0.975 quantile of Student's t for 1..30 degrees of freedom
// (two-sided 95%), from the standard table.
var t975 = [...]float64{0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042}

// TQuantile975 is Student's t 0.975 quantile for df degrees of freedom:
// the table to 30, then interpolated in 1/df through 40, 60, 120 and the
// normal 1.960 (the standard table's own rows), exact to the third decimal.
func TQuantile975(df int) float64 {
	if df < 1 {
		return math.NaN()
	}
	if df < len(t975) {
		return t975[df]
	}
	knots := []struct{ df, t float64 }{{30, 2.042}, {40, 2.021}, {60, 2.000}, {120, 1.980}, {math.Inf(1), 1.960}}
	x := 1 / float64(df)
	for i := 1; i < len(knots); i++ {
		a, b := knots[i-1], knots[i]
		if float64(df) <= b.df {
			xa, xb := 1/a.df, 1/b.df
			return a.t + (b.t-a.t)*(x-xa)/(xb-xa)
		}
	}
	return 1.960
}

// InvariantsOK reports whether every paired run kept every invariant.
func (p *Paired) InvariantsOK() bool {
	for _, r := range p.Runs {
		if !r.InvariantsOK {
			return false
		}
	}
	return true
}

// Cell formats a difference as the table shows it: mean [low, high],
// "n.s." when the interval spans zero. The decimals follow the interval's
// half width (two significant digits of it), so a cell never shows more
// precision than the seeds support.
func (d Diff) Cell() string {
	dec := 2
	if h := (d.High - d.Low) / 2; h > 0 {
		dec = min(max(1-int(math.Floor(math.Log10(h))), 0), 4)
	}
	s := fmt.Sprintf("%s [%s, %s]", signed(d.Mean, dec), signed(d.Low, dec), signed(d.High, dec))
	if !d.Significant {
		s += " n.s."
	}
	return s
}

func signed(v float64, dec int) string {
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if v > 0 {
		s = "+" + s
	}
	if strings.Trim(s, "+-0.") == "" {
		s = "0"
	}
	return s
}

// WritePairedTable prints the paired differences: per metric the first
// policy's mean over the seeds and each other policy's mean difference
// with its 95% interval.
func (p *Paired) WritePairedTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "paired over %d seeds %s: difference from %s, mean [95%% interval, Student t]; n.s. = interval spans zero\n", len(p.Seeds), seedList(p.Seeds), p.Baseline)
	head := []string{"metric", "unit", p.Baseline + " (mean)"}
	for _, pol := range p.Policies[1:] {
		head = append(head, "Δ "+pol)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, m := range p.Metrics {
		cells := []string{m.Name, m.Unit, strconv.FormatFloat(m.Means[0], 'f', 3, 64)}
		for _, d := range m.Diffs {
			cells = append(cells, d.Cell())
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func seedList(seeds []int64) string {
	var parts []string
	for _, s := range seeds {
		parts = append(parts, strconv.FormatInt(s, 10))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// section is the paired table as a compare.html section.
func (p *Paired) section() html.Section {
	t := html.Table{Columns: []string{"Metric", "Unit", p.Baseline + " (mean)"}}
	for _, pol := range p.Policies[1:] {
		t.Columns = append(t.Columns, "Δ "+pol+" [95% CI]")
	}
	for _, m := range p.Metrics {
		row := []string{m.Name, m.Unit, strconv.FormatFloat(m.Means[0], 'f', 3, 64)}
		for _, d := range m.Diffs {
			row = append(row, d.Cell())
		}
		t.Rows = append(t.Rows, row)
	}
	return html.Section{ID: "paired", Title: fmt.Sprintf("Paired differences over %d seeds", len(p.Seeds)),
		Note: fmt.Sprintf("Seeds %s, the same traffic under every policy. Each cell is the mean difference from %s with its 95%% interval (Student t, %d degrees of freedom); n.s. marks an interval that spans zero: not significant.",
			seedList(p.Seeds), p.Baseline, len(p.Seeds)-1),
		Tables: []html.Table{t}}
}

// SeedsFrom returns n consecutive seeds starting at first.
func SeedsFrom(first int64, n int) ([]int64, error) {
	if n < 2 {
		return nil, errors.New("--seeds: a paired comparison needs at least 2 seeds")
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = first + int64(i)
	}
	return out, nil
}
