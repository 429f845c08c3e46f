package calibration

import (
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/scenario"
)

// amounts accumulates one ticket distribution: an HDR histogram for the
// median shown (3 significant digits), exact sums for the mean and the
// mean of logs, and an exact count at or below the target median (the
// median test), which the histogram's buckets would blur.
type amounts struct {
	h            *hdrhistogram.Histogram
	sum, sum2    float64
	logs, logs2  float64
	n            int64
	thr          int64 // target median, minor units
	atOrBelowThr int64
}

func (a *amounts) add(v int64) {
	if a.h == nil {
		a.h = hdrhistogram.New(1, 1e12, 3)
	}
	v = max(v, 1)
	_ = a.h.RecordValue(v)
	f := float64(v)
	a.sum += f
	a.sum2 += f * f
	l := math.Log(f)
	a.logs += l
	a.logs2 += l * l
	a.n++
	if v <= a.thr {
		a.atOrBelowThr++
	}
}

func (a *amounts) median() float64 {
	if a.n == 0 {
		return 0
	}
	return float64(a.h.ValueAtQuantile(50))
}

func (a *amounts) mean() float64 {
	if a.n == 0 {
		return 0
	}
	return a.sum / float64(a.n)
}

// sd is the sample standard deviation.
func sd(sum, sum2 float64, n int64) float64 {
	if n < 2 {
		return 0
	}
	m := sum / float64(n)
	return math.Sqrt(max(0, (sum2-float64(n)*m*m)/float64(n-1)))
}

// maxSeconds bounds the per-second arrival histogram (a month).
const maxSeconds = 31 * 86_400

// Collector measures the commands of a run as the producer pulls them.
// It is not safe for concurrent use: the producer calls Epoch from one
// goroutine, and the report is read after the run. The median thresholds
// come from the scenario it is made for: report it against that scenario.
type Collector struct {
	startMS, endMS int64

	wallets  []uint8 // wallet ID-1 -> provider | region<<4
	payments int64
	kinds    [sim.NumKinds]int64
	payer    [sim.NumRegions][sim.NumProviders]int64
	byRegion [sim.NumRegions]int64
	amount   [sim.NumKinds]amounts
	// cross-border scans per payer region, and by the payer's provider.
	scans, crossScans [sim.NumRegions]int64
	crossProv         [sim.NumRegions][sim.NumProviders]int64
	crossAmount       [sim.NumRegions]amounts
	operators         [sim.NumOperators]int64
	// perSecond counts arrivals by simulated second from the start.
	perSecond []int64
	lastMS    int64

	next   uint32 // the epoch expected next
	broken bool   // an epoch was skipped (a resumed run): measure again
	done   bool
}

// NewCollector prepares a collector for sc's run.
func NewCollector(sc *scenario.Compiled) *Collector {
	c := &Collector{startMS: sc.StartMS, endMS: sc.EndMS}
	t := newTargets(sc)
	for k := sim.Kind(0); k < sim.NumKinds; k++ {
		if m := t.ticket(k); m != nil {
			c.amount[k].thr = median(m)
		}
	}
	for r := sim.Region(1); r < sim.NumRegions; r++ {
		if d := t.crossAmt[r]; d.Median > 0 {
			c.crossAmount[r].thr = median(lognormal(d))
		}
	}
	return c
}

// Wrap returns src with every epoch it yields measured on the way out.
func (c *Collector) Wrap(src event.Source) event.Source { return &tap{c: c, src: src} }

type tap struct {
	c   *Collector
	src event.Source
}

func (t *tap) Epoch(e uint32, buf []event.Command) ([]event.Command, bool) {
	n := len(buf)
	buf, last := t.src.Epoch(e, buf)
	t.c.Observe(e, buf[n:], last)
	return buf, last
}

// Wallets implements event.Sized for the source it wraps.
func (t *tap) Wallets() int64 { return event.WalletsOf(t.src) }

