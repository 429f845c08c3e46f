package gen

import (
	"math"
	"math/rand/v2"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/scenario"
)

// OpenIDBase offsets wallet-opening command IDs from payment IDs.
const OpenIDBase = event.OpenIDBase

// PaymentID numbers payment i of epoch e: unique without a global counter.
func PaymentID(e uint32, i int) uint64 { return uint64(e)<<24 | uint64(i+1) }

// Generator yields a scenario's commands epoch by epoch.
type Generator struct {
	s     *scenario.Compiled
	Pop   *Population
	Clock ledger.Clock

	kinds     weighted
	payRegion weighted
	trRegion  weighted
	// actRegion weighs regions by how many payments their wallets make
	// (transit riders included): rebalancing top-ups follow it, so each
	// wallet tops up in step with its own spending.
	actRegion  weighted
	pref       [sim.NumRegions]weighted
	operators  weighted
	amounts    [sim.NumKinds]scenario.Dist
	crossShare [sim.NumRegions]float64
	// crossTo is where a region's cross-border scans go.
	crossTo [sim.NumRegions]sim.Region
	giveUp  float64
	// crossAmt is the amount distribution of a region's cross-border scans
	// (Median 0 = use the kind's).
	crossAmt [sim.NumRegions]scenario.Dist
	// planned payments per epoch (cumulative), so epochs are independent.
	cum   []int64
	limit int64
}

// New builds a generator; the population is derived from the seed.
func New(s *scenario.Compiled) *Generator {
	g := &Generator{s: s, Pop: NewPopulation(s), Clock: ledger.Clock{Start: s.StartMS, Length: s.EpochMS, DayMS: s.DayMS}}
	idx := make([]int, len(s.Kinds))
	for i, k := range s.Kinds {
		idx[i] = int(k)
	}
	g.kinds = newWeighted(idx, s.KindShare)
	g.payRegion = regionWeights(s.PayerRegions)
	g.trRegion = regionWeights(s.Transit.PayerRegions)
	if len(g.trRegion.idx) == 0 {
		g.trRegion = g.payRegion
	}
	g.actRegion = activityWeights(s)
	prefs := regionMap(s.Population.Preference)
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		var pidx []int
		var pw []float64
		for _, pr := range sim.Providers() {
			if _, n := g.Pop.WalletsOf(r, pr); n > 0 {
				w := prefs[r][pr.String()]
				if len(prefs[r]) == 0 {
					w = float64(n)
				}
				pidx, pw = append(pidx, int(pr)), append(pw, w)
			}
		}
		g.pref[r] = newWeighted(pidx, pw)
	}
	var oidx []int
	var ow []float64
	for _, o := range sim.Operators() {
		w := float64(sim.DefaultFares[o].DailyRidersK)
		if len(s.Transit.Riders) > 0 {
			w = s.Transit.Riders[o.String()]
		}
		oidx, ow = append(oidx, int(o)), append(ow, w)
	}
	g.operators = newWeighted(oidx, ow)
	for name, d := range s.Amounts {
		if k, err := sim.ParseKind(name); err == nil {
			g.amounts[k] = d
		}
	}
	g.crossShare = regionMap(s.CrossBorder)
	g.crossTo = s.CrossTo()
	g.giveUp = s.Fallback.GiveUp
	g.crossAmt = regionMap(s.CrossBorderAmounts)
	g.limit = s.Payments
	g.plan()
	return g
}

// activityWeights is the share of all payments each region's wallets make:
// transit by the riders' regions, every other kind by payer_regions.
func activityWeights(s *scenario.Compiled) weighted {
	w := ActivityByRegion(s)
	var idx []int
	var ws []float64
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		idx, ws = append(idx, int(r)), append(ws, w[r])
	}
	return newWeighted(idx, ws)
}

// ActivityByRegion is the share of payments each region's wallets make.
func ActivityByRegion(s *scenario.Compiled) [sim.NumRegions]float64 {
	pay, tr := regionShares(s.PayerRegions), regionShares(s.Transit.PayerRegions)
	if len(s.Transit.PayerRegions) == 0 {
		tr = pay
	}
	var out [sim.NumRegions]float64
	total := 0.0
	for i, k := range s.Kinds {
		w := pay
		if k == sim.Transit {
			w = tr
		}
		for r := range out {
			out[r] += s.KindShare[i] * w[r]
		}
		total += s.KindShare[i]
	}
	for r := range out {
		if total > 0 {
			out[r] /= total
		}
	}
	return out
}

