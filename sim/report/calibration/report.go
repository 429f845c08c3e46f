package calibration

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/scenario"
)

// DefaultTolerance is ε, the relative error a calibrated figure may have.
const DefaultTolerance = 0.05

// DefaultAlpha is the family-wise false-alarm rate: a correct generator
// has at most this chance of any row being called off.
const DefaultAlpha = 0.01

// Quantity groups.
const (
	WalletShare       = "wallet_share"        // key REGION/provider: share of the region's payments its wallets start
	WalletMix         = "wallet_mix"          // key REGION: the shares above as one χ² group
	KindShare         = "kind_share"          // key kind: share of all payments
	KindMix           = "kind_mix"            // the kind shares as one χ² group
	TicketMedian      = "ticket_median"       // key kind: major units (yuan or dollars, the price's currency)
	TicketLogMean     = "ticket_log_mean"     // key kind: geometric mean, major units
	TicketMean        = "ticket_mean"         // key kind: arithmetic mean (fares)
	CrossTicketMedian = "cross_ticket_median" // key payer region: cross-border scans only
	CrossTicketLog    = "cross_ticket_log_mean"
	CrossTicketMean   = "cross_ticket_mean"        // source row: mean ticket, RMB
	OperatorShare     = "operator_share"           // key operator: share of rides
	OperatorMix       = "operator_mix"             // the operator shares as one χ² group
	PeakMultiplier    = "peak_multiplier"          // key bin width: busiest bin's rate / mean rate over the run
	CrossBorderShare  = "cross_border_share"       // key payer region: share of its scans at the other region's merchants
	CrossBorderByHK   = "cross_border_hk_share"    // source row: HK residents' share of cross-border scans
	HKWalletMainland  = "hk_wallet_mainland_share" // source row: WeChat Pay HK's share of HK wallets' mainland scans
)

// Row is one checked figure: what the run generated against its target,
// the test, its statistic (z, or Pearson χ² with DF), the two-sided
// p-value, the smallest relative error the sample could detect (MDE),
// and the verdict.
type Row struct {
	Kind      string  `json:"kind"`
	Quantity  string  `json:"quantity"`
	Key       string  `json:"key"`
	Test      string  `json:"test"`
	Generated float64 `json:"generated"`
	Target    float64 `json:"target"`
	RelError  float64 `json:"rel_error"`
	Samples   int64   `json:"samples"`
	Stat      float64 `json:"stat"`
	DF        int     `json:"df,omitempty"`
	P         float64 `json:"p"`
	MDE       float64 `json:"min_detectable"`
	Tolerance float64 `json:"tolerance"`
	Status    string  `json:"status"`
	Basis     string  `json:"basis"`
	Note      string  `json:"note,omitempty"`
}

// Pass reports whether the row is not off.
func (r *Row) Pass() bool { return r.Status != StatusOff }

// Report is calibration.json.
type Report struct {
	Scenario  string  `json:"scenario"`
	Seed      int64   `json:"seed"`
	Payments  int64   `json:"payments"`
	Wallets   int64   `json:"wallets"`
	Tolerance float64 `json:"tolerance"`
	Alpha     float64 `json:"alpha"`
	// Tests is m, the rows checked (departures excluded); ZStar their
	// Bonferroni critical value.
	Tests      int     `json:"tests"`
	ZStar      float64 `json:"z_star"`
	OK         int     `json:"ok"`
	Unresolved int     `json:"unresolved"`
	Off        int     `json:"off"`
	Departs    int     `json:"departs"`
	Pass       bool    `json:"pass"`
	Rows       []Row   `json:"rows"`
}

// Config sets the criterion.
type Config struct {
	// Tolerance is ε (0 = DefaultTolerance).
	Tolerance float64
	// Alpha is the family-wise false-alarm rate (0 = DefaultAlpha).
	Alpha float64
	// Sources are the source rows (nil = the built-in file).
	Sources *Sources
}

func (c *Config) setDefaults() error {
	if c.Tolerance == 0 {
		c.Tolerance = DefaultTolerance
	}
	if c.Alpha == 0 {
		c.Alpha = DefaultAlpha
	}
	if c.Sources == nil {
		s, err := Builtin()
		if err != nil {
			return err
		}
		c.Sources = s
	}
	return nil
}

