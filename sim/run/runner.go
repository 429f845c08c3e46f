// Package runner runs a scenario end to end: broker (embedded or external),
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
	"slices"
	"time"

	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/netfault"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/engine/replay"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
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
	Source engine.Source
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
	// NetFaults, if it injects anything, puts a TCP proxy (package
	// netfault) between the engine and the broker, embedded or external,
	// and resets its connections and loses produce responses on the
	// plan's schedule while the engine runs. The final audit reads the
	// broker directly.
	NetFaults netfault.Plan
	// OnProxy sees the proxy once started.
	OnProxy func(*netfault.Proxy)
}

// Result is a finished run.
type Result struct {
	Summary *Summary
	Process *engine.ProcessResult
	Audit   *audit.Auditor
}

// Run runs a scenario to completion and audits the log.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Scenario == nil || o.Policy == nil {
		return nil, errors.New("runner: scenario and policy are required")
	}
	if o.Partitions == 0 {
		o.Partitions = o.Scenario.Partitions
	}
	if o.Partitions == 0 {
		o.Partitions = 8
	}
	if o.Topics == (bus.Topics{}) {
		o.Topics = bus.DefaultTopics("")
	}
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
	startFaults := func() {}
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
		// The faults start with the processing (see startFaults below):
		// setup's admin requests are not retried, the engine's are.
		startFaults = func() {
			go func() { defer close(faultsDone); o.NetFaults.Run(px, stopFaults) }()
			startFaults = func() {}
		}
		defer func() {
			close(stopFaults)
			startFaults()
			<-faultsDone
		}()
	}
	src, clock, total := o.Source, o.Clock, o.Total
	if src == nil {
		g := gen.New(o.Scenario)
		src, clock, total = g, g.Clock, g.Payments()
	}
	eng, err := engine.New(engine.Config{
		Bus: o.Bus, Topics: o.Topics, Partitions: o.Partitions, Routes: o.Policy,
		Seed: uint64(o.Scenario.Seed), Clock: clock, Logf: o.Logf, OnEvent: o.OnEvent,
		Window: window(o.ExternalWorkers),
	})
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	if err := eng.Setup(ctx, o.Fresh); err != nil {
		return nil, err
	}
	if o.OnEngine != nil {
		o.OnEngine(eng)
	}
	from, finished, err := eng.ResumeEpoch(ctx)
	if err != nil {
		return nil, err
	}
	startFaults()
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
	stopProgress()
	if err != nil {
		return nil, fmt.Errorf("processing: %w", err)
	}
	if perr != nil {
		return nil, fmt.Errorf("producing: %w", perr)
	}
	vstart := time.Now()
	aud, rep, err := engine.Verify(ctx, direct, o.Topics)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	s := build(o, rep, aud, pres, elapsed)
	if pres != nil && len(pres.Books) == o.Partitions {
		s.Events.StateDigest = replay.StateDigest(pres.Books, o.Partitions)
	}
	s.Engine.Broker = brokerKind
	s.Engine.VerifyS = time.Since(vstart).Seconds()
	s.Engine.Epochs = pst.Epochs
	s.Engine.EpochMS = o.Scenario.EpochMS
	s.DeadLetters = eng.DeadLetters()
	s.Retries = eng.Retries()
	return &Result{Summary: s, Process: pres, Audit: aud}, nil
}

func build(o Options, rep audit.Report, aud *audit.Auditor, pres *engine.ProcessResult, elapsed time.Duration) *Summary {
	s := &Summary{
		Scenario: o.Scenario.Name, Policy: o.PolicyName, Seed: o.Scenario.Seed,
		Declines: rep.Declines, Fees: rep.Fees, FXVolume: rep.FXVolume,
		Payments: Payments{Attempted: rep.Attempted, Succeeded: rep.Succeeded, Declined: rep.Declined, ByKind: map[string]KindCount{}},
		Events:   Events{Written: rep.Events, Digest: rep.Digest, Redelivered: rep.Redelivered},
		Invariants: Invariants{
			MoneyConserved: rep.MoneyConserved, NegativeBalances: rep.NegativeBalances, DuplicateEvents: rep.DuplicateEvents,
			UnresolvedCommands: rep.UnresolvedCommands, DuplicateOutcomes: rep.DuplicateOutcomes, UnbalancedEvents: rep.UnbalancedEvents,
			BalanceMismatches: rep.BalanceMismatches, SequenceGaps: rep.SequenceGaps, FXViolations: rep.FXViolations,
			SuspenseOpen: rep.SuspenseOpen, ExternalIn: rep.ExternalIn, Held: rep.Held,
		},
		DurationS: elapsed.Seconds(),
		Carbon:    Carbon{GramsCO2e: rep.CarbonGrams, ByKind: rep.CarbonByKind},
		Engine:    EngineInfo{Partitions: o.Partitions, Wallets: rep.Wallets},
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
		lat := slices.Clone(aud.RouteLatenciesUS())
		slices.Sort(lat)
		q := func(p float64) float64 {
			if len(lat) == 0 {
				return 0
			}
			return float64(lat[int(math.Min(float64(len(lat)-1), p*float64(len(lat))))]) / 1000
		}
		s.RouteLatMS = Latency{P50: q(0.5), P95: q(0.95), P99: q(0.99), Max: q(1)}
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
