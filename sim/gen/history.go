package gen

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// history draws what each wallet paid from its balance before the run, in
// the current limit year and over its life, so that the yearly and
// lifetime class limits start where a long run would find them (issue
// 13). Started at zero, they bind more the longer a run lasts: over the
// ~43 consumer-days of 10M quickstart payments class I wallets exhaust
// their RMB 1,000 lifetime allowance and e-CNY tier-4 wallets their RMB
// 10,000 a year, and limit_exceeded rose by half between 200k and 10M
// payments.
//
// A wallet's past is its own payments at the run's rate: it makes lambda
// first-choice payments a holder day (the generator's own draw of region,
// provider and wallet; fallbacks are left out), each paid from the balance
// or not exactly as warmStart's burn-in pays them (card first, balance
// short, transfers received, top-ups back to the float), and only where
// its own scheme is accepted whatever the policy (walled-garden's
// acceptance, which every era extends): a scan where the merchant's code
// (or scanner) shows the wallet's provider, or UnionPay's for bank apps
// and QuickPass (cal:interop.emvco-2017), a transfer to a wallet of the
// same provider. What an interoperability policy adds is left out, so
// that every policy of a compare gets the same population; telco apps,
// whose only own acceptance is their scanners, are the wallets it
// undercounts most (about half of what they spend under
// unionpay-open-2024). The mean and
// spread of the balance spending per payment come from histSample such
// payments of a wallet like it (momentKey); over the n payments of its past the wallet spent about
// n x mean, give or take sqrt(n) x spread (a normal draw: n is hundreds).
// Spending past a limit would have been declined or paid by card, so a
// counter stops at its limit. The year is
// the scenario's date's civil year so far (ledger.Clock.Year counts the
// same days); the wallet's age is uniform since its limits began [A]
// (cal:assume.wallet-age), its past payments as cal:assume.wallet-history says.
//
// Only scenarios that compress their consumers' days
// (population.payments_per_day) and rebalance (funding.rebalance) have a
// holder day to count a past in; others start at zero as before.
type history struct {
	ws       *warmStart
	seed     uint64
	moments  map[momentKey][4]float64
	mu       sync.Mutex // guards moments: chunks draw in parallel
	yearDays float64    // holder days of the limit year before the start
	start    int64
	perDay   float64 // payments a holder day, all wallets
	region   [sim.NumRegions]float64
	prov     [sim.NumRegions][sim.NumProviders]float64
}

// histSample is how many payments are drawn to estimate the balance
// spending per payment of a kind of wallet (momentKey): the amounts are
// heavy-tailed (sigma 1.4), so the mean needs thousands.
const histSample = 4096

// momentKey is a kind of wallet whose payments spend alike: the float in
// half-octave bands from RMB 10 to 40,960 (a larger float pays what a
// smaller one does: the payments it cannot are a few in 10,000); the class
// by the limits a payment meets (balance cap, per transaction).
type momentKey struct {
	region       sim.Region
	prov         sim.Provider
	capB, perTxn int64
	card         bool
	band         int16
}

const (
	minBand = 2 * 10 // log2(RMB 10 in fen) ~ 10
	maxBand = 2 * 22 // log2(RMB 40,960 in fen) ~ 22
)

// limitsSince is when a class's yearly or lifetime limits began: wallets
// are no older [A] (cal:assume.wallet-age).
// cst is China Standard Time, where the limits' dates are given.
var cst = time.FixedZone("CST", 8*3600)

func limitsSince(c sim.Class) time.Time {
	switch c {
	case sim.CNClass1, sim.CNClass2, sim.CNClass3:
		return time.Date(2016, 7, 1, 0, 0, 0, 0, cst) // cal:limits.account-class
	case sim.ECNYTier1, sim.ECNYTier2, sim.ECNYTier3, sim.ECNYTier4:
		return time.Date(2020, 1, 1, 0, 0, 0, 0, cst) // cal:limits.ecny-tiers (2020)
	case sim.ECNYHK:
		return time.Date(2024, 5, 1, 0, 0, 0, 0, cst) // cal:limits.ecny-hk (May 2024)
	case sim.ForeignCard:
		return time.Date(2024, 1, 1, 0, 0, 0, 0, cst) // cal:fees.foreign-card (2024)
	}
	return time.Time{}
}

