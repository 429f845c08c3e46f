package gen_test

import (
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
)

// BenchmarkGenerate is the generator's cost per payment (one epoch of
// quickstart traffic, reported per payment).
func BenchmarkGenerate(b *testing.B) {
	sc, _, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		b.Fatal(err)
	}
	g := gen.New(sc)
	var buf []event.Command
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for n < b.N {
		buf, _ = g.Epoch(1, buf[:0])
		n += len(buf)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/payment")
}

// BenchmarkPopulation is the population's cost per wallet at the large
// preset (1M wallets): holdings, the limits' past and the warm start.
func BenchmarkPopulation(b *testing.B) {
	sc, _, err := scenarios.LoadScaled("quickstart", "large")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var n int
	for i := 0; i < b.N; i++ {
		n = len(gen.NewPopulation(sc).Wallets)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/wallet")
}
