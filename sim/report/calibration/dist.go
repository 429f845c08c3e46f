package calibration

import (
	"math"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/scenario"
)

// model is the distribution of one generated amount, in minor units, as
// the generator draws it: the target side of a ticket quantity.
type model interface {
	// cdf is P(amount <= x).
	cdf(x int64) float64
	mean() float64
	// logMoments are the mean and variance of ln(amount); ok is false
	// for a model that is not lognormal (fares), tested on its mean.
	logMoments() (mu, v float64, ok bool)
}

// logMoments of clamp(X) for ln X ~ N(ln median, sigma) clamped to
// [lo, hi]: a normal censored at ln lo and ln hi, in closed form. The
// rounding to a minor unit moves ln(amount) by at most 0.5/amount, far
// below any standard error here.
func (d clampedLognormal) logMoments(scale float64) (float64, float64) {
	mu, s := math.Log(d.median*scale), d.sigma
	if s == 0 {
		v := math.Log(min(max(d.median, d.lo), nonzero(d.hi, math.Inf(1))) * scale)
		return v, 0
	}
	alpha, beta := math.Inf(-1), math.Inf(1)
	pa, pb := 0.0, 0.0 // densities at the bounds
	a, b := 0.0, 0.0
	if d.lo > 0 {
		a = math.Log(d.lo * scale)
		alpha = (a - mu) / s
		pa = math.Exp(-alpha*alpha/2) / math.Sqrt(2*math.Pi)
	}
	if d.hi > 0 {
		b = math.Log(d.hi * scale)
		beta = (b - mu) / s
		pb = math.Exp(-beta*beta/2) / math.Sqrt(2*math.Pi)
	}
	mass := phi(beta) - phi(alpha)
	m1 := mu*mass + s*(pa-pb)
	// ∫ z² φ over [α, β] = mass + αφ(α) − βφ(β), with 0 for an infinite bound
	az, bz := 0.0, 0.0
	if d.lo > 0 {
		az = alpha * pa
	}
	if d.hi > 0 {
		bz = beta * pb
	}
	m2 := mu*mu*mass + 2*mu*s*(pa-pb) + s*s*(mass+az-bz)
	if d.lo > 0 {
		m1 += a * phi(alpha)
		m2 += a * a * phi(alpha)
	}
	if d.hi > 0 {
		m1 += b * (1 - phi(beta))
		m2 += b * b * (1 - phi(beta))
	}
	return m1, max(0, m2-m1*m1)
}

