// Package gen generates a scenario's traffic from its seed: the wallets,
// consumers and merchants (the population), then each epoch's payments.
// Every epoch draws from its own random stream, seeded by (seed, epoch), so
// epochs can be generated in any order or in parallel and still come out
// the same on every machine.
package gen

import (
	"cmp"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// WalletInfo is a wallet as the population defines it. Ten million of
// them live through an xlarge run, so the fields are ordered (and
// QuotaUsed kept to 32 bits) for 48 bytes, not 64 (TestWalletInfoSize).
type WalletInfo struct {
	Consumer uint32
	// QuotaUsed is the free withdrawal quota (at most
	// route.WithdrawalQuota) its holder used before the run.
	QuotaUsed int32
	Provider  sim.Provider
	Region    sim.Region
	Class     sim.Class
	// Card is the linked bank card (scenario funding.cards).
	Card sim.Card
	// Enrolled: the holder takes part in WeChat Pay's low-carbon programme
	// (scenario low_carbon; lowcarbon.go).
	Enrolled bool
	Initial  int64
	// Target is the float rebalancing top-ups bring the balance back to
	// (scenario funding.rebalance; 0: none). Initial is then the balance
	// the wallet is found at on the scenario's date (warmStart).
	Target int64
	// YearSpent and LifeSpent are what the holder paid from the balance
	// before the run, this limit year and over the wallet's life (history):
	// the yearly and lifetime class limits count them.
	YearSpent, LifeSpent int64
}

// Currency is the currency the wallet holds (sim.WalletCurrency).
func (w WalletInfo) Currency() sim.Currency { return sim.WalletCurrency(w.Provider, w.Region) }

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
	// topOf lists, per region and provider, the wallets that are their
	// holder's first choice; top marks them (by wallet ID).
	topOf [sim.NumRegions][sim.NumProviders][]uint32
	top   []bool
	// otherOf lists the wallets that are not (where topOf has any); reb
	// says how rebalancing top-ups split between the two (rebalance.go).
	otherOf  [sim.NumRegions][sim.NumProviders][]uint32
	reb      *rebalance
	merchBy  [sim.NumRegions]span
	consBase [sim.NumRegions]uint32
	// lowCarbon is the scenario's low_carbon.weixin_enrolled (0: none).
	lowCarbon float64
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

// defaultClass is the KYC mix when a scenario gives none [A]. It follows
// the wallet's currency (sim.WalletCurrency): a mainland wallet is under
// PBoC classes whoever holds it, the HK e-CNY wallet under its RMB limits
// (cal:limits.ecny-hk), a visitor's foreign-card wallet under the USD
// limits (cal:fees.foreign-card), MPay under the Macau e-wallet's [A].
func defaultClass(pr sim.Provider, r sim.Region) map[string]float64 {
	switch {
	case pr == sim.ECNY && r != sim.CN:
		return map[string]float64{"ecny_hk": 1}
	case pr == sim.ECNY:
		return map[string]float64{"ecny_tier2": 0.2, "ecny_tier3": 0.5, "ecny_tier4": 0.3}
	case sim.WalletCurrency(pr, r) == sim.HKD:
		return map[string]float64{"hk_svf": 0.8, "hk_basic": 0.2}
	case sim.WalletCurrency(pr, r) == sim.MOP:
		return map[string]float64{"mo_wallet": 1}
	case r == sim.INTL:
		return map[string]float64{"foreign_card": 1}
	}
	return map[string]float64{"cn_class2": 0.7, "cn_class3": 0.25, "cn_class1": 0.05}
}

// holding is one wallet of a consumer with its preference key.
type holding struct {
	consumer uint32
	wallet   uint32
	key      float64
}

// NewPopulation builds the population of s from its seed.
//
// Holdings are correlated where a source says how: population.multihoming
// gives, per region, the share of consumers holding both big wallets
// (Alipay and Weixin; cal:market.multihoming), and the two are laid over
// the consumers so that exactly that share holds both. Other providers'
// wallets are spread independently. Each consumer then ranks the wallets
// they hold once, by a Plackett-Luce draw weighted by the region's
// preference shares: that order is who they reach for first and where
// they fall back to.
func NewPopulation(s *scenario.Compiled) *Population {
	p := &Population{}
	rng := rand.New(rand.NewPCG(uint64(s.Seed), 0x706f70))
	consumers := regionMap(s.Population.Consumers)
	wallets := regionMap(s.Population.Wallets)
	pref := regionMap(s.Population.Preference)
	both := regionMap(s.Population.Multihoming)
	next := uint32(0)
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		p.consBase[r] = next
		next += uint32(consumers[r])
	}
	p.Holdings = make([][event.MaxCandidates]uint32, next)
	// Sized at once: grown by appending, the copies were a tenth of the
	// population's time at 1M wallets.
	var total int
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		for _, n := range wallets[r] {
			total += int(max(n, 0))
		}
	}
	p.Wallets = make([]WalletInfo, 0, total)
	held := make([]holding, 0, total)
	// Funding draws come from their own stream, so a scenario without them
	// draws its population exactly as before.
	frng := rand.New(rand.NewPCG(uint64(s.Seed), 0x66756e64))
	warm := newWarmStart(s)
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		nc := uint32(consumers[r])
		if nc == 0 {
			continue
		}
		// One affine permutation of the region's consumers for the big
		// pair: Alipay wallet i goes to consumer perm(i); Weixin wallet j
		// to perm(j) for the first both*nc, then to consumers past the
		// Alipay holders. Compile checked that the counts allow it.
		pa, pb := coprime(rng, nc), rng.Uint32N(nc)
		perm := func(i uint32) uint32 { return uint32((uint64(pa)*uint64(i) + uint64(pb)) % uint64(nc)) }
		nAli := uint32(wallets[r][sim.Alipay.String()])
		nWx := uint32(wallets[r][sim.Weixin.String()])
		// Clamp into what the counts allow (scaling rounds them).
		nBoth := uint32(math.Round(both[r] * float64(nc)))
		nBoth = min(nBoth, nAli, nWx)
		if nAli+nWx > nc {
			nBoth = max(nBoth, nAli+nWx-nc)
		}
		for _, pr := range sim.Providers() {
			n := uint32(wallets[r][pr.String()])
			if n == 0 {
				continue
			}
			// A provider's class mix is for its mainland-licensed (or home)
			// wallets; visitors' foreign-card wallets and the HK e-CNY
			// wallet live under their own limits.
			classes := s.Population.Classes[pr.String()]
			if len(classes) == 0 || r == sim.INTL || (pr == sim.ECNY && r != sim.CN) {
				classes = defaultClass(pr, r)
			}
			var cidx []int
			var cw []float64
			for _, name := range scenario.SortedKeys(classes) {
				c, _ := sim.ParseClass(name)
				cidx, cw = append(cidx, int(c)), append(cw, classes[name])
			}
			cdist := newWeighted(cidx, cw)
			cards := newCardShares(s.Funding.Cards[pr.String()])
			p.byPR[r][pr] = span{start: uint32(len(p.Wallets)), n: n}
			weight := pref[r][pr.String()]
			if len(pref[r]) == 0 {
				weight = float64(n)
			}
			logw := math.Log(max(weight, 1e-9))
			// Other providers: an affine permutation of their own spreads
			// their wallets over different consumers without a shuffle.
			a, b := coprime(rng, nc), rng.Uint32N(nc)
			for i := uint32(0); i < n; i++ {
				var local uint32
				switch {
				case both[r] > 0 && pr == sim.Alipay:
					local = perm(i)
				case both[r] > 0 && pr == sim.Weixin && i < nBoth:
					local = perm(i)
				case both[r] > 0 && pr == sim.Weixin:
					local = perm(nAli + i - nBoth)
				default:
					local = uint32((uint64(a)*uint64(i) + uint64(b)) % uint64(nc))
				}
				cons := p.consBase[r] + local
				cl := sim.Class(cdist.pick(rng))
				w := WalletInfo{Consumer: cons, Provider: pr, Region: r, Class: cl, Initial: drawMinor(rng, s.Population.InitialBalance)}
				if capB := sim.DefaultLimits[cl].BalanceCap; capB > 0 && w.Initial > capB {
					w.Initial = capB
				}
				if f := &s.Funding; f.Enabled() {
					w.Card = drawCard(frng, cards)
					if f.Rebalance {
						// Holders keep their float clear of the balance cap,
						// so money received does not bounce [A]
						// (cal:assume.rebalance).
						if capB := sim.DefaultLimits[cl].BalanceCap; capB > 0 {
							w.Initial = min(w.Initial, capB*4/5)
						}
						// Initial is drawn once the holders' first choices
						// are known (rebalance).
						w.Target = w.Initial
					}
					if frng.Float64() < f.QuotaUsed {
						w.QuotaUsed = route.WithdrawalQuota
					} else {
						w.QuotaUsed = int32(frng.Int64N(route.WithdrawalQuota + 1))
					}
				}
				p.Wallets = append(p.Wallets, w)
				// Gumbel-max: sorting by log(weight) + Gumbel noise draws
				// the consumer's order from Plackett-Luce.
				u := rng.Float64()
				gumbel := -math.Log(-math.Log(u*(1-2e-16) + 1e-16))
				held = append(held, holding{consumer: cons, wallet: uint32(len(p.Wallets)), key: logw + gumbel})
			}
		}
	}
	slices.SortFunc(held, func(x, y holding) int {
		switch {
		case x.consumer != y.consumer:
			return cmp.Compare(x.consumer, y.consumer)
		case x.key != y.key:
			return cmp.Compare(y.key, x.key)
		}
		return cmp.Compare(x.wallet, y.wallet)
	})
	p.top = make([]bool, len(p.Wallets)+1)
	k, prev := 0, uint32(math.MaxUint32)
	for _, h := range held {
		if h.consumer != prev {
			k, prev = 0, h.consumer
			p.top[h.wallet] = true
		}
		if k < event.MaxCandidates {
			p.Holdings[h.consumer][k] = h.wallet
			k++
		}
	}
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		for pr := sim.Provider(1); pr < sim.NumProviders; pr++ {
			sp := p.byPR[r][pr]
			tops := 0
			for id := sp.start + 1; id <= sp.start+sp.n; id++ {
				if p.top[id] {
					tops++
				}
			}
			if tops == 0 {
				continue
			}
			p.topOf[r][pr] = make([]uint32, 0, tops)
			p.otherOf[r][pr] = make([]uint32, 0, int(sp.n)-tops)
			for id := sp.start + 1; id <= sp.start+sp.n; id++ {
				if p.top[id] {
					p.topOf[r][pr] = append(p.topOf[r][pr], id)
				} else {
					p.otherOf[r][pr] = append(p.otherOf[r][pr], id)
				}
			}
		}
	}
	// The past the limits count needs each wallet's payment rate, which
	// needs the holders' first choices: a second pass, on its own stream.
	if h := newHistory(s, warm); h != nil {
		h.setProviders(p, pref)
		chunked(len(p.Wallets), uint64(s.Seed), 0x68697374, func(r *rand.Rand, from, to int) {
			for i := from; i < to; i++ {
				h.draw(r, &p.Wallets[i], h.rate(p, uint32(i+1)), h.withdrawalRate(p, uint32(i+1)))
			}
		})
	}
	// The balance a rebalancing wallet is found at depends on how often it
	// is rebalanced, which depends on whether it is its holder's first
	// choice, and on what its limits' past leaves it to pay from the
	// balance: a third pass, on its own stream.
	if rb := newRebalance(s, p, warm, nil); rb != nil {
		sent := warm.sentShares(uint64(s.Seed), p, rb)
		rb = newRebalance(s, p, warm, &sent)
		p.reb = rb
		chunked(len(p.Wallets), uint64(s.Seed), 0x7761726d, func(r *rand.Rand, from, to int) {
			for i := from; i < to; i++ {
				w := &p.Wallets[i]
				if w.Target == 0 {
					continue
				}
				if p.first(uint32(i + 1)) {
					w.Initial = warm.balance(r, *w, rb.pFirst[w.Region][w.Provider], 0)
				} else {
					w.Initial = warm.balance(r, *w, rb.pOther[w.Region][w.Provider], rb.received[w.Region][w.Provider])
				}
			}
		})
	}
	p.drawEnrolment(s.Seed, s.LowCarbon.WeixinEnrolled)
	tiers := regionMap(s.Merchants.Tiers)
	counts := regionMap(s.Merchants.Count)
	codes := regionMap(s.Codes)
	scanners := regionMap(s.Scanners)
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		p.merchBy[r] = span{start: uint32(len(p.Merchants)), n: uint32(counts[r])}
		cd, cm := maskDist(codes[r])
		sd, sm := maskDist(scanners[r])
		td := tierDist(tiers[r])
		for i := int64(0); i < counts[r]; i++ {
			m := MerchantInfo{Region: r, Static: rng.Float64() < s.Merchants.StaticShare}
			if k := cd.pick(rng); k >= 0 {
				m.Codes = cm[k]
			}
			if k := sd.pick(rng); k >= 0 {
				m.Scanners = sm[k]
			}
			if len(tiers[r]) > 0 {
				m.Tier = sim.Tier(max(td.pick(frng), 0))
			}
			p.Merchants = append(p.Merchants, m)
		}
	}
	return p
}