func regionWeights(m map[string]float64) weighted {
	var idx []int
	var w []float64
	for _, k := range scenario.SortedKeys(m) {
		r, _ := sim.ParseRegion(k)
		idx, w = append(idx, int(r)), append(w, m[k])
	}
	return newWeighted(idx, w)
}

// rateAt is the payment rate (per ms) at simulated offset t from start.
func (g *Generator) rateAt(t int64) float64 {
	m := 1.0
	for _, ph := range g.s.Phases {
		if t >= ph.FromMS && t < ph.ToMS {
			m = ph.Multiplier
		}
	}
	return g.s.Rate / 1000 * m
}

// plan fixes how many payments each epoch carries: the integral of the
// rate over the epoch, rounded so the running total is exact.
func (g *Generator) plan() {
	g.cum = []int64{0, 0} // epoch 0 opens wallets
	acc := 0.0
	for e := uint32(1); ; e++ {
		lo := int64(e-1) * g.s.EpochMS
		// integrate in 1-second steps (profiles are coarser)
		step := min(g.s.EpochMS, 1000)
		for t := lo; t < lo+g.s.EpochMS; t += step {
			acc += g.rateAt(t) * float64(min(step, lo+g.s.EpochMS-t))
		}
		n := int64(math.Floor(acc + 1e-9))
		if g.limit > 0 && n >= g.limit {
			g.cum = append(g.cum, g.limit)
			return
		}
		if g.s.EndMS > 0 && g.s.StartMS+lo+g.s.EpochMS >= g.s.EndMS {
			g.cum = append(g.cum, n)
			g.limit = n
			return
		}
		g.cum = append(g.cum, n)
	}
}

// Payments is the number of payments the generator will produce.
func (g *Generator) Payments() int64 { return g.cum[len(g.cum)-1] }

// LastEpoch is the generator's final epoch.
func (g *Generator) LastEpoch() uint32 { return uint32(len(g.cum) - 2) }

// Epoch implements event.Source.
func (g *Generator) Epoch(e uint32, buf []event.Command) ([]event.Command, bool) {
	if e == 0 {
		buf, _, last := g.EpochPart(0, 0, len(g.Pop.Wallets), buf)
		return buf, last
	}
	return g.payments(e, buf)
}

// Wallets implements event.Sized.
func (g *Generator) Wallets() int64 { return int64(len(g.Pop.Wallets)) }

// EpochPart implements event.PartSource: epoch 0's openings in parts, so
// that ten million wallets need not be ten million commands in memory at
// once. Other epochs come whole.
func (g *Generator) EpochPart(e uint32, i, n int, buf []event.Command) ([]event.Command, int, bool) {
	last := e >= g.LastEpoch()
	if e != 0 {
		if i > 0 {
			return buf, -1, last
		}
		buf, last = g.payments(e, buf)
		return buf, -1, last
	}
	end := min(i+n, len(g.Pop.Wallets))
	for i := max(i, 0); i < end; i++ {
		w := g.Pop.Wallets[i]
		id := uint64(i + 1)
		// The holder's other wallet apps: a route that needs the
		// receiver to hold a given app (the 2022 transfer pilot) checks
		// them when it credits.
		var apps uint16
		for _, h := range g.Pop.Holdings[w.Consumer] {
			if h != 0 {
				apps |= 1 << g.Pop.Wallets[h-1].Provider
			}
		}
		buf = append(buf, event.Command{
			Type: event.CmdOpenWallet, ID: OpenIDBase + id, Wallet: id, SimTime: g.s.StartMS,
			Epoch: 0, Kind: sim.Open, Amount: w.Initial, Currency: sim.WalletCurrency(w.Provider, w.Region),
			Provider: w.Provider, Region: w.Region, Class: w.Class, Apps: apps,
			Card: w.Card, QuotaUsed: int64(w.QuotaUsed), Target: g.target(w),
			YearSpent: w.YearSpent, LifeSpent: w.LifeSpent,
		})
	}
	if end >= len(g.Pop.Wallets) {
		return buf, -1, last
	}
	return buf, end, last
}