// EpochPart implements event.PartSource: the parts are measured as they
// pass, the epoch counted once, at its last part.
func (t *tap) EpochPart(e uint32, i, n int, buf []event.Command) ([]event.Command, int, bool) {
	k := len(buf)
	buf, next, last := event.Parts(t.src, e, i, n, buf)
	if i == 0 {
		t.c.startEpoch(e)
	}
	t.c.observe(buf[k:])
	if next < 0 {
		t.c.endEpoch(last)
	}
	return buf, next, last
}

// Complete reports whether the collector saw every epoch from 0 to the
// last: a run resumed mid-way did not, and Measure regenerates instead.
func (c *Collector) Complete() bool { return c.done && !c.broken }

// Observe records epoch e's commands.
func (c *Collector) Observe(e uint32, cmds []event.Command, last bool) {
	c.startEpoch(e)
	c.observe(cmds)
	c.endEpoch(last)
}

func (c *Collector) startEpoch(e uint32) {
	if e != c.next {
		c.broken = true
	}
	c.next = e + 1
}

func (c *Collector) endEpoch(last bool) {
	if last {
		c.done = true
	}
}

func (c *Collector) observe(cmds []event.Command) {
	for i := range cmds {
		cmd := &cmds[i]
		switch cmd.Type {
		case event.CmdOpenWallet:
			c.open(cmd)
		case event.CmdPay:
			c.pay(cmd)
		}
	}
}

func (c *Collector) open(cmd *event.Command) {
	id := cmd.Wallet
	if id == 0 || id > 1<<32 {
		return
	}
	for uint64(len(c.wallets)) < id {
		c.wallets = append(c.wallets, 0)
	}
	c.wallets[id-1] = uint8(cmd.Provider) | uint8(cmd.Region)<<4
}

func (c *Collector) walletOf(id uint64) (sim.Provider, sim.Region) {
	if id == 0 || id > uint64(len(c.wallets)) {
		return 0, 0
	}
	w := c.wallets[id-1]
	return sim.Provider(w & 15), sim.Region(w >> 4)
}

func (c *Collector) pay(cmd *event.Command) {
	if !cmd.Kind.IsPayment() {
		return
	}
	c.payments++
	c.kinds[cmd.Kind]++
	prov, reg := c.walletOf(cmd.Wallet)
	if reg.Valid() && prov.Valid() {
		c.payer[reg][prov]++
		c.byRegion[reg]++
	}
	c.amount[cmd.Kind].add(cmd.Amount)
	switch cmd.Kind {
	case sim.ScanMPM, sim.ScanCPM:
		if reg.Valid() {
			c.scans[reg]++
			if cmd.AccRegion != reg {
				c.crossScans[reg]++
				if prov.Valid() {
					c.crossProv[reg][prov]++
				}
				c.crossAmount[reg].add(cmd.Amount)
			}
		}
	case sim.Transit:
		if o := sim.Operator(cmd.Counterparty); o.Valid() {
			c.operators[o]++
		}
	}
	if off := cmd.SimTime - c.startMS; off >= 0 && (c.endMS == 0 || cmd.SimTime < c.endMS) {
		s := off / 1000
		if s < maxSeconds {
			for int64(len(c.perSecond)) <= s {
				c.perSecond = append(c.perSecond, 0)
			}
			c.perSecond[s]++
			c.lastMS = max(c.lastMS, off)
		}
	}
}

// Measure regenerates sc's commands from its seed and measures them:
// generation is deterministic, so this is what any run of sc produced.
func Measure(sc *scenario.Compiled) *Collector {
	return MeasureWith(sc, gen.New(sc))
}

// MeasureWith measures what src generates against sc's targets (tests
// feed it a generator of a deliberately different scenario: a bias).
func MeasureWith(sc *scenario.Compiled, src event.Source) *Collector {
	c := NewCollector(sc)
	var buf []event.Command
	for e := uint32(0); ; e++ {
		var last bool
		buf, last = src.Epoch(e, buf[:0])
		c.Observe(e, buf, last)
		if last {
			return c
		}
	}
}