// popChunk is how many wallets one stream of chunked covers.
const popChunk = 1 << 14

// chunked runs fn over [0, n) in chunks of popChunk wallets, each with its
// own stream (seed, stream and the chunk's index), on up to GOMAXPROCS
// goroutines: what a wallet draws depends on its chunk, not on how many
// chunks run at once, so the population is the same on every machine.
// The limits' past and the warm start are 3.5 of the population's 4.9 us a
// wallet, and nothing else runs while it is built.
func chunked(n int, seed, stream uint64, fn func(r *rand.Rand, from, to int)) {
	chunks := (n + popChunk - 1) / popChunk
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(chunks, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				r := rand.New(rand.NewPCG(seed, stream^uint64(c)<<32))
				fn(r, c*popChunk, min((c+1)*popChunk, n))
			}
		}()
	}
	wg.Wait()
}

// SiblingOf is the wallet of provider pr held by the holder of wallet id
// (among the wallets they use), or 0.
func (p *Population) SiblingOf(id uint64, pr sim.Provider) uint64 {
	w, ok := p.Wallet(id)
	if !ok {
		return 0
	}
	for _, h := range p.Holdings[w.Consumer] {
		if h != 0 && p.Wallets[h-1].Provider == pr {
			return uint64(h)
		}
	}
	return 0
}

