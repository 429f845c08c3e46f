// Package run runs a scenario end to end: broker (embedded or external),
// topics, processors and producer, then an audit of the log, and returns
// the summary. It is the library the CLI, the gate and the benchmarks call.
package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/walletsim/walletsim/internal/manifest"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/faults"
	"github.com/walletsim/walletsim/sim/bus/netfault"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/engine/replay"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/report/coverage"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Options configure one run.
type Options struct {
	Scenario   *scenario.Compiled
	Policy     *route.Table
	PolicyName string
	// Bus points at an external cluster; empty Brokers starts an embedded
	// broker (in DataDir, or a temporary directory removed afterwards).
	Bus        bus.Config
	DataDir    string
	BrokerAddr string
	Topics     bus.Topics
	Partitions int
	// Fresh deletes existing topics of these names first.
	Fresh bool
	// Progress receives progress lines; Terminal redraws one line.
	Progress io.Writer
	Terminal bool
	Logf     func(string, ...any)
	// Source replaces the scenario's generator (a replayed trace); Clock
	// must then be its epoch clock and Total its payment count.
	Source event.Source
	Clock  ledger.Clock
	Total  int64
	// OnBroker sees the embedded broker once started (fault injection).
	OnBroker func(*embedded.Broker) error
	// OnEngine sees the engine before the run starts (metrics).
	OnEngine func(*engine.Engine)
	// OnEvent sees every acknowledged event (see engine.Config.OnEvent).
	OnEvent func(*event.Event)
	// ExternalWorkers: this process only produces; `walletsim worker`
	// processes elsewhere run the processors. Run waits for their
	// checkpoints to say done.
	ExternalWorkers bool
	// StreamEvery is the window of summary.json's stream hashes, in
	// events per partition (0: audit.DefaultStreamEvery).
	StreamEvery int
	// NetFaults, if it injects anything, puts a TCP proxy (package
	// netfault) between the engine and the broker, embedded or external,
	// and resets its connections and loses produce responses on the
	// plan's schedule while the engine runs. The final audit reads the
	// broker directly.
	NetFaults netfault.Plan
	// OnProxy sees the proxy once started.
	OnProxy func(*netfault.Proxy)
	// Identity is the run's identity as the caller knows it (the scenario
	// and policy hashes); Run fills seed, policy name, partitions, payments,
	// epoch length and version. A fresh run records it; a resume whose
	// identity differs from the log's fails with *engine.IdentityError.
	Identity engine.Identity
	// Faults injects broker faults into the embedded broker (package
	// faults; restarts count from the first outcome); FaultLogf gets the
	// injector's lines. Result.Faults and summary.json report them.
	Faults    faults.Config
	FaultLogf func(string, ...any)
	// Observer, if set, sees the engine and every event (metrics).
	Observer Observer
	// Sample records throughput and latency over time (Result.Series,
	// report.html).
	Sample bool
	// Calibrate checks the generated traffic against the scenario's
	// calibrated targets (Result.Calibration).
	Calibrate bool
}

// identity completes o.Identity with what the run itself knows.
func (o *Options) identity(clock ledger.Clock, total int64) engine.Identity {
	id := o.Identity
	if id.Seed == 0 {
		id.Seed = o.Scenario.Seed
	}
	if id.Policy == "" {
		id.Policy = o.PolicyName
	}
	if id.Partitions == 0 {
		id.Partitions = o.Partitions
	}
	if id.Payments == 0 {
		id.Payments = total
	}
	if id.EpochMS == 0 {
		id.EpochMS = clock.Length
	}
	if id.Version == "" {
		id.Version = manifest.BuildVersion()
	}
	return id
}

// logLocation says where `walletsim diff` can read the log later: an
// external cluster's topics, or an embedded broker's data dir when it was
// given (a temporary one is removed after the run).
func logLocation(o Options, brokerKind string) *audit.LogLocation {
	l := &audit.LogLocation{Events: o.Topics.Events, Commands: o.Topics.Commands, Transfers: o.Topics.Transfers}
	switch {
	case brokerKind == "external":
		l.Brokers = o.Bus.Brokers
	case o.DataDir != "":
		if abs, err := filepath.Abs(o.DataDir); err == nil {
			l.DataDir = abs
		}
	default:
		return nil
	}
	return l
}

