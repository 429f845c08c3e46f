package run

import (
	"math"
	"slices"
)

// quantiles returns, for each p of ps, the value a sort of vals would
// hold at index min(n-1, floor(p*n)), without sorting vals or copying
// them: two passes over vals, a histogram of their high bits to find the
// bucket each rank falls in, then a sort of only those buckets' values.
// At 20M route latencies (xlarge) the copy and sort it replaces were
// about two seconds on one core at the end of the run, and the copy 160
// MB. Values are expected to be >= 0; a negative one sorts first, as in
// a sort.
func quantiles(vals []int64, ps []float64) []int64 {
	out := make([]int64, len(ps))
	n := len(vals)
	if n == 0 {
		return out
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	// Buckets of width 2^shift over [lo, hi]: at most 1<<16 of them.
	span := uint64(hi) - uint64(lo) // hi >= lo: the difference fits

	shift := uint(0)
	for span>>shift >= 1<<16 {
		shift++
	}
	counts := make([]int, span>>shift+1)
	for _, v := range vals {
		counts[(uint64(v)-uint64(lo))>>shift]++
	}
	// Each rank's bucket and its rank within the bucket.
	type want struct{ bucket, rank int }
	wants := make([]want, len(ps))
	for i, p := range ps {
		k := int(math.Min(float64(n-1), p*float64(n)))
		k = max(k, 0)
		cum := 0
		for b, c := range counts {
			if k < cum+c {
				wants[i] = want{b, k - cum}
				break
			}
			cum += c
		}
	}
	// The values of the buckets wanted (at most len(ps) of them), sorted.
	slot := make([]int32, len(counts)) // 1 + index into lists; 0: not wanted
	var lists [][]int64
	for _, w := range wants {
		if slot[w.bucket] == 0 {
			lists = append(lists, make([]int64, 0, counts[w.bucket]))
			slot[w.bucket] = int32(len(lists))
		}
	}
	for _, v := range vals {
		if j := slot[(uint64(v)-uint64(lo))>>shift]; j != 0 {
			lists[j-1] = append(lists[j-1], v)
		}
	}
	for _, l := range lists {
		slices.Sort(l)
	}
	for i, w := range wants {
		out[i] = lists[slot[w.bucket]-1][w.rank]
	}
	return out
}
