package gen

import (
	"math/rand/v2"

	"github.com/walletsim/walletsim/sim"
)

// LowCarbon is a population's enrolment in WeChat Pay's low-carbon
// programme (scenario low_carbon): the only figure its sources give is
// uptake, so enrolment earns no green-energy points and changes no
// payment, and this is all a run reports of it.
type LowCarbon struct {
	Programme string `json:"programme"`
	// Share is the scenario's share of mainland Weixin holders enrolled;
	// Holders the mainland Weixin wallets, Enrolled those drawn enrolled.
	Share    float64 `json:"weixin_enrolled_share"`
	Holders  int64   `json:"weixin_holders"`
	Enrolled int64   `json:"enrolled"`
	Note     string  `json:"note"`
}

// LowCarbonProgramme names the programme and its source row.
const LowCarbonProgramme = "WeChat Pay low-carbon Q&A challenge, 15 Jun 2022, three weeks (cal:carbon.wechat-challenge-2022)"

// LowCarbonNote says what the programme's sources do not give.
const LowCarbonNote = "uptake only: the sources give no green-energy points, credit or change in payments for taking part, so none are modelled"

// drawEnrolment marks each mainland Weixin wallet's holder enrolled with
// the scenario's share, on a stream of its own (scenarios without the
// programme draw nothing).
func (p *Population) drawEnrolment(seed int64, share float64) {
	if !(share > 0) {
		return
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x6c6f7763))
	for i := range p.Wallets {
		if w := &p.Wallets[i]; w.Provider == sim.Weixin && w.Region == sim.CN {
			w.Enrolled = r.Float64() < share
		}
	}
	p.lowCarbon = share
}

// LowCarbon counts the population's enrolment; nil when the scenario does
// not model the programme.
func (p *Population) LowCarbon() *LowCarbon {
	if !(p.lowCarbon > 0) {
		return nil
	}
	out := &LowCarbon{Programme: LowCarbonProgramme, Share: p.lowCarbon, Note: LowCarbonNote}
	for _, w := range p.Wallets {
		if w.Provider == sim.Weixin && w.Region == sim.CN {
			out.Holders++
			if w.Enrolled {
				out.Enrolled++
			}
		}
	}
	return out
}