func newHistory(s *scenario.Compiled, ws *warmStart) *history {
	if s.DayMS <= 0 || !s.Funding.Rebalance || s.Rate <= 0 {
		return nil
	}
	h := &history{ws: ws, seed: uint64(s.Seed), moments: map[momentKey][4]float64{}, start: s.StartMS, yearDays: float64(ledger.YearDay(s.StartMS))}
	h.perDay = s.Rate * float64(s.DayMS) / 1000
	// Where the generator's payments start (gen.payment): the kind's
	// region, then the region's preferred provider.
	pay, tr, act := regionShares(s.PayerRegions), regionShares(s.Transit.PayerRegions), ActivityByRegion(s)
	if len(s.Transit.PayerRegions) == 0 {
		tr = pay
	}
	total := 0.0
	for i, k := range s.Kinds {
		w := pay
		switch k {
		case sim.Transit:
			w = tr
		case sim.TopUp:
			w = act
		}
		for r := range h.region {
			h.region[r] += s.KindShare[i] * w[r]
		}
		total += s.KindShare[i]
	}
	for r := range h.region {
		if total > 0 {
			h.region[r] /= total
		}
	}
	return h
}

// setProviders records the generator's provider weights per region (only
// providers with wallets there, as gen.New builds them).
func (h *history) setProviders(p *Population, pref [sim.NumRegions]map[string]float64) {
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		t := 0.0
		for _, pr := range sim.Providers() {
			if _, n := p.WalletsOf(r, pr); n > 0 {
				w := pref[r][pr.String()]
				if len(pref[r]) == 0 {
					w = float64(n)
				}
				h.prov[r][pr] = w
				t += w
			}
		}
		for pr := range h.prov[r] {
			if t > 0 {
				h.prov[r][pr] /= t
			}
		}
	}
}

// rate is wallet id's payments a holder day: as the holder's first choice,
// or as a fallback behind it (fallbackShare of what the first pays).
func (h *history) rate(p *Population, id uint32) float64 {
	if l := h.firstRate(p, id); l > 0 {
		return l
	}
	if first := p.Holdings[p.Wallets[id-1].Consumer][0]; first != 0 && first != id {
		return fallbackShare * h.firstRate(p, first)
	}
	return 0
}

// fallbackShare is what a consumer's other wallets pay for every payment
// their first choice makes [A] (cal:assume.wallet-history): quickstart's
// second Alipay and Weixin wallets spent 0.13 of what first ones did under
// unionpay-open-2024; less under closed eras.
const fallbackShare = 0.1

// firstRate is wallet id's first-choice payments a holder day.
func (h *history) firstRate(p *Population, id uint32) float64 {
	w := p.Wallets[id-1]
	share := h.region[w.Region] * h.prov[w.Region][w.Provider]
	if top := p.topOf[w.Region][w.Provider]; len(top) > 0 {
		if !p.top[id] {
			return 0
		}
		return h.perDay * share / float64(len(top))
	}
	_, n := p.WalletsOf(w.Region, w.Provider)
	return h.perDay * share / float64(max(n, 1))
}

// draw sets w's YearSpent and LifeSpent from lambda, its payments a holder
// day, and its QuotaUsed from lambdaW, the payments a holder day of a first
// choice like it (withdrawals).
//
// The free withdrawal quota (cal:fees.withdrawal, RMB 1,000 over a
// wallet's life) is spent by the excess above the float that rebalancing
// withdraws, the burn-in's withdrawals per payment (moment) over the
// wallet's age. Drawn as a fixed share instead (80% used up, the rest a
// uniform part), the holders who still had some used it up during the run
// and consumer fees per payment rose 21% from 200k to 10M quickstart
// payments. A wallet that is not its holder's first choice receives
// transfers as a first choice does and withdraws what it does not spend, so
// it is given a first choice's withdrawals (a lower bound: it spends less).
func (h *history) draw(r *rand.Rand, w *WalletInfo, lambda, lambdaW float64) {
	lim := sim.DefaultLimits[w.Class]
	if lim.PerYear == 0 && lim.Lifetime == 0 {
		return
	}
	since := limitsSince(w.Class)
	if since.IsZero() {
		return
	}
	maxAge := float64(h.start-since.UnixMilli()) / 86_400_000
	// The same draws whatever the rate, so the stream does not depend on it.
	age := r.Float64() * max(maxAge, 0)
	zy, zl, zq := r.NormFloat64(), r.NormFloat64(), r.NormFloat64()
	m := h.moment(*w)
	past := func(rate, days, mean, sd, z float64) float64 {
		n := rate * days
		return n*mean + math.Sqrt(n)*sd*z
	}
	if route.WithdrawalFeeApplies(w.Provider) && lambdaW > 0 {
		w.QuotaUsed = int32(capAt(past(lambdaW, age, m[2], m[3], zq), route.WithdrawalQuota))
	}
	if lambda <= 0 {
		return
	}
	if lim.PerYear > 0 {
		w.YearSpent = capAt(past(lambda, min(age, h.yearDays), m[0], m[1], zy), lim.PerYear)
	}
	if lim.Lifetime > 0 {
		w.LifeSpent = capAt(past(lambda, age, m[0], m[1], zl), lim.Lifetime)
	}
}

