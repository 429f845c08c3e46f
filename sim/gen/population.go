// Package gen generates a scenario's traffic from its seed: the wallets,
// consumers and merchants (the population), then each epoch's payments.
// Every epoch draws from its own random stream, seeded by (seed, epoch), so
// epochs can be generated in any order or in parallel and still come out
// the same on every machine.
package gen

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// WalletInfo is a wallet as the population defines it.
type WalletInfo struct {
	Consumer uint32
	Provider sim.Provider
	Region   sim.Region
	Class    sim.Class
	Initial  int64
	// Card is the linked bank card (scenario funding.cards); QuotaUsed the
	// free withdrawal quota its holder used before the run.
	Card      sim.Card
	QuotaUsed int64
	// Target is the float rebalancing top-ups bring the balance back to
	// (scenario funding.rebalance; 0: none). Initial is then the balance
	// the wallet is found at on the scenario's date (warmStart).
	Target int64
}

// MerchantInfo is a merchant as the population defines it.
type MerchantInfo struct {
	Region   sim.Region
	Codes    uint16 // schemes of the codes it shows
	Scanners uint16 // networks its scanner reads
	Static   bool
	Tier     sim.Tier // its discount-rate contract with its acquirer
}

type span struct{ start, n uint32 }

// Population is everything the generator draws payers and payees from.
// Wallet IDs are 1..len(Wallets), grouped by region and provider; merchant
// IDs are 1..len(Merchants), grouped by region.
type Population struct {
	Wallets   []WalletInfo
	Merchants []MerchantInfo
	// Consumer wallets, preference order, 0 = none.
	Holdings [][event.MaxCandidates]uint32
	byPR     [sim.NumRegions][sim.NumProviders]span
	merchBy  [sim.NumRegions]span
	consBase [sim.NumRegions]uint32
}

// Wallet returns wallet id's definition (id from 1).
func (p *Population) Wallet(id uint64) (WalletInfo, bool) {
	if id == 0 || id > uint64(len(p.Wallets)) {
		return WalletInfo{}, false
	}
	return p.Wallets[id-1], true
}

// Merchant returns merchant id's definition (id from 1).
func (p *Population) Merchant(id uint64) (MerchantInfo, bool) {
	if id == 0 || id > uint64(len(p.Merchants)) {
		return MerchantInfo{}, false
	}
	return p.Merchants[id-1], true
}

// WalletsOf returns the ID range [first, first+n) of a region's provider.
func (p *Population) WalletsOf(r sim.Region, pr sim.Provider) (first uint64, n int) {
	s := p.byPR[r][pr]
	return uint64(s.start) + 1, int(s.n)
}

// weighted is a cumulative distribution over small indexes.
type weighted struct {
	idx []int
	cum []float64
}

func newWeighted(idx []int, w []float64) weighted {
	var out weighted
	t := 0.0
	for i, x := range w {
		if x > 0 {
			t += x
			out.idx = append(out.idx, idx[i])
			out.cum = append(out.cum, t)
		}
	}
	for i := range out.cum {
		out.cum[i] /= t
	}
	return out
}

func (w *weighted) pick(r *rand.Rand) int {
	if len(w.idx) == 0 {
		return -1
	}
	u := r.Float64()
	i, _ := slices.BinarySearch(w.cum, u)
	if i >= len(w.idx) {
		i = len(w.idx) - 1
	}
	return w.idx[i]
}

func regionMap[V any](m map[string]V) [sim.NumRegions]V {
	var out [sim.NumRegions]V
	for _, k := range scenario.SortedKeys(m) {
		if r, err := sim.ParseRegion(k); err == nil {
			out[r] = m[k]
		}
	}
	return out
}

// defaultClasses is the KYC mix when a scenario gives none [A].
func defaultClass(pr sim.Provider, r sim.Region) map[string]float64 {
	switch {
	case pr == sim.ECNY && r == sim.HK:
		return map[string]float64{"ecny_hk": 1}
	case pr == sim.ECNY:
		return map[string]float64{"ecny_tier2": 0.2, "ecny_tier3": 0.5, "ecny_tier4": 0.3}
	case r == sim.HK:
		return map[string]float64{"hk_svf": 0.8, "hk_basic": 0.2}
	}
	return map[string]float64{"cn_class2": 0.7, "cn_class3": 0.25, "cn_class1": 0.05}
}