// Validate checks the criterion's settings.
func (c *Config) Validate() error {
	if !(c.Tolerance > 0 && c.Tolerance < 1) {
		return fmt.Errorf("calibration tolerance %v: want 0 < tolerance < 1", c.Tolerance)
	}
	if !(c.Alpha > 0 && c.Alpha < 0.5) {
		return fmt.Errorf("calibration alpha %v: want 0 < alpha < 0.5", c.Alpha)
	}
	return nil
}

func byRegion[V any](m map[string]V) [sim.NumRegions]V {
	var out [sim.NumRegions]V
	for _, k := range scenario.SortedKeys(m) {
		if r, err := sim.ParseRegion(k); err == nil {
			out[r] = m[k]
		}
	}
	return out
}

// builder collects rows and their checks until m is known.
type builder struct {
	sc     *scenario.Compiled
	src    *Sources
	eps    float64
	rows   []Row
	checks []check
}

func (b *builder) add(r Row, c check) {
	if r.Tolerance == 0 {
		r.Tolerance = b.eps
	}
	r.Test = c.test
	if r.Kind == KindSource {
		id := strings.TrimPrefix(r.Basis, "cal:")
		if why, ok := b.sc.DepartsFrom(id); ok {
			r.Status, r.Note = StatusDeparts, why
		}
	}
	b.rows = append(b.rows, r)
	b.checks = append(b.checks, c)
}

func relTo(t float64) func(float64) float64 {
	return func(x float64) float64 { return x / math.Abs(t) }
}

// share adds a share row: hits of n against p0 with tolerance eps·p0.
func (b *builder) share(kind, q, key string, hits, n int64, p0, eps float64, basis string) {
	est := float64(hits) / float64(n)
	se := math.Sqrt(p0 * (1 - p0) / float64(n))
	b.add(Row{Kind: kind, Quantity: q, Key: key, Generated: est, Target: p0, RelError: math.Abs(est-p0) / p0,
		Samples: n, Tolerance: eps, Basis: basis},
		check{test: TestShare, est: est, target: p0, se: se, tol: eps * p0, rel: relTo(p0)})
}

// group adds a χ² row over counts against probs.
func (b *builder) group(kind, q, key string, obs []int64, probs []float64, basis string) {
	n := int64(0)
	for _, o := range obs {
		n += o
	}
	b.add(Row{Kind: kind, Quantity: q, Key: key, Samples: n, Basis: basis}, check{test: TestChi2, obs: obs, probs: probs})
}

// tickets adds the median row and the log-mean (or, for fares, the mean)
// row of amounts a against model m.
func (b *builder) tickets(kind, qMedian, qLog, qMean, key string, a *amounts, m model, basis string) {
	n := a.n
	thr := a.thr
	if thr <= 0 {
		thr = median(m)
	}
	p0 := m.cdf(thr)
	band := (m.cdf(int64(math.Round(float64(thr)*(1+b.eps)))) - m.cdf(int64(math.Round(float64(thr)/(1+b.eps))))) / 2
	est := float64(a.atOrBelowThr) / float64(n)
	gm, tm := a.median()/100, float64(thr)/100
	b.add(Row{Kind: kind, Quantity: qMedian, Key: key, Generated: gm, Target: tm, RelError: math.Abs(gm-tm) / tm, Samples: n, Basis: basis,
		Note: fmt.Sprintf("at or below the target median: %.2f%% (target %.2f%%)", 100*est, 100*p0)},
		check{test: TestMedian, est: est, target: p0, se: math.Sqrt(p0 * (1 - p0) / float64(n)), tol: band,
			rel: func(x float64) float64 {
				if band <= 0 {
					return math.Inf(1)
				}
				return x / band * b.eps
			}})
	if mu, v, ok := m.logMoments(); ok {
		est := a.logs / float64(n)
		g, t := math.Exp(est)/100, math.Exp(mu)/100
		b.add(Row{Kind: kind, Quantity: qLog, Key: key, Generated: g, Target: t, RelError: math.Abs(g-t) / t, Samples: n, Basis: basis},
			check{test: TestLogMean, est: est, target: mu, se: math.Sqrt(v / float64(n)), tol: math.Log1p(b.eps),
				rel: func(x float64) float64 { return math.Expm1(x) }})
		return
	}
	b.mean(kind, qMean, key, a, m.mean(), b.eps, basis)
}

