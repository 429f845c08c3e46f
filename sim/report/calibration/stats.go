package calibration

import "math"

// The few distribution functions the criterion needs, written here rather
// than pulling in a numerics library: the standard normal quantile
// (Wichura's AS241, about 1e-16 relative accuracy) and the chi-square
// CDF through the regularized incomplete gamma function (series below
// a+1, Lentz's continued fraction above, as in Numerical Recipes 6.2).

// normQuantile is Φ⁻¹(p) for 0 < p < 1 (±Inf at 0 and 1, NaN outside).
func normQuantile(p float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0 || p > 1:
		return math.NaN()
	case p == 0:
		return math.Inf(-1)
	case p == 1:
		return math.Inf(1)
	}
	q := p - 0.5
	if math.Abs(q) <= 0.425 {
		r := 0.180625 - q*q
		return q * (((((((2509.0809287301226727*r+33430.575583588128105)*r+67265.770927008700853)*r+45921.953931549871457)*r+13731.693765509461125)*r+1971.5909503065514427)*r+133.14166789178437745)*r + 3.387132872796366608) /
			(((((((5226.495278852545925*r+28729.085735721942674)*r+39307.89580009271061)*r+21213.794301586595867)*r+5394.1960214247511077)*r+687.1870074920579083)*r+42.313330701600911252)*r + 1)
	}
	r := p
	if q > 0 {
		r = 1 - p
	}
	r = math.Sqrt(-math.Log(r))
	var x float64
	if r <= 5 {
		r -= 1.6
		x = (((((((7.7454501427834140764e-4*r+0.0227238449892691845833)*r+0.24178072517745061177)*r+1.27045825245236838258)*r+3.64784832476320460504)*r+5.7694972214606914055)*r+4.6303378461565452959)*r + 1.42343711074968357734) /
			(((((((1.05075007164441684324e-9*r+5.475938084995344946e-4)*r+0.0151986665636164571966)*r+0.14810397642748007459)*r+0.68976733498510000455)*r+1.6763848301838038494)*r+2.05319162663775882187)*r + 1)
	} else {
		r -= 5
		x = (((((((2.01033439929228813265e-7*r+2.71155556874348757815e-5)*r+0.0012426609473880784386)*r+0.026532189526576123093)*r+0.29656057182850489123)*r+1.7848265399172913358)*r+5.4637849111641143699)*r + 6.6579046435011037772) /
			(((((((2.04426310338993978564e-15*r+1.4215117583164458887e-7)*r+1.8463183175100546818e-5)*r+7.868691311456132591e-4)*r+0.0148753612908506148525)*r+0.13692988092273580531)*r+0.59983220655588793769)*r + 1)
	}
	if q < 0 {
		return -x
	}
	return x
}

// normSF is the two-sided p-value of a standard normal statistic z.
func normTwoSided(z float64) float64 { return math.Erfc(math.Abs(z) / math.Sqrt2) }

// gammaP is the regularized lower incomplete gamma P(a, x).
func gammaP(a, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case math.IsInf(x, 1):
		return 1
	}
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		// series: P = e^{-x} x^a / Γ(a+1) Σ x^n / ((a+1)...(a+n))
		sum, term := 1/a, 1/a
		for n := 1; n < 10000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-16 {
				break
			}
		}
		return min(1, sum*math.Exp(-x+a*math.Log(x)-lg))
	}
	return max(0, 1-gammaQcf(a, x, lg))
}

// gammaQcf is Q(a, x) = 1 - P(a, x) by Lentz's continued fraction, for
// x >= a+1.
func gammaQcf(a, x, lg float64) float64 {
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 10000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-16 {
			break
		}
	}
	return math.Exp(-x+a*math.Log(x)-lg) * h
}

// chi2CDF is P(X <= x) for X ~ χ²(k).
func chi2CDF(x float64, k int) float64 {
	if k <= 0 {
		return math.NaN()
	}
	return gammaP(float64(k)/2, x/2)
}

// chi2SF is the upper tail P(X > x): the p-value of a Pearson statistic.
// It is computed from Q directly where P is close to one, so a tiny
// p-value does not round to zero early.
func chi2SF(x float64, k int) float64 {
	if k <= 0 {
		return math.NaN()
	}
	a, h := float64(k)/2, x/2
	if h <= 0 {
		return 1
	}
	if h < a+1 {
		return 1 - gammaP(a, h)
	}
	lg, _ := math.Lgamma(a)
	return gammaQcf(a, h, lg)
}

// chi2Quantile is the x with P(X <= x) = p for X ~ χ²(k), by bisection
// (the CDF is monotone; 200 halvings of a bracket reach float precision).
func chi2Quantile(p float64, k int) float64 {
	if k <= 0 || !(p > 0 && p < 1) {
		return math.NaN()
	}
	lo, hi := 0.0, float64(k)+10
	for chi2CDF(hi, k) < p {
		hi *= 2
	}
	for i := 0; i < 200 && hi-lo > 1e-12*hi; i++ {
		mid := (lo + hi) / 2
		if chi2CDF(mid, k) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
