package calibration

import (
	"math"
	"testing"
)

func TestShareCriterion(t *testing.T) {
	const m = 40 // z* = Φ⁻¹(1 − 0.01/80) ≈ 3.66
	for _, tc := range []struct {
		name    string
		hits, n int64
		p0      float64
		want    string
	}{
		// MTR-like: 55% of 200k rides, SE 0.11%: 5% of p0 is 25 SE.
		{"large share within 5%", 112_000, 200_000, 0.55, StatusOK},
		{"large share 4% off but within ε", 114_400, 200_000, 0.55, StatusOK},
		{"large share 6% off", 116_600, 200_000, 0.55, StatusOff},
		// Star Ferry-like: 0.56% of 40k rides, SE 6.6% of p0: noise.
		{"small share 10% off, within noise", 246, 40_000, 0.0056, StatusUnresolved},
		{"small share 3x off", 672, 40_000, 0.0056, StatusOff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &builder{eps: 0.05}
			b.share(KindGenerator, OperatorShare, "x", tc.hits, tc.n, tc.p0, 0.05, Assumed)
			r := b.rows[0]
			b.checks[0].evaluate(&r, 0.01, m)
			if r.Status != tc.want {
				t.Errorf("status %s (z %.2f, detectable %.3f), want %s", r.Status, r.Stat, r.MDE, tc.want)
			}
			se := math.Sqrt(tc.p0 * (1 - tc.p0) / float64(tc.n))
			if z := (float64(tc.hits)/float64(tc.n) - tc.p0) / se; math.Abs(r.Stat-z) > 1e-9 {
				t.Errorf("z = %v, want %v", r.Stat, z)
			}
			if want := zstar(0.01, m) * se / tc.p0; math.Abs(r.MDE-want) > 1e-12 {
				t.Errorf("detectable %v, want %v", r.MDE, want)
			}
		})
	}
}

func TestChi2Criterion(t *testing.T) {
	probs := []float64{0.55, 0.29, 0.11, 0.0123, 0.0101, 0.018, 0.0056}
	n := int64(40_000)
	exact := make([]int64, len(probs))
	for i, p := range probs {
		exact[i] = int64(math.Round(p * float64(n)))
	}
	eval := func(obs []int64, pr []float64) Row {
		b := &builder{eps: 0.05}
		b.group(KindGenerator, OperatorMix, "all", obs, pr, Assumed)
		r := b.rows[0]
		b.checks[0].evaluate(&r, 0.01, 40)
		return r
	}
	if r := eval(exact, probs); r.Status != StatusOK || r.DF != 6 || r.Stat > 1 {
		t.Errorf("expected counts: %+v", r)
	}
	biased := append([]int64(nil), exact...)
	biased[0] += 1100 // MTR +5%
	biased[1] -= 1100
	if r := eval(biased, probs); r.Status != StatusOff || r.P > 1e-6 {
		t.Errorf("MTR +5%%: %+v", r)
	}
	// Cells expecting fewer than 5 are pooled: at n = 400 three cells
	// expect 4.9, 4.0 and 2.2 and become one (11.2): 5 cells, df 4.
	small := []int64{220, 116, 44, 5, 4, 7, 4}
	if r := eval(small, probs); r.DF != 4 {
		t.Errorf("pooled: df %d, want 4 (%s)", r.DF, r.Note)
	}
}