// mean adds a mean row: a's mean against target (minor units), the
// standard error from the sample's own spread.
func (b *builder) mean(kind, q, key string, a *amounts, target, eps float64, basis string) {
	est := a.mean()
	se := sd(a.sum, a.sum2, a.n) / math.Sqrt(float64(a.n))
	b.add(Row{Kind: kind, Quantity: q, Key: key, Generated: est / 100, Target: target / 100, RelError: math.Abs(est-target) / target,
		Samples: a.n, Tolerance: eps, Basis: basis},
		check{test: TestMean, est: est, target: target, se: se, tol: eps * target, rel: relTo(target)})
}

// Report checks what c measured against sc's targets and the sources. sc
// must be the scenario c was made for (NewCollector).
func (c *Collector) Report(sc *scenario.Compiled, cfg Config) (*Report, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Scenario: sc.Name, Seed: sc.Seed, Payments: c.payments, Wallets: int64(len(c.wallets)),
		Tolerance: cfg.Tolerance, Alpha: cfg.Alpha, Pass: true, Rows: []Row{}}
	if c.payments == 0 {
		return rep, nil
	}
	b := &builder{sc: sc, src: cfg.Sources, eps: cfg.Tolerance}
	c.generatorRows(b, newTargets(sc))
	c.sourceRows(b)

	for _, r := range b.rows {
		if r.Status != StatusDeparts {
			rep.Tests++
		}
	}
	rep.ZStar = zstar(cfg.Alpha, rep.Tests)
	for i := range b.rows {
		r := &b.rows[i]
		departs, why := r.Status == StatusDeparts, r.Note
		b.checks[i].evaluate(r, cfg.Alpha, rep.Tests)
		if departs {
			r.Status, r.Note = StatusDeparts, why
		}
		switch r.Status {
		case StatusOK:
			rep.OK++
		case StatusUnresolved:
			rep.Unresolved++
		case StatusOff:
			rep.Off++
			rep.Pass = false
		case StatusDeparts:
			rep.Departs++
		}
	}
	rep.Rows = b.rows
	return rep, nil
}

func (c *Collector) generatorRows(b *builder, t *targets) {
	sc, src := b.sc, b.src
	// Wallet shares, per payer region, and each region's as a group.
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		if c.byRegion[r] == 0 {
			continue
		}
		var obs []int64
		var probs []float64
		for _, p := range sim.Providers() {
			if t.pref[r][p] > 0 {
				b.share(KindGenerator, WalletShare, r.String()+"/"+p.String(), c.payer[r][p], c.byRegion[r], t.pref[r][p], b.eps,
					src.walletShareBasis(r, p, t.prefRaw[r]))
				obs, probs = append(obs, c.payer[r][p]), append(probs, t.pref[r][p])
			}
		}
		if len(obs) > 1 {
			b.group(KindGenerator, WalletMix, r.String(), obs, probs, Assumed)
		}
	}
	// Kind mix.
	var obs []int64
	var probs []float64
	for i, k := range sc.Kinds {
		if sc.KindShare[i] > 0 {
			b.share(KindGenerator, KindShare, k.String(), c.kinds[k], c.payments, t.kinds[k], b.eps, Assumed)
			obs, probs = append(obs, c.kinds[k]), append(probs, t.kinds[k])
		}
	}
	if len(obs) > 1 {
		b.group(KindGenerator, KindMix, "all", obs, probs, Assumed)
	}
	// Tickets by kind.
	for i, k := range sc.Kinds {
		m := t.ticket(k)
		if sc.KindShare[i] <= 0 || m == nil || c.amount[k].n == 0 {
			continue
		}
		b.tickets(KindGenerator, TicketMedian, TicketLogMean, TicketMean, k.String(), &c.amount[k], m, t.ticketBasis(src, k))
	}
	// Cross-border scans.
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		if c.scans[r] > 0 && t.crossRaw[r] > 0 {
			b.share(KindGenerator, CrossBorderShare, r.String(), c.crossScans[r], c.scans[r], t.cross[r], b.eps, Assumed)
		}
		if d := t.crossAmt[r]; d.Median > 0 && c.crossAmount[r].n > 0 {
			b.tickets(KindGenerator, CrossTicketMedian, CrossTicketLog, CrossTicketMean, r.String(), &c.crossAmount[r], lognormal(d), src.crossDistBasis(r, d))
		}
	}
	// Operators.
	if rides := c.kinds[sim.Transit]; rides > 0 {
		var obs []int64
		var probs []float64
		basis := src.ridersBasis(sc.Transit.Riders)
		for _, o := range sim.Operators() {
			if t.riders[o] > 0 {
				b.share(KindGenerator, OperatorShare, o.String(), c.operators[o], rides, t.riders[o], b.eps, basis)
				obs, probs = append(obs, c.operators[o]), append(probs, t.riders[o])
			}
		}
		if len(obs) > 1 {
			b.group(KindGenerator, OperatorMix, "all", obs, probs, basis)
		}
	}
	// Peak, from per-second arrivals, against the plan.
	if sc.EndMS > 0 && len(sc.Phases) > 0 && len(c.perSecond) > 0 {
		bin := peakBin(sc)
		target := peakOf(planBins(sc, bin), bin, sc.EndMS-sc.StartMS)
		got, peakN := c.peak(bin)
		basis := Assumed
		if id, _ := src.peakRow(target); id != "" {
			basis = cite(id)
		}
		b.add(Row{Kind: KindGenerator, Quantity: PeakMultiplier, Key: "per " + shortDur(bin), Generated: got, Target: target,
			RelError: math.Abs(got-target) / target, Samples: peakN, Basis: basis},
			peakCheck(got, target, peakN, b.eps))
	}
}

