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
	"github.com/walletsim/walletsim/sim/scenario"
)

// WalletInfo is a wallet as the population defines it.
type WalletInfo struct {
	Consumer uint32
	Provider sim.Provider
	Region   sim.Region
	Class    sim.Class
	Initial  int64
}

// MerchantInfo is a merchant as the population defines it.
type MerchantInfo struct {
	Region   sim.Region
	Codes    uint16 // schemes of the codes it shows
	Scanners uint16 // networks its scanner reads
	Static   bool
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
				p.Wallets = append(p.Wallets, w)
				if k := holdCount[cons]; k < event.MaxCandidates {
					p.Holdings[cons][k] = uint32(len(p.Wallets))
					holdCount[cons]++
				}
			}
		}
	}
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
			p.Merchants = append(p.Merchants, m)
		}
	}
	return p
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
