package run

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sortedQuantiles is what quantiles replaces: a sorted copy, indexed.
func sortedQuantiles(vals []int64, ps []float64) []int64 {
	s := slices.Sorted(slices.Values(vals))
	out := make([]int64, len(ps))
	for i, p := range ps {
		if len(s) > 0 {
			out[i] = s[int(math.Min(float64(len(s)-1), p*float64(len(s))))]
		}
	}
	return out
}

// TestQuantilesMatchSort: the histogram selection gives the sort's values
// exactly, on lognormal latencies like the routes', on ties, on one value,
// on a span too wide for one bucket per value, and leaves vals as it was.
func TestQuantilesMatchSort(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	lognormal := make([]int64, 200_000)
	for i := range lognormal {
		lognormal[i] = int64(150_000 * math.Exp(0.6*r.NormFloat64()))
	}
	wide := make([]int64, 50_000)
	for i := range wide {
		wide[i] = r.Int64N(1 << 62)
	}
	ties := make([]int64, 10_000)
	for i := range ties {
		ties[i] = int64(i % 3)
	}
	ps := []float64{0.5, 0.95, 0.99, 1, 0}
	for _, c := range []struct {
		name string
		vals []int64
	}{
		{"lognormal", lognormal}, {"wide", wide}, {"ties", ties},
		{"one", []int64{42}}, {"two", []int64{9, 3}}, {"empty", nil},
		{"negative", []int64{-5, 3, -1 << 62, 1 << 62, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := slices.Clone(c.vals)
			got, want := quantiles(c.vals, ps), sortedQuantiles(c.vals, ps)
			if !slices.Equal(got, want) {
				t.Fatalf("quantiles %v, a sort gives %v", got, want)
			}
			if !slices.Equal(c.vals, before) {
				t.Fatal("quantiles reordered its input")
			}
		})
	}
}

// BenchmarkQuantiles against BenchmarkSortedQuantiles: 20M latencies, the
// route latencies of an xlarge run.
func BenchmarkQuantiles(b *testing.B)       { benchQuantiles(b, quantiles) }
func BenchmarkSortedQuantiles(b *testing.B) { benchQuantiles(b, sortedQuantiles) }

func benchQuantiles(b *testing.B, f func([]int64, []float64) []int64) {
	r := rand.New(rand.NewPCG(1, 2))
	vals := make([]int64, 20_000_000)
	for i := range vals {
		vals[i] = int64(150_000 * math.Exp(0.6*r.NormFloat64()))
	}
	for b.Loop() {
		f(vals, []float64{0.5, 0.95, 0.99, 1})
	}
}
