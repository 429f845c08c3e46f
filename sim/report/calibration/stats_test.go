package calibration

import (
	"math"
	"testing"
)

// Known values from published tables (R: qnorm, pchisq, qchisq).
func TestNormQuantile(t *testing.T) {
	for _, tc := range []struct{ p, want float64 }{
		{0.5, 0},
		{0.975, 1.959963984540054},
		{0.995, 2.5758293035489},
		{0.025, -1.959963984540054},
		{1 - 0.01/(2*43), 3.6807399001942507}, // Python statistics.NormalDist
		{1e-10, -6.361340902404056},
		{0.9999999, 5.199337582192816},
		{0.1, -1.2815515655446004},
	} {
		if got := normQuantile(tc.p); math.Abs(got-tc.want) > 1e-9*math.Max(1, math.Abs(tc.want)) {
			t.Errorf("normQuantile(%v) = %.15g, want %.15g", tc.p, got, tc.want)
		}
		// round trip through the CDF
		if tc.p > 0 && tc.p < 1 {
			if back := phi(normQuantile(tc.p)); math.Abs(back-tc.p) > 1e-12*math.Max(tc.p, 1e-3) && math.Abs(back-tc.p) > 1e-15 {
				t.Errorf("phi(normQuantile(%v)) = %v", tc.p, back)
			}
		}
	}
	if !math.IsInf(normQuantile(0), -1) || !math.IsInf(normQuantile(1), 1) || !math.IsNaN(normQuantile(1.5)) {
		t.Error("normQuantile bounds")
	}
}

func TestChiSquare(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		k    int
		want float64 // P(X <= x)
	}{
		{3.841458820694124, 1, 0.95},
		{6.634896601021214, 1, 0.99},
		{16.81189383885543, 6, 0.99},
		{1, 1, 0.6826894921370859},
		{10, 4, 0.9595723180054873},
		{2, 10, 0.003659846827343712},
		{100, 50, 0.9999654506861702}, // closed form for even k: 1 - e^-50 Σ_{i<25} 50^i/i!
	} {
		if got := chi2CDF(tc.x, tc.k); math.Abs(got-tc.want) > 1e-10 {
			t.Errorf("chi2CDF(%v, %d) = %.15g, want %.15g", tc.x, tc.k, got, tc.want)
		}
		if got := chi2SF(tc.x, tc.k); math.Abs(got-(1-tc.want)) > 1e-10 {
			t.Errorf("chi2SF(%v, %d) = %.15g, want %.15g", tc.x, tc.k, got, 1-tc.want)
		}
		if got := chi2Quantile(tc.want, tc.k); math.Abs(got-tc.x) > 1e-7*math.Max(1, tc.x) {
			t.Errorf("chi2Quantile(%v, %d) = %.12g, want %.12g", tc.want, tc.k, got, tc.x)
		}
	}
	// A far tail keeps its precision: P(χ²(2) > 100) = e^-50.
	if got, want := chi2SF(100, 2), math.Exp(-50); math.Abs(got-want) > 1e-12*want {
		t.Errorf("chi2SF(100, 2) = %g, want %g", got, want)
	}
	if got := normTwoSided(1.959963984540054); math.Abs(got-0.05) > 1e-12 {
		t.Errorf("two-sided p at 1.96 = %v", got)
	}
}