// peakCheck treats the busiest bin's count as Poisson: SE = ratio/√count.
func peakCheck(got, target float64, n int64, eps float64) check {
	se := 0.0
	if n > 0 {
		se = got / math.Sqrt(float64(n))
	}
	return check{test: TestPeak, est: got, target: target, se: se, tol: eps * target, rel: relTo(target)}
}

// peak is the busiest bin's arrival rate over the mean rate of the
// window, from the per-second arrival counts, and the busiest bin's count.
func (c *Collector) peak(binMS int64) (float64, int64) {
	binS := max(binMS/1000, 1)
	windowS := int64(len(c.perSecond))
	if c.endMS > 0 {
		windowS = max(windowS, (c.endMS-c.startMS+999)/1000)
	}
	total, best, bestN := int64(0), 0.0, int64(0)
	for lo := int64(0); lo < windowS; lo += binS {
		hi := min(lo+binS, windowS)
		n := int64(0)
		for s := lo; s < hi && s < int64(len(c.perSecond)); s++ {
			n += c.perSecond[s]
		}
		total += n
		if rate := float64(n) / float64(hi-lo); rate > best {
			best, bestN = rate, n
		}
	}
	if total == 0 {
		return 0, 0
	}
	return best / (float64(total) / float64(windowS)), bestN
}

// sourceRows check outcomes against the sources.
func (c *Collector) sourceRows(b *builder) {
	sc, src := b.sc, b.src
	// HK residents' mean ticket in Shenzhen: RMB 245 in 2023, RMB 120 in
	// H1 2025; the scenario's date picks the row.
	if a := &c.crossAmount[sim.HK]; a.n > 1 {
		id := RowHKSpend2023
		if time.UnixMilli(sc.StartMS).UTC().Year() >= 2025 {
			id = RowHKSpend2025
		}
		if v, ok := src.num(id, ""); ok {
			b.mean(KindSource, CrossTicketMean, "HK", a, 100*v, b.eps, cite(id))
		}
	}
	// HK residents' share of cross-border scans: 310k north vs 120k south
	// on a Saturday in May 2024.
	if hk, cn := c.crossScans[sim.HK], c.crossScans[sim.CN]; hk > 0 && cn > 0 {
		if v, ok := src.num(RowSaturday2024, ""); ok {
			b.share(KindSource, CrossBorderByHK, "HK/(HK+CN)", hk, hk+cn, v, b.eps, cite(RowSaturday2024))
		}
	}
	// WeChat Pay HK's 69-76% of HK wallets' mainland payments: the middle
	// of the range as p0, its half-width as the tolerance.
	if w, a := c.crossProv[sim.HK][sim.WeChatPayHK], c.crossProv[sim.HK][sim.AlipayHK]; w+a > 0 {
		lo, ok1 := src.num(RowHKWallets2021, "low")
		hi, ok2 := src.num(RowHKWallets2021, "high")
		if ok1 && ok2 {
			p0 := (lo + hi) / 2
			b.share(KindSource, HKWalletMainland, "wechatpay_hk", w, w+a, p0, (hi-lo)/2/p0, cite(RowHKWallets2021))
		}
	}
	// Operator shares against the Daily riders row of the file.
	if rides := c.kinds[sim.Transit]; rides > 0 {
		tot := 0.0
		var w [sim.NumOperators]float64
		for _, o := range sim.Operators() {
			w[o], _ = src.num(RowDailyRiders, o.String())
			tot += w[o]
		}
		if tot > 0 {
			var obs []int64
			var probs []float64
			for _, o := range sim.Operators() {
				if w[o] > 0 {
					b.share(KindSource, OperatorShare, o.String(), c.operators[o], rides, w[o]/tot, b.eps, cite(RowDailyRiders))
					obs, probs = append(obs, c.operators[o]), append(probs, w[o]/tot)
				}
			}
			b.group(KindSource, OperatorMix, "all", obs, probs, cite(RowDailyRiders))
		}
	}
	// The peak over the day's average, from per-second arrivals, against
	// the source figure the profile's plan claims.
	if sc.EndMS > 0 && len(sc.Phases) > 0 && len(c.perSecond) > 0 {
		bin := peakBin(sc)
		plan := peakOf(planBins(sc, bin), bin, sc.EndMS-sc.StartMS)
		if id, v := src.peakRow(plan); id != "" {
			got, n := c.peak(bin)
			b.add(Row{Kind: KindSource, Quantity: PeakMultiplier, Key: "per " + shortDur(bin), Generated: got, Target: v,
				RelError: math.Abs(got-v) / v, Samples: n, Basis: cite(id)}, peakCheck(got, v, n, b.eps))
		}
	}
}