// payments draws epoch e (> 0).
func (g *Generator) payments(e uint32, buf []event.Command) ([]event.Command, bool) {
	last := e >= g.LastEpoch()
	if int(e)+1 >= len(g.cum) {
		return buf, true
	}
	n := int(g.cum[e+1] - g.cum[e])
	rng := rand.New(rand.NewPCG(uint64(g.s.Seed), uint64(e)))
	// Arrival times: sorted uniforms through normalised exponential
	// spacings, O(n) and in order.
	lo := g.Clock.StartOf(e)
	spacing := make([]float64, n+1)
	sum := 0.0
	for i := range spacing {
		sum += rng.ExpFloat64()
		spacing[i] = sum
	}
	for i := 0; i < n; i++ {
		t := lo + int64(spacing[i]/sum*float64(g.s.EpochMS))
		var c event.Command
		// A draw fails only for a population that cannot make this kind
		// (no payee of that provider, say); redraw so the count is exact.
		for tries := 0; tries < 64; tries++ {
			c = event.Command{SimTime: t}
			if g.payment(rng, &c) {
				c.ID, c.Epoch = PaymentID(e, i), e
				buf = append(buf, c)
				break
			}
		}
	}
	return buf, last
}

// payment draws one payment; false only when the population cannot make it.
func (g *Generator) payment(r *rand.Rand, c *event.Command) bool {
	kind := sim.Kind(g.kinds.pick(r))
	region := sim.Region(g.payRegion.pick(r))
	switch {
	case kind == sim.Transit:
		region = sim.Region(g.trRegion.pick(r))
	case kind == sim.TopUp && g.s.Funding.Rebalance:
		region = sim.Region(g.actRegion.pick(r))
	}
	pr := sim.Provider(g.pref[region].pick(r))
	if region <= 0 || pr <= 0 {
		return false
	}
	var payer uint64
	if kind == sim.TopUp && g.Pop.reb != nil {
		payer = g.pickRebalancer(r, region, pr)
	} else {
		payer = g.pickPayer(r, region, pr)
	}
	if payer == 0 {
		return false
	}
	c.Type, c.Kind = event.CmdPay, kind
	g.candidates(r, c, payer, kind == sim.TopUp)
	payerCur := g.Pop.Wallets[payer-1].Currency()
	switch kind {
	case sim.ScanMPM, sim.ScanCPM:
		mr := region
		if r.Float64() < g.crossShare[region] {
			mr = g.crossTo[region]
		}
		sp := g.Pop.merchBy[mr]
		if sp.n == 0 {
			sp, mr = g.Pop.merchBy[region], region
		}
		if sp.n == 0 { // visitors have no merchants of their own
			mr = g.crossTo[region]
			sp = g.Pop.merchBy[mr]
		}
		if sp.n == 0 {
			return false
		}
		mid := uint64(sp.start + r.Uint32N(sp.n))
		m := g.Pop.Merchants[mid]
		c.Counterparty, c.AccRegion, c.Static, c.Tier = mid+1, mr, m.Static, m.Tier
		c.Acceptors = m.Codes
		if kind == sim.ScanCPM {
			c.Acceptors, c.Static = m.Scanners, false
		}
		c.Currency = mr.Home()
		// Draw only when the scenario asks for e-receipts, so scenarios
		// without them keep their random streams (and digests).
		if g.s.EReceipts > 0 {
			c.EReceipt = r.Float64() < g.s.EReceipts
		}
		d := g.amounts[kind]
		if mr != region && g.crossAmt[region].Median > 0 {
			d = g.crossAmt[region]
		}
		c.Amount = drawMinor(r, d)
	case sim.Transit:
		o := sim.Operator(g.operators.pick(r))
		if o <= 0 {
			return false
		}
		c.Counterparty, c.AccRegion, c.Currency = uint64(o), sim.HK, sim.HKD
		c.Acceptors = 1 << o
		c.Amount = fare(r, o, c.SimTime)
	case sim.P2P, sim.RedPacket, sim.CrossTransfer:
		payeeProv := pr
		if kind == sim.CrossTransfer {
			payeeProv = sim.Provider(g.pref[region].pick(r))
			for tries := 0; payeeProv == pr && tries < 8; tries++ {
				payeeProv = sim.Provider(g.pref[region].pick(r))
			}
			if payeeProv == pr {
				return false
			}
		}
		f, n := g.Pop.WalletsOf(region, payeeProv)
		if n == 0 {
			return false
		}
		payee := f + uint64(r.IntN(n))
		if payee == payer {
			payee = f + uint64((int(payee-f)+1)%n)
			if payee == payer {
				return false
			}
		}
		c.Counterparty, c.AccRegion, c.Acceptors = payee, region, 1<<payeeProv
		// The amount sent is in the payee wallet's currency (the payer's
		// route converts when the two differ).
		c.Currency = g.Pop.Wallets[payee-1].Currency()
		if payeeProv != pr {
			c.PayeeSibling = g.Pop.SiblingOf(payee, pr)
		}
		c.Amount = drawMinor(r, g.amounts[kind])
	case sim.TopUp:
		c.AccRegion, c.Currency = region, payerCur
		c.Amount = drawMinor(r, g.amounts[kind])
	default:
		return false
	}
	g.funding(r, c)
	return true
}