// Result is a finished run.
type Result struct {
	Summary *Summary
	Process *engine.ProcessResult
	Audit   *audit.Auditor
	// Faults is what Options.Faults injected; Series what Options.Sample
	// recorded (nil without them).
	Faults *faults.Report
	Series *Series
	cal    *calState
}

// maxPartitions bounds the partition count: each partition is a processor
// with its own books and batches, so a typo of 100000 should be an error,
// not an out-of-memory.
const maxPartitions = 4096

// bigPopulation is the wallet count from which a run collects garbage at
// bigPopulationGOGC.
const (
	bigPopulation     = 1_000_000
	bigPopulationGOGC = 15
)

func (o *Options) setDefaults() {
	if o.Partitions == 0 && o.Scenario != nil {
		o.Partitions = o.Scenario.Partitions
	}
	if o.Partitions == 0 {
		o.Partitions = 8
	}
	if o.Topics == (bus.Topics{}) {
		o.Topics = bus.DefaultTopics("")
	}
}

// Validate reports options that cannot make a run, before anything starts.
func (o *Options) Validate() error {
	switch {
	case o.Scenario == nil || o.Policy == nil:
		return errors.New("run: scenario and policy are required")
	case o.Partitions < 1 || o.Partitions > maxPartitions:
		return fmt.Errorf("run: partitions %d: want 1 to %d", o.Partitions, maxPartitions)
	case o.Source != nil && o.Clock.Length <= 0:
		return errors.New("run: a Source needs its epoch Clock")
	case o.Total < 0:
		return fmt.Errorf("run: total %d payments is negative", o.Total)
	case o.ExternalWorkers && len(o.Bus.Brokers) == 0:
		return errors.New("run: external workers need an external cluster (Bus.Brokers)")
	}
	return nil
}