// NewPopulation builds the population of s from its seed.
func NewPopulation(s *scenario.Compiled) *Population {
	p := &Population{}
	rng := rand.New(rand.NewPCG(uint64(s.Seed), 0x706f70))
	consumers := regionMap(s.Population.Consumers)
	wallets := regionMap(s.Population.Wallets)
	pref := regionMap(s.Population.Preference)
	next := uint32(0)
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		p.consBase[r] = next
		next += uint32(consumers[r])
	}
	p.Holdings = make([][event.MaxCandidates]uint32, next)
	// Funding draws come from their own stream, so a scenario without them
	// draws its population exactly as before.
	frng := rand.New(rand.NewPCG(uint64(s.Seed), 0x66756e64))
	warm := newWarmStart(s)
	holdCount := make([]uint8, next)
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		// Providers in preference order: a consumer's wallets are listed the
		// way they reach for them.
		provs := sim.Providers()
		slices.SortStableFunc(provs, func(a, b sim.Provider) int {
			pa, pb := pref[r][a.String()], pref[r][b.String()]
			switch {
			case pa > pb:
				return -1
			case pa < pb:
				return 1
			}
			return 0
		})
		nc := uint32(consumers[r])
		for _, pr := range provs {
			n := uint32(wallets[r][pr.String()])
			if n == 0 || nc == 0 {
				continue
			}
			classes := s.Population.Classes[pr.String()]
			if len(classes) == 0 {
				classes = defaultClass(pr, r)
			}
			var cidx []int
			var cw []float64
			for _, name := range scenario.SortedKeys(classes) {
				c, _ := sim.ParseClass(name)
				cidx, cw = append(cidx, int(c)), append(cw, classes[name])
			}
			cdist := newWeighted(cidx, cw)
			p.byPR[r][pr] = span{start: uint32(len(p.Wallets)), n: n}
			// An affine permutation spreads each provider's wallets over
			// different consumers without a per-provider shuffle array.
			a, b := coprime(rng, nc), rng.Uint32N(nc)
			for i := uint32(0); i < n; i++ {
				cons := p.consBase[r] + uint32((uint64(a)*uint64(i)+uint64(b))%uint64(nc))
				cl := sim.Class(cdist.pick(rng))
				w := WalletInfo{Consumer: cons, Provider: pr, Region: r, Class: cl, Initial: drawMinor(rng, s.Population.InitialBalance)}
				if capB := sim.DefaultLimits[cl].BalanceCap; capB > 0 && w.Initial > capB {
					w.Initial = capB
				}
				if f := &s.Funding; f.Enabled() {
					w.Card = drawCard(frng, f.Cards[pr.String()])
					if f.Rebalance {
						// Holders keep their float clear of the balance cap,
						// so money received does not bounce [A]
						// (cal:assume.rebalance).
						if capB := sim.DefaultLimits[cl].BalanceCap; capB > 0 {
							w.Initial = min(w.Initial, capB*4/5)
						}
						w.Target = w.Initial
						w.Initial = warm.balance(frng, w)
					}
					if frng.Float64() < f.QuotaUsed {
						w.QuotaUsed = route.WithdrawalQuota
					} else {
						w.QuotaUsed = frng.Int64N(route.WithdrawalQuota + 1)
					}
				}
				p.Wallets = append(p.Wallets, w)
				if k := holdCount[cons]; k < event.MaxCandidates {
					p.Holdings[cons][k] = uint32(len(p.Wallets))
					holdCount[cons]++
				}
			}
		}
	}
	tiers := regionMap(s.Merchants.Tiers)
	counts := regionMap(s.Merchants.Count)
	codes := regionMap(s.Merchants.Codes)
	scanners := regionMap(s.Merchants.Scanners)
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		p.merchBy[r] = span{start: uint32(len(p.Merchants)), n: uint32(counts[r])}
		cd, cm := maskDist(codes[r])
		sd, sm := maskDist(scanners[r])
		for i := int64(0); i < counts[r]; i++ {
			m := MerchantInfo{Region: r, Static: rng.Float64() < s.Merchants.StaticShare}
			if k := cd.pick(rng); k >= 0 {
				m.Codes = cm[k]
			}
			if k := sd.pick(rng); k >= 0 {
				m.Scanners = sm[k]
			}
			if len(tiers[r]) > 0 {
				m.Tier = drawTier(frng, tiers[r])
			}
			p.Merchants = append(p.Merchants, m)
		}
	}
	return p
}

// drawCard draws a wallet's linked card from shares by kind.
func drawCard(r *rand.Rand, shares map[string]float64) sim.Card {
	u := r.Float64()
	for _, k := range scenario.SortedKeys(shares) {
		if u -= shares[k]; u < 0 {
			c, _ := sim.ParseCard(k)
			return c
		}
	}
	return sim.CardNone
}