// BothShare is the share of a region's consumers holding wallets of both
// providers: what population.multihoming targets for Alipay and Weixin.
func (p *Population) BothShare(r sim.Region, a, b sim.Provider) float64 {
	var first, last uint32
	first = p.consBase[r]
	if r+1 < sim.NumRegions {
		last = p.consBase[r+1]
	} else {
		last = uint32(len(p.Holdings))
	}
	if last <= first {
		return 0
	}
	n := 0
	for c := first; c < last; c++ {
		var has uint16
		for _, h := range p.Holdings[c] {
			if h != 0 {
				has |= 1 << p.Wallets[h-1].Provider
			}
		}
		if has&(1<<a) != 0 && has&(1<<b) != 0 {
			n++
		}
	}
	return float64(n) / float64(last-first)
}

// drawCard draws a wallet's linked card from shares by kind.
func drawCard(r *rand.Rand, d cardShares) sim.Card {
	u := r.Float64()
	for i, c := range d.cards {
		if u -= d.shares[i]; u < 0 {
			return c
		}
	}
	return sim.CardNone
}

// cardShares is a provider's funding.cards in key order, parsed once (it
// was sorted and parsed again for every wallet).
type cardShares struct {
	cards  []sim.Card
	shares []float64
}

func newCardShares(shares map[string]float64) cardShares {
	var d cardShares
	for _, k := range scenario.SortedKeys(shares) {
		c, _ := sim.ParseCard(k)
		d.cards, d.shares = append(d.cards, c), append(d.shares, shares[k])
	}
	return d
}

