package calibration

import (
	"fmt"
	"math"
	"sort"
)

// Row statuses.
const (
	StatusOK         = "ok"         // within max(ε, z*·SE), and the sample resolves ε
	StatusUnresolved = "unresolved" // within noise, but the noise is wider than ε
	StatusOff        = "off"        // outside both: a bias, not noise
	StatusDeparts    = "departs"    // the scenario says it does not follow this source
)

// Row kinds.
const (
	KindGenerator = "generator" // what the scenario asked for
	KindSource    = "source"    // what the sources say
)

// Tests.
const (
	TestShare   = "share"        // one share, normal approximation
	TestChi2    = "chi2"         // a group of shares, Pearson χ²
	TestLogMean = "log_mean"     // mean of ln(amount) against the target's
	TestMedian  = "median_share" // share of amounts at or below the target median
	TestMean    = "mean"         // a mean against its CLT standard error
	TestPeak    = "peak"         // busiest bin over the mean rate, Poisson error
)

// check is a row's test before the family size m is known.
type check struct {
	test string
	// scalar tests: the estimate and its target on the test's scale, the
	// standard error there, the tolerance there (ε translated), and the
	// map from an error on that scale to a relative error of the figure.
	est, target, se, tol float64
	rel                  func(x float64) float64
	// chi2: observed counts and cell probabilities.
	obs   []int64
	probs []float64
}

// zstar is Φ⁻¹(1 − α/2m): the two-sided Bonferroni critical value.
func zstar(alpha float64, m int) float64 {
	return normQuantile(1 - alpha/(2*float64(max(m, 1))))
}

// finite keeps JSON encodable: a zero standard error gives an infinite z.
func finite(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 0
	case v > 1e12:
		return 1e12
	case v < -1e12:
		return -1e12
	}
	return v
}

// evaluate fills r's statistic, p-value, detectable error and status.
func (c *check) evaluate(r *Row, alpha float64, m int) {
	if c.test == TestChi2 {
		c.chi2(r, alpha, m)
		return
	}
	z := zstar(alpha, m)
	d := c.est - c.target
	stat := 0.0
	switch {
	case c.se > 0:
		stat = d / c.se
	case d != 0:
		stat = math.Copysign(math.Inf(1), d)
	}
	r.Stat, r.P = finite(stat), normTwoSided(stat)
	r.MDE = finite(c.rel(z * c.se))
	switch {
	case math.Abs(d) > max(c.tol, z*c.se):
		r.Status = StatusOff
	case z*c.se > c.tol:
		r.Status = StatusUnresolved
	default:
		r.Status = StatusOK
	}
}

// chi2 is Pearson's test of a group of shares: cells expected below 5
// are pooled into one cell (and that cell into the smallest other one if
// it is still below 5); the critical value is χ²(k−1) at 1 − α/m, so a
// group is one member of the same Bonferroni family as the single rows.
func (c *check) chi2(r *Row, alpha float64, m int) {
	n := int64(0)
	for _, o := range c.obs {
		n += o
	}
	type cell struct{ o, e float64 }
	var cells []cell
	var pool cell
	for i, p := range c.probs {
		e := p * float64(n)
		if e < 5 {
			pool.o += float64(c.obs[i])
			pool.e += e
			continue
		}
		cells = append(cells, cell{float64(c.obs[i]), e})
	}
	if pool.e > 0 || pool.o > 0 {
		if pool.e >= 5 || len(cells) == 0 {
			cells = append(cells, pool)
		} else {
			sort.Slice(cells, func(i, j int) bool { return cells[i].e < cells[j].e })
			cells[0].o += pool.o
			cells[0].e += pool.e
		}
	}
	df := len(cells) - 1
	r.DF = df
	if df < 1 || n == 0 {
		r.Status = StatusUnresolved
		r.Note = "fewer than two cells expect 5 or more"
		return
	}
	x2 := 0.0
	worst := 0.0
	for _, cl := range cells {
		if cl.e == 0 {
			if cl.o > 0 {
				x2 = math.Inf(1)
			}
			continue
		}
		x2 += (cl.o - cl.e) * (cl.o - cl.e) / cl.e
		worst = max(worst, math.Abs(cl.o-cl.e)/cl.e)
	}
	crit := chi2Quantile(1-alpha/float64(max(m, 1)), df)
	r.Stat, r.P = finite(x2), chi2SF(x2, df)
	r.Generated, r.Target, r.RelError = finite(x2), crit, worst
	// Cells off by ±δ relative (balanced) give χ² ≈ n·δ²: the smallest
	// such δ the test flags.
	r.MDE = math.Sqrt(crit / float64(n))
	r.Status = StatusOK
	if x2 > crit {
		r.Status = StatusOff
	}
	r.Note = fmt.Sprintf("%d cells, critical %.1f", len(cells), crit)
}
