package calibration

import (
	"math"
	"testing"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/scenario"
)

// numericMean integrates E[clamp(X)] over the normal density on a fine
// grid: an independent check of the closed form.
func numericMean(d clampedLognormal) float64 {
	const n = 200_000
	s, lo, hi := 0.0, -9.0, 9.0
	h := (hi - lo) / n
	for i := 0; i < n; i++ {
		z := lo + (float64(i)+0.5)*h
		v := d.median * math.Exp(d.sigma*z)
		if d.lo > 0 {
			v = max(v, d.lo)
		}
		if d.hi > 0 {
			v = min(v, d.hi)
		}
		s += v * math.Exp(-z*z/2) / math.Sqrt(2*math.Pi) * h
	}
	return s
}

func TestClampedLognormalMean(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    clampedLognormal
	}{
		{"scan size", clampedLognormal{median: 60, sigma: 1.2, hi: 50000}},
		{"red packet, capped at 200", clampedLognormal{median: 10, sigma: 1.0, hi: 200}},
		{"p2p capped at 200", clampedLognormal{median: 50, sigma: 1.4, hi: 200}},
		{"MTR fare, 4-60", clampedLognormal{median: 1100, sigma: 0.35, lo: 400, hi: 6000}},
		{"floor above the median", clampedLognormal{median: 10, sigma: 1, lo: 20}},
		{"no spread", clampedLognormal{median: 42, sigma: 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, want := tc.d.expect(), numericMean(tc.d)
			if tc.d.sigma == 0 {
				want = tc.d.median
			}
			if math.Abs(got-want) > 1e-6*want {
				t.Errorf("closed form %v, numeric %v", got, want)
			}
		})
	}
	// The calibration row's own figure: median 60, sigma 1.2 -> mean ~123.
	if m := lognormal(scenario.Dist{Median: 60, Sigma: 1.2}).mean() / 100; math.Abs(m-123.27) > 0.01 {
		t.Errorf("scan size mean = %.2f, want 123.27 (cal:defaults.scan-size: mean ~123)", m)
	}
}

func TestMedians(t *testing.T) {
	star := &mixture{}
	star.add(3, fareModel{flat: 330})
	star.add(1, fareModel{flat: 500})
	for _, tc := range []struct {
		name string
		m    model
		want int64
	}{
		{"lognormal", lognormal(scenario.Dist{Median: 60, Sigma: 1.2}), 6000},
		{"clamped below the median", lognormal(scenario.Dist{Median: 60, Sigma: 1.2, Max: 20}), 2000},
		{"flat fare", newFareModel(sim.Tramways, false, 0), sim.DefaultFares[sim.Tramways].FlatCents},
		{"weekend ferry", newFareModel(sim.StarFerry, true, 0), 650},
		// Half the MTR draws are below HK$11.00; floored to 10-cent bands,
		// P(fare <= 10.90) is exactly one half.
		{"MTR distance bands", newFareModel(sim.MTR, false, 0), 1090},
		{"mixture of atoms", star, 330},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := median(tc.m); got != tc.want {
				t.Errorf("median = %d, want %d", got, tc.want)
			}
		})
	}
}