// tierDist is the draw of a merchant's contract tier from shares by tier.
func tierDist(shares map[string]float64) weighted {
	var idx []int
	var w []float64
	for _, k := range scenario.SortedKeys(shares) {
		t, _ := sim.ParseTier(k)
		idx, w = append(idx, int(t)), append(w, shares[k])
	}
	return newWeighted(idx, w)
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
	p float64 // share of payments that are top-ups
	// transfers weighs the transfer kinds a wallet receives.
	transfers weighted
	kinds     [sim.NumRegions]weighted
	amounts   [sim.NumKinds]scenario.Dist
	cardFirst float64
	// native is, per region, provider and kind, the share of payments the
	// wallet's own scheme carries under any policy (history).
	native [sim.NumRegions][sim.NumProviders][sim.NumKinds]float64
	// still caches, per kind of wallet, the chance that one movement
	// leaves a balance on its float alone (balance).
	still map[stillKey]float64
	mu    sync.Mutex // guards still: chunks burn in in parallel (chunked)
}

// stillKey is a kind of wallet whose movements leave its float alone
// alike: momentKey's float band, and the allowance its limits leave it in
// the same bands (-1: none short of the float).
type stillKey struct {
	region         sim.Region
	prov           sim.Provider
	card           bool
	capB           int64
	band, roomBand int16
	received       float64
}

