package run

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/report/html"
)

// With Options.Sample a run records throughput and latency over time,
// sampled from the engine while it lasts (the summary alone has only
// end-of-run totals), for report.html.

const sampleEvery = 250 * time.Millisecond

// Series is what a sampled run recorded: payments resolved per second
// (produced, with external workers) and outcome latency percentiles in
// milliseconds, per sampleEvery window.
type Series struct {
	Throughput []html.Point
	Latency    html.LatencySeries
}

// sampler turns the engine's running totals into time series: every
// sampleEvery, payments resolved in the window over its length, and
// latency percentiles of the outcomes recorded in the window.
type sampler struct {
	mu       sync.Mutex
	hist     *hdrhistogram.Histogram // this window's latencies, microseconds
	e        *engine.Engine
	external bool
	t0, last time.Time
	lastN    int64
	tp       []html.Point
	lat      html.LatencySeries
	done     chan struct{}
	stopped  chan struct{}
}

func (s *sampler) start(e *engine.Engine, external bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done != nil {
		return // one engine per run
	}
	s.e, s.external = e, external
	s.hist = hdrhistogram.New(1, 3_600_000_000, 3)
	s.t0, s.last = time.Now(), time.Now()
	s.done, s.stopped = make(chan struct{}), make(chan struct{})
	s.tp = append(s.tp, html.Point{T: 0, Value: 0})
	e.OnLatency(func(_ sim.Kind, us int64) {
		s.mu.Lock()
		_ = s.hist.RecordValue(us)
		s.mu.Unlock()
	})
	go func() {
		defer close(s.stopped)
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				s.sample(true)
				return
			case <-t.C:
				s.sample(false)
			}
		}
	}()
}

// count is what the throughput series counts: outcomes written here, or,
// when workers elsewhere write them, payments this process produced.
func (s *sampler) count() int64 {
	if s.external {
		return s.e.Produced()
	}
	return s.e.Resolved()
}

func (s *sampler) sample(final bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	dt := now.Sub(s.last).Seconds()
	if final && dt < 0.05 {
		return // a sliver of a window would show a meaningless rate
	}
	n := s.count()
	t := now.Sub(s.t0).Seconds()
	s.tp = append(s.tp, html.Point{T: round3(t), Value: math.Round(float64(n-s.lastN) / dt)})
	if s.hist.TotalCount() > 0 {
		ms := func(q float64) float64 { return round3(float64(s.hist.ValueAtQuantile(q)) / 1000) }
		s.lat.P50 = append(s.lat.P50, html.Point{T: round3(t), Value: ms(50)})
		s.lat.P95 = append(s.lat.P95, html.Point{T: round3(t), Value: ms(95)})
		s.lat.P99 = append(s.lat.P99, html.Point{T: round3(t), Value: ms(99)})
		s.hist.Reset()
	}
	s.last, s.lastN = now, n
}

// series copies what was sampled.
func (s *sampler) series() *Series {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &Series{Throughput: s.tp, Latency: s.lat}
}