// targets are what sc makes the generator aim for.
type targets struct {
	sc       *scenario.Compiled
	kinds    [sim.NumKinds]float64
	pref     [sim.NumRegions][sim.NumProviders]float64
	prefRaw  [sim.NumRegions]map[string]float64
	payer    [sim.NumRegions]float64 // scan payer regions, after failed draws are redrawn
	cross    [sim.NumRegions]float64 // effective cross-border share of scans
	crossRaw [sim.NumRegions]float64
	crossAmt [sim.NumRegions]scenario.Dist
	riders   [sim.NumOperators]float64
	amounts  [sim.NumKinds]scenario.Dist
}

func newTargets(sc *scenario.Compiled) *targets {
	t := &targets{sc: sc}
	sum := 0.0
	for _, v := range sc.KindShare {
		sum += v
	}
	for i, k := range sc.Kinds {
		t.kinds[k] = sc.KindShare[i] / sum
	}
	wallets := byRegion(sc.Population.Wallets)
	t.prefRaw = byRegion(sc.Population.Preference)
	// As gen.New: a region's providers with wallets, weighed by preference
	// (or by wallet count when the region states none).
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		tot := 0.0
		for _, p := range sim.Providers() {
			n := wallets[r][p.String()]
			if n <= 0 {
				continue
			}
			w := t.prefRaw[r][p.String()]
			if len(t.prefRaw[r]) == 0 {
				w = float64(n)
			}
			if w > 0 {
				t.pref[r][p] = w
				tot += w
			}
		}
		for p := range t.pref[r] {
			if tot > 0 {
				t.pref[r][p] /= tot
			}
		}
	}
	merchants := byRegion(sc.Merchants.Count)
	t.crossRaw = byRegion(sc.CrossBorder)
	t.crossAmt = byRegion(sc.CrossBorderAmounts)
	payer := byRegion(sc.PayerRegions)
	tot := 0.0
	crossTo := sc.CrossTo()
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		other := crossTo[r]
		// As gen.payment: a cross-border draw falls back to the home
		// region when the other has no merchants; a home draw in a region
		// without merchants (visitors) crosses; a draw with no merchant at
		// all fails and the whole payment is redrawn.
		pCross, pOwn := 0.0, 0.0
		if merchants[other] > 0 {
			pCross = t.crossRaw[r]
		} else if merchants[r] > 0 {
			pOwn += t.crossRaw[r]
		}
		if merchants[r] > 0 {
			pOwn += 1 - t.crossRaw[r]
		} else if merchants[other] > 0 {
			pCross += 1 - t.crossRaw[r]
		}
		hasWallets := false
		for _, v := range t.pref[r] {
			hasWallets = hasWallets || v > 0
		}
		if !hasWallets || pCross+pOwn == 0 {
			continue
		}
		t.payer[r] = payer[r] * (pCross + pOwn)
		t.cross[r] = pCross / (pCross + pOwn)
		tot += t.payer[r]
	}
	for r := range t.payer {
		if tot > 0 {
			t.payer[r] /= tot
		}
	}
	rsum := 0.0
	for _, o := range sim.Operators() {
		w := float64(sim.DefaultFares[o].DailyRidersK)
		if len(sc.Transit.Riders) > 0 {
			w = sc.Transit.Riders[o.String()]
		}
		t.riders[o] = w
		rsum += w
	}
	for o := range t.riders {
		if rsum > 0 {
			t.riders[o] /= rsum
		}
	}
	for _, name := range scenario.SortedKeys(sc.Amounts) {
		if k, err := sim.ParseKind(name); err == nil {
			t.amounts[k] = sc.Amounts[name]
		}
	}
	return t
}