// pickPayer draws the wallet a payment starts from: one whose holder
// reaches for provider pr first (their own preference order), so that a
// payment's first wallet is the consumer's first choice and the region's
// preference shares are still the first wallets' shares. A provider that
// is nobody's first choice starts from any of its wallets.
func (g *Generator) pickPayer(r *rand.Rand, region sim.Region, pr sim.Provider) uint64 {
	if top := g.Pop.topOf[region][pr]; len(top) > 0 {
		return uint64(top[r.IntN(len(top))])
	}
	first, n := g.Pop.WalletsOf(region, pr)
	if n == 0 {
		return 0
	}
	return first + uint64(r.IntN(n))
}

// pickRebalancer draws the wallet a rebalancing top-up goes to: one that
// is not its holder's first choice in proportion to the money it turns
// over (rebalance.other), else a first choice as pickPayer does, so that
// every wallet money reaches is brought back to its float.
func (g *Generator) pickRebalancer(r *rand.Rand, region sim.Region, pr sim.Provider) uint64 {
	if other := g.Pop.otherOf[region][pr]; len(other) > 0 && r.Float64() < g.Pop.reb.other[region][pr] {
		return uint64(other[r.IntN(len(other))])
	}
	return g.pickPayer(r, region, pr)
}

// target is the float a wallet's rebalancing top-ups aim for (0: none).
func (g *Generator) target(w WalletInfo) int64 {
	return w.Target
}

// funding draws the consumer's funding choices for c (scenario funding),
// only when the scenario models funding, so that other scenarios keep
// their random streams.
func (g *Generator) funding(r *rand.Rand, c *event.Command) {
	f := &g.s.Funding
	if !f.Enabled() {
		return
	}
	if c.Kind == sim.TopUp {
		c.Rebalance = f.Rebalance
		return
	}
	c.CardFirst = r.Float64() < f.CardFirst
}

// candidates lists the consumer's wallets in their own preference order,
// the chosen payer first. A consumer who would give up at a fallback
// (scenario fallback.give_up, drawn per further wallet) lists only the
// wallets they are willing to try.
func (g *Generator) candidates(r *rand.Rand, c *event.Command, payer uint64, only bool) {
	c.Wallet = payer
	c.Candidates[0], c.NCandidates = payer, 1
	if only {
		return
	}
	for _, w := range g.Pop.Holdings[g.Pop.Wallets[payer-1].Consumer] {
		if w == 0 || c.NCandidates >= event.MaxCandidates {
			break
		}
		if uint64(w) != payer {
			c.Candidates[c.NCandidates] = uint64(w)
			c.NCandidates++
		}
	}
	if g.giveUp > 0 {
		for k := uint8(1); k < c.NCandidates; k++ {
			if r.Float64() < g.giveUp {
				c.NCandidates = k
				break
			}
		}
	}
}

// fare draws a transit fare in HKD cents (cal:defaults.fare-mtr, cal:defaults.fare-bus, cal:defaults.fare-tram-ferry).
func fare(r *rand.Rand, o sim.Operator, t int64) int64 {
	f := sim.FareAt(o, t)
	switch f.Model {
	case sim.FareFlat:
		if f.WeekendCents > 0 {
			// The Hong Kong calendar day (UTC+8, as ledger.SimDay): a
			// Saturday-morning ride is a weekend ride. 1970-01-01 was a
			// Thursday; 0 = Sunday.
			wd := ((t+8*3_600_000)/86_400_000 + 4) % 7
			if wd == 0 || wd == 6 {
				return f.WeekendCents
			}
		}
		return f.FlatCents
	default:
		v := float64(f.MedianCents) * math.Exp(f.Sigma*r.NormFloat64())
		v = min(max(v, float64(f.MinCents)), float64(f.MaxCents))
		m := int64(v)
		if f.BandCents > 0 {
			m = m / f.BandCents * f.BandCents
		}
		return m
	}
}