func newWarmStart(s *scenario.Compiled) *warmStart {
	w := &warmStart{cardFirst: s.Funding.CardFirst, still: map[stillKey]float64{}}
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
	var tidx []int
	var tw []float64
	for i, k := range s.Kinds {
		if k.IsTransfer() && w.amounts[k].Median > 0 {
			tidx, tw = append(tidx, int(k)), append(tw, s.KindShare[i])
		}
	}
	w.transfers = newWeighted(tidx, tw)
	// Native acceptance: the share of a region's scans (its own merchants
	// and, cross_border of the time, its destination's) whose code or
	// scanner shows the provider; transfers to the same provider.
	shows := func(mix map[string]float64, pr sim.Provider) float64 {
		own := uint16(1) << pr
		if pr == sim.Bank || pr == sim.UnionPay {
			own = 1<<sim.Bank | 1<<sim.UnionPay
		}
		var in, t float64
		for _, name := range scenario.SortedKeys(mix) {
			m, _ := scenario.ParseCodeSet(name)
			t += mix[name]
			if m&own != 0 {
				in += mix[name]
			}
		}
		if t == 0 {
			return 0
		}
		return in / t
	}
	codes, scanners, cross, to := regionMap(s.Codes), regionMap(s.Scanners), regionMap(s.CrossBorder), s.CrossTo()
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		for _, pr := range sim.Providers() {
			cs := cross[r]
			n := &w.native[r][pr]
			n[sim.ScanMPM] = (1-cs)*shows(codes[r], pr) + cs*shows(codes[to[r]], pr)
			n[sim.ScanCPM] = (1-cs)*shows(scanners[r], pr) + cs*shows(scanners[to[r]], pr)
			n[sim.P2P], n[sim.RedPacket] = 1, 1
		}
	}
	return w
}

// maxWarmSteps bounds the burn-in of one wallet (the geometric tail).
const maxWarmSteps = 1000

// balance is w's balance after the burn-in: p is the chance that its next
// movement is a rebalancing top-up (rebalance.pFirst or pOther), received
// the share of its other movements that are transfers it receives (0: its
// holder's first choice, whose movements are its own payments, transfers
// received among them).
//
// The burn-in runs the cycle since the last rebalancing top-up, which
// starts on the float, or above it by a top-up's amount: a top-up that
// finds the wallet on its float loads its amount (ledger.Book topUp).
// Started on the float every time, the burn-in found fewer wallets above
// it than the run settles at, and withdrawals (with their fees) per payment
// rose by a tenth over the first consumer-days. A cycle leaves the balance
// on the float with q = p / (1 - (1-p) s), s the chance that one movement
// leaves it alone (while it is on the float, every movement has the same
// chance); the cycle after one that did starts loaded, and the one after
// a loaded one starts on the float again, so a cycle starts loaded with
// chance q / (1 + q). (Simulating three whole cycles before instead cost
// 13 us a wallet against 4.7.)
func (ws *warmStart) balance(r *rand.Rand, w WalletInfo, p, received float64) int64 {
	b := w.Target
	kinds := &ws.kinds[w.Region]
	if p <= 0 || len(kinds.idx) == 0 {
		return b
	}
	card := cardFunds(w)
	capB := sim.DefaultLimits[w.Class].BalanceCap
	room := allowance(w)
	s := ws.stillShare(w, card, capB, room, received)
	if q := p / (1 - (1-p)*s); r.Float64() < q/(1+q) {
		b, _ = ws.rebalanced(r, b, w.Target, capB)
	}
	for step := 0; step < maxWarmSteps && r.Float64() >= p; step++ {
		b, _ = ws.move(r, w, kinds, card, capB, room, received, b)
	}
	return b
}