// withdrawalRate is the payments a holder day of a first choice of w's
// region and provider (history.draw's lambdaW).
func (h *history) withdrawalRate(p *Population, id uint32) float64 {
	w := p.Wallets[id-1]
	if top := p.topOf[w.Region][w.Provider]; len(top) > 0 {
		return h.firstRate(p, top[0])
	}
	return h.firstRate(p, id)
}

// moment is the mean and standard deviation of the balance spending per
// payment of wallets like w, then of the withdrawals per payment, from
// their own stream (so the order wallets ask in does not matter).
func (h *history) moment(w WalletInfo) [4]float64 {
	band := halfOctave(w.Target)
	card := cardFunds(w)
	lim := sim.DefaultLimits[w.Class]
	k := momentKey{region: w.Region, prov: w.Provider, capB: lim.BalanceCap, perTxn: lim.PerTxn, card: card, band: band}
	h.mu.Lock()
	m, ok := h.moments[k]
	h.mu.Unlock()
	if ok {
		return m
	}
	like := WalletInfo{Region: w.Region, Class: w.Class, Provider: w.Provider, Target: int64(math.Exp2((float64(band) + 0.5) / 2))}
	if card {
		like.Card = sim.CardDebit
	}
	// The stream is the key's, so the order wallets ask in does not matter.
	r := rand.New(rand.NewPCG(h.seed^uint64(k.capB)<<20^uint64(k.perTxn), 0x686d<<40|uint64(k.prov)<<32|uint64(k.region)<<24|uint64(uint16(band))<<1|b2u(card)))
	var s, s2, d, d2 float64
	h.ws.spent(r, like, histSample, &h.ws.native[w.Region][w.Provider], func(a, out int64) {
		x, y := float64(a), float64(out)
		s, s2, d, d2 = s+x, s2+x*x, d+y, d2+y*y
	})
	mean, wd := s/histSample, d/histSample
	m = [4]float64{mean, math.Sqrt(max(s2/histSample-mean*mean, 0)), wd, math.Sqrt(max(d2/histSample-wd*wd, 0))}
	h.mu.Lock()
	h.moments[k] = m
	h.mu.Unlock()
	return m
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// capAt bounds a drawn past to [0, limit]: a normal draw over a short past
// can come out below zero.
func capAt(v float64, limit int64) int64 {
	switch {
	case !(v < float64(limit)):
		return limit
	case v <= 0:
		return 0
	}
	return int64(math.Round(v))
}

// spent hands each of n payments of w its balance spending (0 when the
// balance does not pay it) and what it withdrew, starting at its float:
// warmStart's step, with the top-ups that bring the balance back to it
// and the withdrawals of the excess above it.
func (ws *warmStart) spent(r *rand.Rand, w WalletInfo, n int, accepted *[sim.NumKinds]float64, each func(spent, withdrawn int64)) {
	b := w.Target
	kinds := &ws.kinds[w.Region]
	if len(kinds.idx) == 0 {
		return
	}
	card := cardFunds(w)
	capB := sim.DefaultLimits[w.Class].BalanceCap
	perTxn := sim.DefaultLimits[w.Class].PerTxn
	for i := 0; i < n; i++ {
		if r.Float64() < ws.p {
			var out int64
			b, out = ws.rebalanced(r, b, w.Target, capB)
			each(0, out)
			continue
		}
		k, a, h := ws.payment(r, kinds, card, capB, b)
		switch {
		case h == incoming:
			b += a
		case h == fromBalance && (perTxn == 0 || a <= perTxn) && r.Float64() < accepted[k]:
			b -= a
			each(a, 0)
			continue
		}
		each(0, 0)
	}
}

// how says what pays one of warmStart's payment steps.
type how uint8

const (
	unpaid      how = iota // the balance is short of it
	fromBalance            // the balance pays it
	byCard                 // the linked card pays it (the balance is untouched)
	incoming               // a transfer the wallet receives
	bounced                // a transfer received that the balance cap turns back
)

// payment draws one of warmStart's payment steps at balance b: its amount
// and what pays it, or whether it is a transfer received.
func (ws *warmStart) payment(r *rand.Rand, kinds *weighted, card bool, capB, b int64) (k sim.Kind, a int64, h how) {
	k = sim.Kind(kinds.pick(r))
	if k == sim.Transit {
		a = 1000 // about a median fare [A]; transit fares have no amounts entry
	} else if d := ws.amounts[k]; d.Median > 0 {
		a = drawMinor(r, d)
	}
	if k.IsTransfer() && r.Float64() < 0.5 {
		if capB == 0 || b+a <= capB {
			return k, a, incoming
		}
		return k, a, bounced
	}
	if card && r.Float64() < ws.cardFirst {
		return k, a, byCard
	}
	if b >= a {
		return k, a, fromBalance
	}
	return k, a, unpaid
}