func (s *sampler) stop() {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return // the run never reached its engine
	}
	close(done)
	<-s.stopped
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// HTMLReport is report.html: the summary, the sampled series
// (Options.Sample) and the calibration table (Options.Calibrate).
func (res *Result) HTMLReport() (html.RunReport, error) {
	sum := res.Summary
	r := html.RunReport{
		Title:    fmt.Sprintf("walletsim run: %s under %s", sum.Scenario, sum.Policy),
		Scenario: sum.Scenario, Policy: sum.Policy, Seed: sum.Seed,
		KPIs: []html.KPI{
			html.KPIInt("Payments", sum.Payments.Attempted, ""),
			html.KPIFloat("Success rate", 100*sum.Payments.SuccessRate, 2, "%"),
			html.KPIFloat("Throughput", sum.Throughput.PaymentsPerS, 0, "payments/s"),
			html.KPIFloat("p99 latency", sum.LatencyMS.P99, 1, "ms"),
			html.KPIInt("Events", sum.Events.Written, ""),
			html.KPIFloat("Green energy", float64(sum.Carbon.Points)/1000, 1, "thousand Ant Forest points (not CO2)"),
		},
		DeclinesByReason:  sum.Declines,
		GreenPointsByKind: sum.Carbon.ByKind,
	}
	if s := res.Series; s != nil {
		r.Throughput, r.Latency = s.Throughput, s.Latency
	}
	kinds := make([]string, 0, len(sum.Payments.ByKind))
	for k := range sum.Payments.ByKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		c := sum.Payments.ByKind[k]
		r.PaymentsByKind = append(r.PaymentsByKind, html.KindCount{Kind: k, Attempted: c.Attempted, Succeeded: c.Succeeded, Declined: c.Declined})
	}
	inv := sum.Invariants
	count := func(name string, n int64, detail string) html.Invariant {
		d := detail
		if n != 0 {
			d = fmt.Sprintf("%d found", n)
		}
		return html.Invariant{Name: name, OK: n == 0, Detail: d}
	}
	r.Invariants = []html.Invariant{
		{Name: "money is conserved per currency", OK: inv.MoneyConserved, Detail: moneyDetail(inv)},
		count("no negative balance", inv.NegativeBalances, ""),
		count("exactly one outcome per payment", inv.UnresolvedCommands+inv.DuplicateOutcomes, fmt.Sprintf("%d unresolved, %d duplicate outcomes", inv.UnresolvedCommands, inv.DuplicateOutcomes)),
		count("no duplicate event", inv.DuplicateEvents, ""),
		count("every event is double-entry", inv.UnbalancedEvents, ""),
		count("balances match the replayed log", inv.BalanceMismatches, ""),
		count("no sequence gap", inv.SequenceGaps, ""),
		count("FX only through FX accounts at the recorded rate", inv.FXViolations, ""),
		{Name: "log digest", OK: true, Detail: sum.Events.Digest},
	}
	r.Tables = append(r.Tables, html.Table{
		Title:   "Interoperability",
		Columns: []string{"measure", "share %"},
		Rows: [][]string{
			{"accepted", pct(sum.Interop.AcceptanceRate)},
			{"paid with the first wallet", pct(sum.Interop.FirstWalletRate)},
			{"fell back to another wallet", pct(sum.Interop.FallbackRate)},
			{"abandoned", pct(sum.Interop.AbandonRate)},
		},
	})
	if len(sum.Fees) > 0 {
		t := html.Table{Title: "Fees collected", Columns: []string{"party", "currency", "amount"}}
		parties := make([]string, 0, len(sum.Fees))
		for p := range sum.Fees {
			parties = append(parties, p)
		}
		sort.Strings(parties)
		for _, p := range parties {
			curs := make([]string, 0, len(sum.Fees[p]))
			for c := range sum.Fees[p] {
				curs = append(curs, c)
			}
			sort.Strings(curs)
			for _, c := range curs {
				t.Rows = append(t.Rows, []string{p, c, html.KPIMoney("", sum.Fees[p][c], c).Value})
			}
		}
		r.Tables = append(r.Tables, t)
	}
	e := sum.Engine
	r.Tables = append(r.Tables, html.Table{
		Title:   "Engine",
		Columns: []string{"setting", "value"},
		Rows: [][]string{
			{"broker", e.Broker},
			{"partitions", strconv.Itoa(e.Partitions)},
			{"epochs", strconv.FormatInt(e.Epochs, 10)},
			{"wallets", strconv.FormatInt(e.Wallets, 10)},
			{"duration s", strconv.FormatFloat(sum.DurationS, 'f', 2, 64)},
			{"events/s", strconv.FormatFloat(sum.Throughput.EventsPerS, 'f', 0, 64)},
			{"dead letters", strconv.FormatInt(sum.DeadLetters, 10)},
			{"write retries", strconv.FormatInt(sum.Retries, 10)},
		},
	})
	cal, err := res.Calibration()
	if err != nil {
		return r, err
	}
	if cal != nil {
		r.Tables = append(r.Tables, cal.HTMLTable())
	}
	return r, nil
}

// WriteHTML writes dir/report.html (HTMLReport) and returns its path.
func (res *Result) WriteHTML(dir string) (string, error) {
	r, err := res.HTMLReport()
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "report.html")
	return p, html.WriteRunFile(p, r)
}

func moneyDetail(inv Invariants) string {
	cur := make([]string, 0, len(inv.ExternalIn))
	for c := range inv.ExternalIn {
		cur = append(cur, c)
	}
	sort.Strings(cur)
	d := "totals change only by top-ups"
	for _, c := range cur {
		d += fmt.Sprintf("; %s in %s, held %s", c, html.KPIMoney("", inv.ExternalIn[c], c).Value, html.KPIMoney("", inv.Held[c], c).Value)
	}
	return d
}

func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) }