// Run runs a scenario to completion and audits the log.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.setDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	x, err := o.startExtras()
	if err != nil {
		return nil, err
	}
	defer x.stop()
	brokerKind := "external"
	if len(o.Bus.Brokers) == 0 {
		brokerKind = "embedded"
		dir := o.DataDir
		if dir == "" {
			tmp, err := os.MkdirTemp("", "walletsim-broker-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		}
		b, err := embedded.Start(embedded.Config{Addr: o.BrokerAddr, DataDir: dir, Partitions: o.Partitions})
		if err != nil {
			return nil, err
		}
		defer func() { b.Close() }()
		o.Bus.Brokers = []string{b.Addr()}
		if o.OnBroker != nil {
			if err := o.OnBroker(b); err != nil {
				return nil, err
			}
		}
	}
	direct := o.Bus // the audit reads the broker, not through the faults
	if o.NetFaults.Enabled() {
		if err := o.NetFaults.Validate(); err != nil {
			return nil, err
		}
		px, err := netfault.Start("", o.Bus.Brokers[0])
		if err != nil {
			return nil, err
		}
		defer px.Close()
		if o.OnProxy != nil {
			o.OnProxy(px)
		}
		o.Bus.Brokers = []string{px.Addr()}
		stopFaults := make(chan struct{})
		faultsDone := make(chan struct{})
		// The faults cover the whole run, setup included: every request
		// of package bus is retried through resets (bus.DefaultRetry).
		go func() { defer close(faultsDone); o.NetFaults.Run(px, stopFaults) }()
		defer func() {
			close(stopFaults)
			<-faultsDone
		}()
	}
	src, clock, total := o.Source, o.Clock, o.Total
	if src == nil {
		g := gen.New(o.Scenario)
		src, clock, total = g, g.Clock, g.Payments()
	}
	// With a million wallets or more, most of the heap is the books', the
	// audit's and the population's arrays, which hold no pointers: a
	// collection costs little beyond the rest, so collecting at 15% growth
	// instead of 100% keeps the process near what is live (peak RSS at 10M
	// wallets: 3.41 GiB at 15, 3.75 GiB at 25) for about 4% of its
	// throughput. GOGC set by the user wins.
	wallets := event.WalletsOf(src)
	if wallets >= bigPopulation && os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(bigPopulationGOGC))
	}
	// Enrolment is the scenario population's (the same for its every
	// generator, the calibration collector's included).
	var lowCarbon *gen.LowCarbon
	if o.Scenario.LowCarbon.Enabled() {
		lowCarbon = gen.NewPopulation(o.Scenario).LowCarbon()
	}
	eng, err := engine.New(engine.Config{
		Bus: o.Bus, Topics: o.Topics, Partitions: o.Partitions, Routes: o.Policy,
		Seed: uint64(o.Scenario.Seed), Clock: clock, Logf: o.Logf, OnEvent: o.OnEvent,
		Window: window(o.ExternalWorkers), Wallets: wallets,
	})
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	if err := eng.Setup(ctx, o.Fresh); err != nil {
		return nil, err
	}
	if err := eng.Claim(ctx, o.identity(clock, total)); err != nil {
		return nil, err
	}
	if o.OnEngine != nil {
		o.OnEngine(eng)
	}
	from, finished, err := eng.ResumeEpoch(ctx)
	if err != nil {
		return nil, err
	}
	stopProgress := progress(o.Progress, o.Terminal, total, eng)
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var pst engine.ProduceStats
	prodErr := make(chan error, 1)
	go func() {
		var err error
		if !finished {
			pst, err = eng.Produce(ctx, src, from)
		}
		if err != nil {
			cancel()
		}
		prodErr <- err
	}()
	// The audit follows the log while the pipeline writes it, so the run
	// ends soon after its last outcome rather than re-reading it all.
	logDone := make(chan struct{})
	type verdict struct {
		aud *audit.Auditor
		rep audit.Report
		err error
	}
	verified := make(chan verdict, 1)
	streams, cover := audit.NewStreams(o.Partitions, o.StreamEvery), &coverage.Counter{}
	var audited atomic.Int64
	go func() {
		aud, rep, err := engine.VerifyWith(ctx, direct, o.Topics, engine.VerifyConfig{
			Routes: o.Policy, Done: logDone, DayStartMS: clock.Start, DayMS: clock.DayMS, Wallets: wallets, Audited: &audited,
			OnEvent: func(p int, off int64, e *event.Event, raw []byte) { streams.Add(p, off, raw); cover.Event(e) },
		})
		verified <- verdict{aud, rep, err}
	}()
	var pres *engine.ProcessResult
	if o.ExternalWorkers {
		err = eng.WaitDone(ctx, 200*time.Millisecond)
	} else {
		pres, err = eng.Process(ctx, nil)
	}
	if err != nil {
		cancel() // the producer may wait for processors that are gone
	}
	perr := <-prodErr
	elapsed := time.Since(start)
	inWindow := audited.Load()
	stopProgress()
	if err == nil && perr == nil {
		close(logDone)
	} else {
		cancel()
	}
	vstart := time.Now()
	v := <-verified
	if err != nil {
		return nil, fmt.Errorf("processing: %w", err)
	}
	if perr != nil {
		return nil, fmt.Errorf("producing: %w", perr)
	}
	aud, rep := v.aud, v.rep
	if v.err != nil {
		return nil, fmt.Errorf("verify: %w", v.err)
	}
	s := build(o, rep, aud, pres, elapsed)
	s.LowCarbon = lowCarbon
	s.StreamHashes, s.PolicyCoverage = streams.Summary(), coverage.Build(o.Policy, cover)
	s.StreamHashes.Log = logLocation(o, brokerKind)
	if pres != nil && len(pres.Books) == o.Partitions {
		s.Events.StateDigest = replay.StateDigest(pres.Books, o.Partitions)
	}
	s.Engine.Broker = brokerKind
	s.Engine.VerifyS = time.Since(vstart).Seconds()
	s.Engine.AuditedInWindow, s.Engine.AuditRecords = inWindow, audited.Load()
	s.Engine.Epochs = pst.Epochs
	s.Engine.EpochMS = o.Scenario.EpochMS
	s.DeadLetters = eng.DeadLetters()
	s.Retries = eng.Retries()
	res := &Result{Summary: s, Process: pres, Audit: aud}
	x.finish(res)
	return res, nil
}