// ticket is the amount model of kind k (nil when k has none).
func (t *targets) ticket(k sim.Kind) model {
	switch k {
	case sim.Transit:
		// Star Ferry's weekend fare, by the Hong Kong day of the start.
		wd := time.UnixMilli(t.sc.StartMS).In(time.FixedZone("HKT", 8*3600)).Weekday()
		weekend := wd == time.Saturday || wd == time.Sunday
		m := &mixture{}
		for _, o := range sim.Operators() {
			m.add(t.riders[o], newFareModel(o, weekend, t.sc.StartMS))
		}
		return m
	case sim.ScanMPM, sim.ScanCPM:
		base := lognormal(t.amounts[k])
		m := &mixture{}
		for r := sim.Region(1); r < sim.NumRegions; r++ {
			if d := t.crossAmt[r]; d.Median > 0 {
				m.add(t.payer[r]*(1-t.cross[r]), base)
				m.add(t.payer[r]*t.cross[r], lognormal(d))
			} else {
				m.add(t.payer[r], base)
			}
		}
		if len(m.w) == 0 {
			return nil
		}
		return m
	}
	if t.amounts[k].Median <= 0 {
		return nil
	}
	return lognormal(t.amounts[k])
}

func (t *targets) ticketBasis(src *Sources, k sim.Kind) string {
	if k == sim.Transit {
		return RowFares
	}
	b := src.distBasis(k, t.amounts[k])
	if k == sim.ScanMPM || k == sim.ScanCPM {
		for r := sim.Region(1); r < sim.NumRegions; r++ {
			if d := t.crossAmt[r]; d.Median > 0 && t.cross[r] > 0 && t.payer[r] > 0 {
				if cb := src.crossDistBasis(r, d); cb != b {
					b += "; " + cb
				}
			}
		}
	}
	return b
}

// peakBin is the width the peak is measured over: an hour, as the
// calibration rows define peaks ("peak hour"), unless the profile's
// phases are finer (a quarter-hour burst), then their common divisor; never
// finer than an epoch, inside which arrivals are spread evenly.
func peakBin(sc *scenario.Compiled) int64 {
	g := int64(time.Hour / time.Millisecond)
	for _, ph := range sc.Phases {
		g = gcd(g, ph.FromMS)
		g = gcd(g, ph.ToMS)
	}
	return max(g, sc.EpochMS)
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// planBins integrates the profile's multiplier over each bin, with the
// generator's rule: outside every phase 1, the later phase wins.
func planBins(sc *scenario.Compiled, bin int64) []float64 {
	window := sc.EndMS - sc.StartMS
	out := make([]float64, (window+bin-1)/bin)
	mult := func(t int64) float64 {
		m := 1.0
		for _, ph := range sc.Phases {
			if t >= ph.FromMS && t < ph.ToMS {
				m = ph.Multiplier
			}
		}
		return m
	}
	for i := range out {
		lo, hi := int64(i)*bin, min(int64(i+1)*bin, window)
		cuts := []int64{lo, hi}
		for _, ph := range sc.Phases {
			for _, x := range []int64{ph.FromMS, ph.ToMS} {
				if x > lo && x < hi {
					cuts = append(cuts, x)
				}
			}
		}
		slices.Sort(cuts)
		for j := 1; j < len(cuts); j++ {
			out[i] += mult(cuts[j-1]) * float64(cuts[j]-cuts[j-1])
		}
	}
	return out
}

// peakOf is the busiest bin's rate over the mean rate of the window.
func peakOf(bins []float64, bin, window int64) float64 {
	total, peak := 0.0, 0.0
	for i, v := range bins {
		width := min(int64(i+1)*bin, window) - int64(i)*bin
		total += v
		peak = max(peak, v/float64(width))
	}
	if total == 0 {
		return 0
	}
	return peak / (total / float64(window))
}

func shortDur(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	s := d.String()
	for _, suf := range []string{"m0s", "h0m"} {
		if len(s) > len(suf) && s[len(s)-len(suf):] == suf {
			s = s[:len(s)-len(suf)+1]
		}
	}
	return s
}
