package gen

import (
	"runtime"
	"slices"
	"testing"
)

// TestPopulationSameOnEveryMachine: the limits' past and the warm start are
// drawn in chunks on as many goroutines as there are cores (chunked), and
// the population must not depend on how many: one core, two and eight
// give the same wallets. More chunks than one (popChunk) are needed for
// the check to mean anything.
func TestPopulationSameOnEveryMachine(t *testing.T) {
	s := smallQuickstart(t, 3*popChunk, 2)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var want []WalletInfo
	for _, procs := range []int{1, 2, 8} {
		runtime.GOMAXPROCS(procs)
		got := NewPopulation(s).Wallets
		if len(got) <= popChunk {
			t.Fatalf("%d wallets: one chunk, nothing to compare", len(got))
		}
		if want == nil {
			want = got
			continue
		}
		if !slices.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("GOMAXPROCS %d: wallet %d is %+v, with one core %+v", procs, i+1, got[i], want[i])
				}
			}
		}
	}
}