// pilotWallets and pilotCycles size sentShares' sample: first choices of
// each region and provider, and rebalancing cycles each.
const (
	pilotWallets = 256
	pilotCycles  = 4
)

// sentShares is, per region and provider, the share of the transfers its
// first choices send that their balance and limits let go, from the
// burn-in of up to pilotWallets of them, evenly spread, for pilotCycles
// cycles each (rb.pFirst), on their own stream. (1 where none are sent.)
func (ws *warmStart) sentShares(seed uint64, p *Population, rb *rebalance) [sim.NumRegions][sim.NumProviders]float64 {
	var out [sim.NumRegions][sim.NumProviders]float64
	r := rand.New(rand.NewPCG(seed, 0x73656e74))
	for reg := sim.Region(1); reg < sim.NumRegions; reg++ {
		kinds := &ws.kinds[reg]
		for _, pr := range sim.Providers() {
			out[reg][pr] = 1
			top, pf := p.topOf[reg][pr], rb.pFirst[reg][pr]
			if len(top) == 0 || len(kinds.idx) == 0 || pf <= 0 {
				continue
			}
			n := min(len(top), pilotWallets)
			var went, tried int
			for i := 0; i < n; i++ {
				w := p.Wallets[top[i*len(top)/n]-1]
				if w.Target == 0 {
					continue
				}
				card := cardFunds(w)
				capB, room, b := sim.DefaultLimits[w.Class].BalanceCap, allowance(w), w.Target
				for c := 0; c < pilotCycles; c++ {
					for step := 0; step < maxWarmSteps && r.Float64() >= pf; step++ {
						var sent int8
						b, sent = ws.move(r, w, kinds, card, capB, room, 0, b)
						if sent != 0 {
							tried++
						}
						if sent > 0 {
							went++
						}
					}
					b, _ = ws.rebalanced(r, b, w.Target, capB)
				}
			}
			if tried > 0 {
				out[reg][pr] = float64(went) / float64(tried)
			}
		}
	}
	return out
}

// move is one movement of the burn-in at balance b, other than a
// rebalancing top-up: where it leaves the balance, and for a transfer the
// wallet sends (received == 0 only), whether it went (sent > 0) or its
// balance or limits stopped it (sent < 0).
func (ws *warmStart) move(r *rand.Rand, w WalletInfo, kinds *weighted, card bool, capB, room int64, received float64, b int64) (after int64, sent int8) {
	if received > 0 && r.Float64() < received {
		// A transfer received by a wallet that is not first choice.
		if k := sim.Kind(ws.transfers.pick(r)); k > 0 {
			if a := drawMinor(r, ws.amounts[k]); capB == 0 || b+a <= capB {
				b += a
			}
		}
		return b, 0
	}
	k, a, h := ws.payment(r, kinds, card, capB, b)
	switch {
	case received > 0 && (h != fromBalance || r.Float64() >= ws.native[w.Region][w.Provider][k]):
		// A fallback payment the wallet cannot take or does not pay from
		// its balance; what it receives is counted above.
		return b, 0
	case h == incoming:
		return b + a, 0 // a transfer received
	case h == bounced:
		return b, 0
	}
	paid := h == byCard || h == fromBalance && (room < 0 || a <= room)
	if paid && h == fromBalance {
		b -= a
	}
	switch {
	case !k.IsTransfer():
		return b, 0
	case paid:
		return b, 1
	}
	return b, -1
}

// stillSample is how many movements estimate a stillKey's share.
const stillSample = 2048

