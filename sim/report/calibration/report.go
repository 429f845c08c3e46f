package calibration

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/scenario"
)

// DefaultTolerance is the relative error a calibrated quantity may have at
// --scale medium (the acceptance bar).
const DefaultTolerance = 0.05

// Quantity groups.
const (
	WalletShare       = "wallet_share"        // key REGION/provider: share of the region's payments its wallets start
	KindShare         = "kind_share"          // key kind: share of all payments
	TicketMedian      = "ticket_median"       // key kind: major units (yuan or dollars, the price's currency)
	TicketMean        = "ticket_mean"         // key kind
	CrossTicketMedian = "cross_ticket_median" // key payer region: cross-border scans only
	CrossTicketMean   = "cross_ticket_mean"
	OperatorShare     = "operator_share"     // key operator: share of rides
	PeakMultiplier    = "peak_multiplier"    // key bin width: busiest bin's rate / mean rate over the run
	CrossBorderShare  = "cross_border_share" // key payer region: share of its scans at the other region's merchants
)

// Quantity is one calibrated quantity: what the run generated against its
// target, and the calibration row the target comes from.
type Quantity struct {
	Quantity  string  `json:"quantity"`
	Key       string  `json:"key"`
	Generated float64 `json:"generated"`
	Target    float64 `json:"target"`
	RelError  float64 `json:"rel_error"`
	Samples   int64   `json:"samples"`
	Basis     string  `json:"basis"`
	OK        bool    `json:"ok"`
}