// phi is the standard normal CDF.
func phi(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// clampedLognormal is X = median * exp(sigma Z) clamped to [lo, hi] (0 =
// no bound), in the unit of median.
type clampedLognormal struct{ median, sigma, lo, hi float64 }

// below is P(clamp(X) < y).
func (d clampedLognormal) below(y float64) float64 {
	switch {
	case d.lo > 0 && y <= d.lo:
		return 0
	case d.hi > 0 && y > d.hi:
		return 1
	case y <= 0:
		return 0
	case d.sigma == 0:
		if d.median < y {
			return 1
		}
		return 0
	}
	return phi(math.Log(y/d.median) / d.sigma)
}

// expect is E[clamp(X)]: the clamped mass sits on the bounds, the rest
// is the lognormal's partial expectation.
func (d clampedLognormal) expect() float64 {
	if d.sigma == 0 {
		return min(max(d.median, d.lo), nonzero(d.hi, math.Inf(1)))
	}
	alpha, beta := math.Inf(-1), math.Inf(1)
	if d.lo > 0 {
		alpha = math.Log(d.lo/d.median) / d.sigma
	}
	if d.hi > 0 {
		beta = math.Log(d.hi/d.median) / d.sigma
	}
	e := d.median * math.Exp(d.sigma*d.sigma/2) * (phi(beta-d.sigma) - phi(alpha-d.sigma))
	if d.lo > 0 {
		e += d.lo * phi(alpha)
	}
	if d.hi > 0 {
		e += d.hi * (1 - phi(beta))
	}
	return e
}

func nonzero(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// amountModel is a scenario Dist as gen.drawMinor draws it: yuan, clamped,
// rounded to fen.
type amountModel struct{ d clampedLognormal }

func lognormal(d scenario.Dist) amountModel {
	return amountModel{clampedLognormal{median: d.Median, sigma: d.Sigma, lo: d.Min, hi: d.Max}}
}

func (m amountModel) cdf(x int64) float64 {
	if x < 1 {
		return 0
	}
	return m.d.below((float64(x) + 0.5) / 100)
}

func (m amountModel) mean() float64 { return 100 * m.d.expect() }

func (m amountModel) logMoments() (float64, float64, bool) {
	mu, v := m.d.logMoments(100)
	return mu, v, true
}

// fareModel is an operator's fare as gen draws it (sim.FareAt the date):
// lognormal cents clamped to the fare range, truncated to a cent and
// floored to the distance band; or a flat fare.
type fareModel struct {
	d    clampedLognormal
	band int64
	flat int64 // > 0: a flat fare
}

func newFareModel(o sim.Operator, weekend bool, at int64) fareModel {
	f := sim.FareAt(o, at)
	if f.Model == sim.FareFlat {
		fl := f.FlatCents
		if weekend && f.WeekendCents > 0 {
			fl = f.WeekendCents
		}
		return fareModel{flat: fl}
	}
	return fareModel{d: clampedLognormal{median: float64(f.MedianCents), sigma: f.Sigma, lo: float64(f.MinCents), hi: float64(f.MaxCents)}, band: max(f.BandCents, 1)}
}

func (m fareModel) cdf(x int64) float64 {
	if m.flat > 0 {
		if x >= m.flat {
			return 1
		}
		return 0
	}
	// floor(trunc(v)/band)*band <= x  <=>  v < (floor(x/band)+1)*band
	return m.d.below(float64((x/m.band + 1) * m.band))
}

// mean subtracts the half band the floor loses on average: fares spread
// over many bands, so the fractional part is close to uniform.
func (m fareModel) mean() float64 {
	if m.flat > 0 {
		return float64(m.flat)
	}
	return m.d.expect() - float64(m.band)/2
}

func (m fareModel) logMoments() (float64, float64, bool) { return 0, 0, false }

// mixture is a weighted mixture of models.
type mixture struct {
	w []float64
	m []model
}

func (x *mixture) add(w float64, m model) {
	if w > 0 {
		x.w, x.m = append(x.w, w), append(x.m, m)
	}
}

func (x *mixture) total() float64 {
	t := 0.0
	for _, w := range x.w {
		t += w
	}
	return t
}

func (x *mixture) cdf(v int64) float64 {
	s := 0.0
	for i, m := range x.m {
		s += x.w[i] * m.cdf(v)
	}
	return s / x.total()
}

func (x *mixture) mean() float64 {
	s := 0.0
	for i, m := range x.m {
		s += x.w[i] * m.mean()
	}
	return s / x.total()
}

// logMoments of a mixture: the mean of logs mixes linearly; the variance
// is the mixed second moment less the squared mean.
func (x *mixture) logMoments() (float64, float64, bool) {
	t := x.total()
	m1, m2 := 0.0, 0.0
	for i, m := range x.m {
		mu, v, ok := m.logMoments()
		if !ok {
			return 0, 0, false
		}
		m1 += x.w[i] / t * mu
		m2 += x.w[i] / t * (v + mu*mu)
	}
	return m1, max(0, m2-m1*m1), true
}

// median is the smallest amount whose CDF reaches one half, the same
// convention as the generated side (the value at rank n/2).
func median(m model) int64 {
	lo, hi := int64(0), int64(1)
	for m.cdf(hi) < 0.5 && hi < 1<<50 {
		hi *= 2
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if m.cdf(mid) >= 0.5 {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}
