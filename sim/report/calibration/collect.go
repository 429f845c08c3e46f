package calibration

import (
	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/scenario"
)

// amounts accumulates one ticket distribution: an HDR histogram for the
// median (3 significant digits, 0.1% resolution, well inside the 5%
// tolerance) and an exact sum for the mean.
type amounts struct {
	h   *hdrhistogram.Histogram
	sum int64
	n   int64
}

func (a *amounts) add(v int64) {
	if a.h == nil {
		a.h = hdrhistogram.New(1, 1e12, 3)
	}
	_ = a.h.RecordValue(max(v, 1))
	a.sum += v
	a.n++
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
	return float64(a.sum) / float64(a.n)
}

// Collector measures the commands of a run as the producer pulls them.
// It is not safe for concurrent use: the producer calls Epoch from one
// goroutine, and the report is read after the run.
type Collector struct {
	startMS, endMS, binMS int64

	wallets  []uint8 // wallet ID-1 -> provider | region<<4
	payments int64
	kinds    [sim.NumKinds]int64
	payer    [sim.NumRegions][sim.NumProviders]int64
	byRegion [sim.NumRegions]int64
	amount   [sim.NumKinds]amounts
	// cross-border scans per payer region.
	scans, crossScans [sim.NumRegions]int64
	crossAmount       [sim.NumRegions]amounts
	operators         [sim.NumOperators]int64
	bins              []int64

	next   uint32 // the epoch expected next
	broken bool   // an epoch was skipped (a resumed run): measure again
	done   bool
}

// NewCollector prepares a collector for sc's run.
func NewCollector(sc *scenario.Compiled) *Collector {
	c := &Collector{startMS: sc.StartMS, endMS: sc.EndMS}
	if sc.EndMS > 0 && len(sc.Phases) > 0 {
		c.binMS = peakBin(sc)
		c.bins = make([]int64, (sc.EndMS-sc.StartMS+c.binMS-1)/c.binMS)
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

// Complete reports whether the collector saw every epoch from 0 to the
// last: a run resumed mid-way did not, and Measure regenerates instead.
func (c *Collector) Complete() bool { return c.done && !c.broken }

// Observe records epoch e's commands.
func (c *Collector) Observe(e uint32, cmds []event.Command, last bool) {
	if e != c.next {
		c.broken = true
	}
	c.next = e + 1
	if last {
		c.done = true
	}
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
				c.crossAmount[reg].add(cmd.Amount)
			}
		}
	case sim.Transit:
		if o := sim.Operator(cmd.Counterparty); o.Valid() {
			c.operators[o]++
		}
	}
	if c.bins != nil && cmd.SimTime >= c.startMS && cmd.SimTime < c.endMS {
		c.bins[(cmd.SimTime-c.startMS)/c.binMS]++
	}
}

// Measure regenerates sc's commands from its seed and measures them:
// generation is deterministic, so this is what any run of sc produced.
func Measure(sc *scenario.Compiled) *Collector {
	c := NewCollector(sc)
	g := gen.New(sc)
	var buf []event.Command
	for e := uint32(0); ; e++ {
		var last bool
		buf, last = g.Epoch(e, buf[:0])
		c.Observe(e, buf, last)
		if last {
			return c
		}
	}
}
