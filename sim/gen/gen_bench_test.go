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
