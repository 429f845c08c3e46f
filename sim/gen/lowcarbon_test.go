package gen

import (
	"math"
	"testing"

	"github.com/walletsim/walletsim/sim"
)

// TestLowCarbonEnrolment: the programme enrols mainland Weixin holders at
// the scenario's share and nobody else, and changes nothing else about the
// population (so it changes no payment); without it nothing is reported.
func TestLowCarbonEnrolment(t *testing.T) {
	sc := smallQuickstart(t, 20_000, 1)
	if sc.LowCarbon.Enabled() {
		t.Fatal("quickstart models no low-carbon programme")
	}
	base := NewPopulation(sc)
	if base.LowCarbon() != nil {
		t.Fatal("a scenario without low_carbon reports an enrolment")
	}
	const share = 0.25
	sc.LowCarbon.WeixinEnrolled = share
	p := NewPopulation(sc)
	lc := p.LowCarbon()
	if lc == nil || lc.Share != share || lc.Note == "" {
		t.Fatalf("low carbon %+v", lc)
	}
	var holders int64
	for i, w := range p.Wallets {
		cn := w.Provider == sim.Weixin && w.Region == sim.CN
		if cn {
			holders++
		}
		if w.Enrolled && !cn {
			t.Fatalf("wallet %d (%s, %s) enrolled: only mainland Weixin holders take part", i+1, w.Provider, w.Region)
		}
		w.Enrolled = false
		if w != base.Wallets[i] {
			t.Fatalf("wallet %d differs with the programme: %+v, without %+v", i+1, w, base.Wallets[i])
		}
	}
	sd := math.Sqrt(float64(holders) * share * (1 - share))
	if lc.Holders != holders || math.Abs(float64(lc.Enrolled)-share*float64(holders)) > 4*sd {
		t.Fatalf("%d of %d holders enrolled (counted %d), want about %.0f", lc.Enrolled, lc.Holders, holders, share*float64(holders))
	}
}