// Report is calibration.json.
type Report struct {
	Scenario        string     `json:"scenario"`
	Seed            int64      `json:"seed"`
	Payments        int64      `json:"payments"`
	Wallets         int64      `json:"wallets"`
	Tolerance       float64    `json:"tolerance"`
	MaxRelError     float64    `json:"max_rel_error"`
	WithinTolerance bool       `json:"within_tolerance"`
	Quantities      []Quantity `json:"quantities"`
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

// Report compares what c measured with sc's targets. tol is the relative
// error each quantity may have (0 = DefaultTolerance).
func (c *Collector) Report(sc *scenario.Compiled, tol float64) *Report {
	if tol <= 0 {
		tol = DefaultTolerance
	}
	rep := &Report{Scenario: sc.Name, Seed: sc.Seed, Payments: c.payments, Wallets: int64(len(c.wallets)), Tolerance: tol, WithinTolerance: true}
	add := func(q Quantity) {
		if q.Target != 0 {
			q.RelError = math.Abs(q.Generated-q.Target) / math.Abs(q.Target)
		} else {
			q.RelError = math.Abs(q.Generated)
		}
		q.OK = q.RelError <= tol
		rep.MaxRelError = max(rep.MaxRelError, q.RelError)
		rep.WithinTolerance = rep.WithinTolerance && q.OK
		rep.Quantities = append(rep.Quantities, q)
	}
	if c.payments == 0 {
		return rep
	}
	t := newTargets(sc)

	// Wallet shares, per payer region.
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		if c.byRegion[r] == 0 {
			continue
		}
		for _, p := range sim.Providers() {
			if t.pref[r][p] > 0 {
				add(Quantity{Quantity: WalletShare, Key: r.String() + "/" + p.String(),
					Generated: float64(c.payer[r][p]) / float64(c.byRegion[r]), Target: t.pref[r][p],
					Samples: c.byRegion[r], Basis: walletShareBasis(r, p, t.prefRaw[r])})
			}
		}
	}
	// Kind mix.
	for i, k := range sc.Kinds {
		if sc.KindShare[i] > 0 {
			add(Quantity{Quantity: KindShare, Key: k.String(), Generated: float64(c.kinds[k]) / float64(c.payments),
				Target: t.kinds[k], Samples: c.payments, Basis: Assumed})
		}
	}
	// Tickets by kind.
	for i, k := range sc.Kinds {
		m := t.ticket(k)
		if sc.KindShare[i] <= 0 || m == nil || c.amount[k].n == 0 {
			continue
		}
		basis := t.ticketBasis(k)
		n := c.amount[k].n
		add(Quantity{Quantity: TicketMedian, Key: k.String(), Generated: c.amount[k].median() / 100, Target: float64(median(m)) / 100, Samples: n, Basis: basis})
		add(Quantity{Quantity: TicketMean, Key: k.String(), Generated: c.amount[k].mean() / 100, Target: m.mean() / 100, Samples: n, Basis: basis})
	}
	// Cross-border scans.
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		if c.scans[r] > 0 && t.crossRaw[r] > 0 {
			add(Quantity{Quantity: CrossBorderShare, Key: r.String(), Generated: float64(c.crossScans[r]) / float64(c.scans[r]),
				Target: t.cross[r], Samples: c.scans[r], Basis: Assumed})
		}
		if d := t.crossAmt[r]; d.Median > 0 && c.crossAmount[r].n > 0 {
			m, basis, n := lognormal(d), crossDistBasis(r, d), c.crossAmount[r].n
			add(Quantity{Quantity: CrossTicketMedian, Key: r.String(), Generated: c.crossAmount[r].median() / 100, Target: float64(median(m)) / 100, Samples: n, Basis: basis})
			add(Quantity{Quantity: CrossTicketMean, Key: r.String(), Generated: c.crossAmount[r].mean() / 100, Target: m.mean() / 100, Samples: n, Basis: basis})
		}
	}
	// Operators.
	if rides := c.kinds[sim.Transit]; rides > 0 {
		for _, o := range sim.Operators() {
			if t.riders[o] > 0 {
				add(Quantity{Quantity: OperatorShare, Key: o.String(), Generated: float64(c.operators[o]) / float64(rides),
					Target: t.riders[o], Samples: rides, Basis: ridersBasis(sc.Transit.Riders)})
			}
		}
	}
	// Peak.
	if c.bins != nil {
		target := peakOf(planBins(sc, c.binMS), c.binMS, sc.EndMS-sc.StartMS)
		counts := make([]float64, len(c.bins))
		for i, n := range c.bins {
			counts[i] = float64(n)
		}
		add(Quantity{Quantity: PeakMultiplier, Key: "per " + shortDur(c.binMS), Generated: peakOf(counts, c.binMS, sc.EndMS-sc.StartMS),
			Target: target, Samples: c.payments, Basis: peakBasis(target)})
	}
	return rep
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
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		other := 3 - r
		// As gen.payment: a cross-border draw falls back to the home
		// region when the other has no merchants; a draw with no merchant
		// at all fails and the whole payment is redrawn.
		pCross, pOwn := 0.0, 0.0
		if merchants[other] > 0 {
			pCross = t.crossRaw[r]
		} else if merchants[r] > 0 {
			pOwn += t.crossRaw[r]
		}
		if merchants[r] > 0 {
			pOwn += 1 - t.crossRaw[r]
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

func (t *targets) ticketBasis(k sim.Kind) string {
	if k == sim.Transit {
		return RowFares
	}
	b := distBasis(k, t.amounts[k])
	if k == sim.ScanMPM || k == sim.ScanCPM {
		for r := sim.Region(1); r < sim.NumRegions; r++ {
			if d := t.crossAmt[r]; d.Median > 0 && t.cross[r] > 0 && t.payer[r] > 0 {
				if cb := crossDistBasis(r, d); cb != b {
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

// WriteJSON writes dir/calibration.json.
func (r *Report) WriteJSON(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "calibration.json")
	return p, os.WriteFile(p, append(b, '\n'), 0o644)
}

// WriteTable prints the report for a terminal.
func (r *Report) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	verdict := "all within"
	if !r.WithinTolerance {
		verdict = "NOT all within"
	}
	fmt.Fprintf(tw, "calibration\t%s (seed %d): %d payments, %d wallets; %s %.0f%% (max error %.2f%%)\n",
		r.Scenario, r.Seed, r.Payments, r.Wallets, verdict, 100*r.Tolerance, 100*r.MaxRelError)
	fmt.Fprintln(tw, "  quantity\tkey\tgenerated\ttarget\terror\tbasis")
	for _, q := range r.Quantities {
		mark := ""
		if !q.OK {
			mark = "  <- off"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%.2f%%\t%s%s\n", q.Quantity, q.Key, format(q.Quantity, q.Generated), format(q.Quantity, q.Target), 100*q.RelError, q.Basis, mark)
	}
	tw.Flush()
}

func format(quantity string, v float64) string {
	switch quantity {
	case WalletShare, KindShare, OperatorShare, CrossBorderShare:
		return fmt.Sprintf("%.2f%%", 100*v)
	case PeakMultiplier:
		return fmt.Sprintf("%.3fx", v)
	}
	return fmt.Sprintf("%.2f", v)
}