// stillShare is the chance that one movement of a wallet like w leaves its
// balance on the float alone, from stillSample movements of the kind's
// own stream (so the order wallets ask in does not matter).
func (ws *warmStart) stillShare(w WalletInfo, card bool, capB, room int64, received float64) float64 {
	band := halfOctave(w.Target)
	roomBand := int16(-1)
	if room >= 0 && room < w.Target {
		roomBand = halfOctave(room)
		if room == 0 {
			roomBand = -2
		}
	}
	k := stillKey{region: w.Region, prov: w.Provider, card: card, capB: capB, band: band, roomBand: roomBand, received: received}
	ws.mu.Lock()
	s, ok := ws.still[k]
	ws.mu.Unlock()
	if ok {
		return s
	}
	target := int64(math.Exp2((float64(band) + 0.5) / 2))
	if capB > 0 {
		target = min(target, capB*4/5)
	}
	kroom := int64(-1)
	switch {
	case roomBand == -2:
		kroom = 0
	case roomBand >= 0:
		kroom = min(int64(math.Exp2((float64(roomBand)+0.5)/2)), target)
	}
	like := WalletInfo{Region: w.Region, Provider: w.Provider}
	r := rand.New(rand.NewPCG(uint64(capB)<<20^uint64(math.Float64bits(received)), 0x7374696c<<32|uint64(w.Provider)<<24|uint64(w.Region)<<16|uint64(uint16(band))<<4|uint64(uint8(roomBand+2))<<1|b2u(card)))
	kinds := &ws.kinds[w.Region]
	n := 0
	for i := 0; i < stillSample; i++ {
		if b, _ := ws.move(r, like, kinds, card, capB, kroom, received, target); b == target {
			n++
		}
	}
	s = float64(n) / stillSample
	ws.mu.Lock()
	ws.still[k] = s
	ws.mu.Unlock()
	return s
}

// halfOctave is x's band of half an octave from RMB 10 to 40,960, as
// history's momentKey bands a float.
func halfOctave(x int64) int16 {
	band := int16(math.Floor(2 * math.Log2(max(float64(x), 1))))
	return min(max(band, minBand), maxBand)
}

// rebalanced is where a rebalancing top-up leaves balance b and what it
// withdraws, by the ledger's rule (ledger.Book topUp): above the float the
// excess is withdrawn, below it is filled, and on it the top-up's own
// amount is loaded up to the balance cap.
func (ws *warmStart) rebalanced(r *rand.Rand, b, target, capB int64) (balance, withdrawn int64) {
	switch {
	case b > target:
		return target, b - target
	case b < target:
		return target, 0
	}
	d := ws.amounts[sim.TopUp]
	if d.Median <= 0 {
		return b, 0
	}
	a := drawMinor(r, d)
	if capB > 0 {
		a = min(a, max(capB-b, 0))
	}
	return b + a, 0
}

// allowance is what w's yearly and lifetime limits leave it to pay from its
// balance after its past (history; -1: no such limit). A class I wallet
// whose past used up its lifetime allowance pays nothing from its balance
// in the run, so the burn-in must not drain it either: drained, it opened
// below its float, received transfers it could not spend and was withdrawn
// from ever more often (first-choice class I wallets above their float rose
// from 13% to 70% over 20 consumer-days). The allowance is taken as fixed
// over the burn-in (a few dozen payments against years of past).
func allowance(w WalletInfo) int64 {
	lim := sim.DefaultLimits[w.Class]
	room := int64(-1)
	if lim.Lifetime > 0 {
		room = max(lim.Lifetime-w.LifeSpent, 0)
	}
	if lim.PerYear > 0 {
		y := max(lim.PerYear-w.YearSpent, 0)
		if room < 0 || y < room {
			room = y
		}
	}
	return room
}

// cardFunds reports whether w's linked card can pay for it in the burn-in:
// a mainland non-bank wallet with a card (the ledger's card funding).
func cardFunds(w WalletInfo) bool {
	return w.Card != sim.CardNone && w.Region == sim.CN && (w.Provider == sim.Alipay || w.Provider == sim.Weixin || w.Provider == sim.Telco)
}
