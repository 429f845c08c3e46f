package gen

import (
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/scenario"
)

// rebalance spreads a scenario's rebalancing top-ups (funding.rebalance)
// over every wallet that money reaches, not only the wallets that are
// their holder's first choice (issue 13).
//
// A payment starts from the holder's first choice (pickPayer), but a
// transfer lands on any wallet of the payee's provider: a wallet that is
// nobody's first choice receives as much as one that is, pays only as a
// fallback, and, if only first choices rebalanced, was never brought back
// to its float. Its balance rose for the whole run (measured: at 20,000
// quickstart wallets the share of capped second wallets above their float
// went from 2% to 19% over 60 consumer-days) until credits bounced at the
// balance cap, so balance_cap_exceeded grew with run length.
//
// A holder rebalances each of their wallets in step with its own turnover
// (cal:assume.rebalance): the same top-ups per movement of money, in or
// out. Per region and provider, a first-choice wallet's turnover is its own
// payments plus the transfers it receives; another wallet's is the
// transfers it receives plus its fallback payments (fallbackShare of its
// holder's first choice's, cal:assume.wallet-history). A rebalancing top-up
// of the region and provider goes to a wallet that is not first choice
// with probability other, their share of the turnover, else to a first
// choice as before; the scenario's top-up share is unchanged.
type rebalance struct {
	// other is the share of (region, provider)'s rebalancing top-ups that
	// go to wallets that are not their holder's first choice.
	other [sim.NumRegions][sim.NumProviders]float64
	// pFirst and pOther are the warm start's chance that a wallet's next
	// movement is a rebalancing top-up, for first choices and the others.
	pFirst, pOther [sim.NumRegions][sim.NumProviders]float64
	// received is the share of an other wallet's movements that are
	// transfers it receives (the rest are fallback payments).
	received [sim.NumRegions][sim.NumProviders]float64
}

// regionShares normalises per-region weights (unknown regions dropped).
func regionShares(m map[string]float64) [sim.NumRegions]float64 {
	var out [sim.NumRegions]float64
	t := 0.0
	for _, k := range scenario.SortedKeys(m) {
		if r, err := sim.ParseRegion(k); err == nil && m[k] > 0 {
			out[r] += m[k]
			t += m[k]
		}
	}
	for r := range out {
		if t > 0 {
			out[r] /= t
		}
	}
	return out
}

// newRebalance computes the split from the scenario's mix and the
// population's first choices; nil when the scenario does not rebalance.
// Rates are per payment of the run (the unit cancels). sent, when not nil,
// is the share of the transfers each region and provider's first choices
// send that go (warmStart.sentShares); nil counts every one.
func newRebalance(s *scenario.Compiled, p *Population, ws *warmStart, sent *[sim.NumRegions][sim.NumProviders]float64) *rebalance {
	if !s.Funding.Rebalance {
		return nil
	}
	pay, tr, act := regionShares(s.PayerRegions), regionShares(s.Transit.PayerRegions), ActivityByRegion(s)
	if len(s.Transit.PayerRegions) == 0 {
		tr = pay
	}
	total := 0.0
	var share [sim.NumKinds]float64
	for i, k := range s.Kinds {
		total += s.KindShare[i]
		share[k] += s.KindShare[i]
	}
	if total <= 0 {
		return nil
	}
	for k := range share {
		share[k] /= total
	}
	prefs := regionMap(s.Population.Preference)
	var pref [sim.NumRegions][sim.NumProviders]float64 // gen.New's g.pref, normalised
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		t := 0.0
		for _, pr := range sim.Providers() {
			if _, n := p.WalletsOf(r, pr); n > 0 {
				w := prefs[r][pr.String()]
				if len(prefs[r]) == 0 {
					w = float64(n)
				}
				pref[r][pr] = w
				t += w
			}
		}
		for pr := range pref[r] {
			if t > 0 {
				pref[r][pr] /= t
			}
		}
	}
	// own: a first choice's own payments; in: transfers a wallet receives.
	var own, in [sim.NumRegions][sim.NumProviders]float64
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		out := 0.0 // share of all payments (top-ups aside) that start in r
		for k := range share {
			switch sim.Kind(k) {
			case sim.TopUp:
			case sim.Transit:
				out += share[k] * tr[r]
			default:
				out += share[k] * pay[r]
			}
		}
		for _, pr := range sim.Providers() {
			_, n := p.WalletsOf(r, pr)
			if n == 0 {
				continue
			}
			nFirst := n
			if top := len(p.topOf[r][pr]); top > 0 {
				nFirst = top
			}
			own[r][pr] = out * pref[r][pr] / float64(nFirst)
			// P2P and red packets land on the payer's provider; a cross
			// transfer on another one, drawn by preference (gen.payment).
			// Only what the payer's balance and limits let go arrives: a
			// wallet counted as receiving every transfer aimed at it opened
			// above its float twice as often as the run left it (HK basic
			// second wallets: 62% against 31%, so balance_cap_exceeded ran
			// high early in a run).
			went := func(from sim.Provider) float64 {
				if sent == nil {
					return 1
				}
				return sent[r][from]
			}
			land := (share[sim.P2P] + share[sim.RedPacket]) * pref[r][pr] * went(pr)
			for _, from := range sim.Providers() {
				if from != pr && pref[r][from] < 1 {
					land += share[sim.CrossTransfer] * pref[r][from] * pref[r][pr] / (1 - pref[r][from]) * went(from)
				}
			}
			in[r][pr] = pay[r] * land / float64(n)
		}
	}
	rb := &rebalance{}
	// A wallet that is not first choice pays fallbackShare of what its
	// holder's first choice does: the mean over the (region, provider)'s
	// other wallets.
	var fallback [sim.NumRegions][sim.NumProviders]float64
	var others [sim.NumRegions][sim.NumProviders]int
	for i, w := range p.Wallets {
		id := uint32(i + 1)
		if p.first(id) {
			continue
		}
		f := p.Holdings[w.Consumer][0]
		if f == 0 {
			continue
		}
		fw := p.Wallets[f-1]
		fallback[w.Region][w.Provider] += fallbackShare * own[fw.Region][fw.Provider]
		others[w.Region][w.Provider]++
	}
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		for _, pr := range sim.Providers() {
			n1, n0 := len(p.topOf[r][pr]), others[r][pr]
			rb.pFirst[r][pr] = ws.p
			if n1 == 0 || n0 == 0 {
				continue
			}
			fb := fallback[r][pr] / float64(n0)
			t1, t0 := own[r][pr]+in[r][pr], in[r][pr]+fb
			if t0 <= 0 {
				continue
			}
			q := float64(n0) * t0 / (float64(n1)*t1 + float64(n0)*t0)
			rb.other[r][pr] = q
			// The first choices keep 1-q of the top-ups they had.
			rb.pFirst[r][pr] = ws.p * (1 - q) / (1 - ws.p*q)
			u0 := share[sim.TopUp] * act[r] * pref[r][pr] * q / float64(n0)
			rb.pOther[r][pr] = u0 / (u0 + t0)
			rb.received[r][pr] = in[r][pr] / t0
		}
	}
	return rb
}

// first reports whether wallet id is where its holder's payments start:
// their first choice, or any wallet of a provider nobody picks first.
func (p *Population) first(id uint32) bool {
	w := p.Wallets[id-1]
	return p.top[id] || len(p.topOf[w.Region][w.Provider]) == 0
}