// drawTier draws a merchant's contract tier from shares by tier.
func drawTier(r *rand.Rand, shares map[string]float64) sim.Tier {
	var idx []int
	var w []float64
	for _, k := range scenario.SortedKeys(shares) {
		t, _ := sim.ParseTier(k)
		idx, w = append(idx, int(t)), append(w, shares[k])
	}
	d := newWeighted(idx, w)
	return sim.Tier(max(d.pick(r), 0))
}

func maskDist(sets map[string]float64) (weighted, []uint16) {
	var idx []int
	var w []float64
	var masks []uint16
	for i, name := range scenario.SortedKeys(sets) {
		m, _ := scenario.ParseCodeSet(name)
		idx, w, masks = append(idx, i), append(w, sets[name]), append(masks, m)
	}
	return newWeighted(idx, w), masks
}

func coprime(r *rand.Rand, n uint32) uint32 {
	if n <= 1 {
		return 1
	}
	for {
		a := 1 + r.Uint32N(n-1)
		if gcd(a, n) == 1 {
			return a
		}
	}
}

func gcd(a, b uint32) uint32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// drawMinor draws a lognormal amount and returns minor units.
func drawMinor(r *rand.Rand, d scenario.Dist) int64 {
	v := d.Median * math.Exp(d.Sigma*r.NormFloat64())
	if d.Min > 0 && v < d.Min {
		v = d.Min
	}
	if d.Max > 0 && v > d.Max {
		v = d.Max
	}
	m := int64(math.Round(v * 100))
	return max(m, 1)
}

// warmStart draws the balance a rebalancing wallet is found at when the run
// starts, so that the run starts in the steady state it keeps instead of
// with every wallet just topped up: a rebalancing top-up resets the
// balance to the float, and between two of them the wallet has made a
// geometric number of other payments (one in `topup share` of its payments
// is a top-up), each paid from the balance when it covers it and the
// consumer did not pick the card. Transfers come in as often as they go
// out. This is a burn-in of the run's own rules per wallet, not a new
// assumption; it approximates them (it ignores fallback payments and
// currency conversion).
type warmStart struct {
	p         float64 // share of payments that are top-ups
	kinds     [sim.NumRegions]weighted
	amounts   [sim.NumKinds]scenario.Dist
	cardFirst float64
}

func newWarmStart(s *scenario.Compiled) *warmStart {
	w := &warmStart{cardFirst: s.Funding.CardFirst}
	total := 0.0
	for i, k := range s.Kinds {
		total += s.KindShare[i]
		if k == sim.TopUp {
			w.p += s.KindShare[i]
		}
	}
	if total > 0 {
		w.p /= total
	}
	// A region's wallets make transit payments by the riders' regions and
	// the rest by payer_regions (top-ups follow activity: gen.payment).
	pay, tr := regionMap(s.PayerRegions), regionMap(s.Transit.PayerRegions)
	if len(s.Transit.PayerRegions) == 0 {
		tr = pay
	}
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		var idx []int
		var sh []float64
		for i, k := range s.Kinds {
			if k == sim.TopUp {
				continue
			}
			rw := pay[r]
			if k == sim.Transit {
				rw = tr[r]
			}
			idx, sh = append(idx, int(k)), append(sh, s.KindShare[i]*rw)
		}
		w.kinds[r] = newWeighted(idx, sh)
	}
	for name, d := range s.Amounts {
		if k, err := sim.ParseKind(name); err == nil {
			w.amounts[k] = d
		}
	}
	return w
}

// maxWarmSteps bounds the burn-in of one wallet (the geometric tail).
const maxWarmSteps = 1000

func (ws *warmStart) balance(r *rand.Rand, w WalletInfo) int64 {
	b := w.Target
	kinds := &ws.kinds[w.Region]
	if ws.p <= 0 || len(kinds.idx) == 0 {
		return b
	}
	card := w.Card != sim.CardNone && w.Region == sim.CN && (w.Provider == sim.Alipay || w.Provider == sim.Weixin || w.Provider == sim.Telco)
	capB := sim.DefaultLimits[w.Class].BalanceCap
	for step := 0; step < maxWarmSteps && r.Float64() >= ws.p; step++ {
		k := sim.Kind(kinds.pick(r))
		var a int64
		if k == sim.Transit {
			a = 1000 // about a median fare [A]; transit fares have no amounts entry
		} else if d := ws.amounts[k]; d.Median > 0 {
			a = drawMinor(r, d)
		}
		if k.IsTransfer() && r.Float64() < 0.5 {
			if capB == 0 || b+a <= capB {
				b += a // a transfer received
			}
			continue
		}
		if card && r.Float64() < ws.cardFirst {
			continue
		}
		if b >= a {
			b -= a
		}
	}
	return b
}