func build(o Options, rep audit.Report, aud *audit.Auditor, pres *engine.ProcessResult, elapsed time.Duration) *Summary {
	s := &Summary{
		Scenario: o.Scenario.Name, Policy: o.PolicyName, Seed: o.Scenario.Seed,
		Declines: rep.Declines, Fees: rep.Fees, PnL: rep.PnL, Flows: rep.Flows, FXVolume: rep.FXVolume,
		Payments:   Payments{Attempted: rep.Attempted, Succeeded: rep.Succeeded, Declined: rep.Declined, ByKind: map[string]KindCount{}},
		Events:     Events{Written: rep.Events, Digest: rep.Digest, Redelivered: rep.Redelivered},
		Invariants: rep.Invariants,
		DurationS:  elapsed.Seconds(),
		Carbon:     NewCarbon(rep.CarbonGrams, rep.RidePoints, rep.RidesElsewhere, rep.CarbonByKind),
		Engine:     EngineInfo{Partitions: o.Partitions, Wallets: rep.Wallets},
	}
	for k, c := range rep.ByKind {
		s.Payments.ByKind[k] = KindCount(*c)
	}
	if rep.Attempted > 0 {
		a := float64(rep.Attempted)
		s.Payments.SuccessRate = float64(rep.Succeeded) / a
		// Accepted: some wallet of the consumer had a route (whether or not
		// the payment then succeeded); the rest were abandoned for want of
		// an accepted wallet.
		s.Interop.AcceptanceRate = float64(rep.Attempted-rep.Unaccepted) / a
		s.Interop.FirstWalletRate = float64(rep.FirstWallet) / a
		s.Interop.FallbackRate = float64(rep.Fallback) / a
		s.Interop.AbandonRate = float64(rep.Abandoned) / a
	}
	if rep.RoutedEvents > 0 {
		s.Interop.MeanHops = float64(rep.Hops) / float64(rep.RoutedEvents)
	}
	if aud != nil {
		s.Settlement.CycleS = o.Policy.SettleCycleMS / 1000
		s.Settlement.Positions = aud.Settlement(o.Policy.SettleCycleMS)
	}
	if sec := elapsed.Seconds(); sec > 0 {
		s.Throughput = Throughput{PaymentsPerS: float64(rep.Attempted) / sec, EventsPerS: float64(rep.Events) / sec}
	}
	if pres != nil {
		h := pres.Latency
		s.LatencyMS = Latency{
			P50: float64(h.ValueAtQuantile(50)) / 1000, P95: float64(h.ValueAtQuantile(95)) / 1000,
			P99: float64(h.ValueAtQuantile(99)) / 1000, Max: float64(h.Max()) / 1000,
		}
		s.Engine.SagaRecords = pres.Stats.SagaSent
		s.Engine.StaleRecords = pres.Stats.Stale
	}
	if aud != nil {
		q := quantiles(aud.RouteLatenciesUS(), []float64{0.5, 0.95, 0.99, 1})
		s.RouteLatMS = Latency{P50: float64(q[0]) / 1000, P95: float64(q[1]) / 1000, P99: float64(q[2]) / 1000, Max: float64(q[3]) / 1000}
	}
	return s
}

func window(external bool) int {
	if external {
		return -1
	}
	return 0
}

// progress reports payments resolved until stopped.
func progress(w io.Writer, terminal bool, total int64, eng *engine.Engine) func() {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		if terminal {
			t.Reset(200 * time.Millisecond)
		}
		defer t.Stop()
		for {
			select {
			case <-done:
				if terminal {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case <-t.C:
			}
			n := min(eng.Resolved(), total)
			sec := time.Since(start).Seconds()
			pct := 100 * float64(n) / math.Max(1, float64(total))
			rate := float64(n) / math.Max(sec, 1e-9)
			if terminal {
				bar := int(pct / 100 * 30)
				fmt.Fprintf(w, "\r[%-30s] %5.1f%%  %d/%d payments  %.0f/s", repeat('#', bar), pct, n, total, rate)
			} else {
				fmt.Fprintf(w, "progress: %d/%d payments (%.1f%%), %.0f/s, %d produced\n", n, total, pct, rate, eng.Produced())
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func repeat(c byte, n int) string {
	b := make([]byte, max(n, 0))
	for i := range b {
		b[i] = c
	}
	return string(b)
}
