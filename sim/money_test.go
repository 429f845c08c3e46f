package sim

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// edges are the ends of every accepted range and their neighbours.
var amountEdges = []int64{1, 2, 99, 100, 101, 9_223_372_036_854, 1 << 40, 1<<48 - 1, 1 << 48}
var rateEdges = []int64{MinRate, MinRate + 1, 914_000, 1_094_092, RateScale, MaxRate - 1, MaxRate}

func bigCeilDiv(a, b, d int64) *big.Int {
	n := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	n.Add(n, big.NewInt(d-1))
	return n.Quo(n, big.NewInt(d))
}

// TestSourceForWholeRange checks SourceFor against exact big-integer
// arithmetic over every accepted amount (1..2^48) and rate (MinRate..
// MaxRate): the edges and 200k random pairs. The int64 product it used
// to take overflowed above 9.2e12 minor units; the smallest-source
// property is checked with Convert, also exact.
func TestSourceForWholeRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 48))
	check := func(dst, rate int64) {
		got := SourceFor(dst, rate)
		want := bigCeilDiv(dst, RateScale, rate)
		if !want.IsInt64() || got != want.Int64() {
			t.Fatalf("SourceFor(%d, %d) = %d, want %s", dst, rate, got, want)
		}
		if got > 1<<60 {
			t.Fatalf("SourceFor(%d, %d) = %d: past the held-amount bound 2^60", dst, rate, got)
		}
		if Convert(got, rate) < dst || Convert(got-1, rate) >= dst {
			t.Fatalf("SourceFor(%d, %d) = %d is not the least source buying dst", dst, rate, got)
		}
	}
	for _, a := range amountEdges {
		for _, r := range rateEdges {
			check(a, r)
		}
	}
	for i := 0; i < 200_000; i++ {
		check(1+rng.Int64N(1<<48), MinRate+rng.Int64N(MaxRate-MinRate+1))
	}
}

// TestFeesWholeRange checks both fee functions against big-integer
// rounding over every amount (1..2^48) and every fee a policy may set
// (0..10000 bps, 0..1000000 cbps). FeeCBPS multiplied in int64 and
// overflowed above 9.2e12.
func TestFeesWholeRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 13))
	check := func(a, bps, cbps int64) {
		want := new(big.Int).Quo(new(big.Int).Add(new(big.Int).Mul(big.NewInt(a), big.NewInt(bps)), big.NewInt(5_000)), big.NewInt(10_000))
		if got := FeeBPS(a, bps); got != want.Int64() {
			t.Fatalf("FeeBPS(%d, %d) = %d, want %s", a, bps, got, want)
		}
		want = new(big.Int).Quo(new(big.Int).Add(new(big.Int).Mul(big.NewInt(a), big.NewInt(cbps)), big.NewInt(500_000)), big.NewInt(1_000_000))
		if got := FeeCBPS(a, cbps); got != want.Int64() {
			t.Fatalf("FeeCBPS(%d, %d) = %d, want %s", a, cbps, got, want)
		}
		if f := FeeBPS(a, bps); f > a {
			t.Fatalf("FeeBPS(%d, %d) = %d exceeds the amount", a, bps, f)
		}
	}
	for _, a := range amountEdges {
		for _, f := range []int64{0, 1, 38, 60, 9_999, 10_000} {
			check(a, f, f*100)
		}
	}
	for i := 0; i < 200_000; i++ {
		check(1+rng.Int64N(1<<48), rng.Int64N(10_001), rng.Int64N(1_000_001))
	}
}

// TestCountersWholeRange: Exceeds and AddSat agree with exact arithmetic
// for every counter, amount and limit an int64 holds (a DaySpent that
// wrapped negative let a payment past the daily limit).
func TestCountersWholeRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 2))
	edges := []int64{0, 1, 1 << 48, MaxBalance, math.MaxInt64 - 1, math.MaxInt64}
	check := func(spent, amount, limit int64) {
		sum := new(big.Int).Add(big.NewInt(spent), big.NewInt(amount))
		want := limit > 0 && sum.Cmp(big.NewInt(limit)) > 0
		if got := Exceeds(spent, amount, limit); got != want {
			t.Fatalf("Exceeds(%d, %d, %d) = %v, want %v", spent, amount, limit, got, want)
		}
		s := AddSat(spent, amount)
		if sum.IsInt64() && s != sum.Int64() || !sum.IsInt64() && s != math.MaxInt64 {
			t.Fatalf("AddSat(%d, %d) = %d, want %s saturated", spent, amount, s, sum)
		}
	}
	for _, s := range edges {
		for _, a := range edges {
			for _, l := range edges {
				check(s, a, l)
			}
		}
	}
	for i := 0; i < 200_000; i++ {
		check(rng.Int64N(math.MaxInt64), rng.Int64N(math.MaxInt64), rng.Int64N(math.MaxInt64))
	}
}
