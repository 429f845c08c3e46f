package run

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/faults"
	"github.com/walletsim/walletsim/sim/bus/netfault"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/report/calibration"
	"github.com/walletsim/walletsim/sim/scenario"
)

// What a run does besides running: broker faults, an observer (metrics),
// the report's time series and the calibration check. Options says which;
// Run starts them around the engine and Result carries what they found.

// Observer sees the run's engine and every acknowledged event
// (metrics.Metrics is one).
type Observer interface {
	ObserveEngine(e *engine.Engine)
	SetPartitionsOwned(n int)
	Observe(ev *event.Event)
}

// NetPlan is the scenario's network faults (faults.resets,
// lost_responses, reset_every, network_over), for Options.NetFaults: they
// work against an external cluster too, the proxy sits in front of any
// broker. Produce responses are lost on the events topic.
func NetPlan(f scenario.Faults, seed int64, events string) (netfault.Plan, error) {
	pl := netfault.Plan{Resets: f.Resets, LostResponses: f.LostResponses, Over: 10 * time.Second, Seed: f.Seed, LoseTopic: events}
	if pl.Seed == 0 {
		pl.Seed = seed
	}
	var err error
	if f.NetworkOver != "" {
		if pl.Over, err = time.ParseDuration(f.NetworkOver); err != nil {
			return pl, fmt.Errorf("faults.network_over: %w", err)
		}
	}
	if f.ResetEvery != "" {
		if pl.Every, err = time.ParseDuration(f.ResetEvery); err != nil {
			return pl, fmt.Errorf("faults.reset_every: %w", err)
		}
	}
	if err := pl.Validate(); err != nil {
		return pl, fmt.Errorf("faults: %w", err)
	}
	return pl, nil
}

// ScenarioFaults is the scenario's faults key as Options.Faults (broker
// faults, embedded broker only) and Options.NetFaults (network faults,
// events on the topic events).
func ScenarioFaults(sc *scenario.Compiled, events string) (faults.Config, netfault.Plan, error) {
	fc, err := faults.FromScenario(sc.Faults, sc.Seed)
	if err != nil {
		return fc, netfault.Plan{}, err
	}
	pl, err := NetPlan(sc.Faults, sc.Seed, events)
	return fc, pl, err
}

// WriteFaults prints what the run's faults did: the network's resets and
// lost responses (px, the proxy Options.OnProxy saw; nil: none) and the
// broker faults Options.Faults injected.
func (r *Result) WriteFaults(w io.Writer, px *netfault.Proxy) {
	s := r.Summary
	if px != nil {
		fmt.Fprintf(w, "network faults: %d connections reset, %d produce responses lost; %d events redelivered (skipped by the audit)\n",
			px.Resets(), px.Lost(), s.Events.Redelivered)
	}
	if rep := r.Faults; rep != nil {
		// Fetch errors mostly do not show in retries: the partition
		// reader reconnects after NOT_LEADER_OR_FOLLOWER by itself.
		fmt.Fprintf(w, "faults: injected %d produce, %d fetch, %d commit errors, %d delayed requests, %d broker restarts; %d requests retried by the engine (the reader absorbs fetch errors by reconnecting)\n",
			rep.ProduceErrors, rep.FetchErrors, rep.CommitErrors, rep.DelayedRequests, rep.Restarts, s.Retries)
	}
}

// extras is what startExtras started for one run.
type extras struct {
	o       *Options
	eng     atomic.Pointer[engine.Engine]
	faults  *faults.Injector
	sampler *sampler
	col     *calibration.Collector
	stopped chan struct{} // closes when the run ends: stops the arming loop
	once    sync.Once
}

// startExtras wires the extras into o's hooks (before Run starts anything).
func (o *Options) startExtras() (*extras, error) {
	x := &extras{o: o, stopped: make(chan struct{})}
	if o.Faults.Enabled() && len(o.Bus.Brokers) > 0 {
		return nil, errors.New("faults: the scenario's faults key drives the embedded broker; drop --brokers (a real cluster's faults are its own)")
	}
	if o.Calibrate {
		x.col = calibration.NewCollector(o.Scenario)
		if o.Source == nil {
			// Measure the commands as the producer pulls them: the report
			// is about exactly what this run generated.
			g := gen.New(o.Scenario)
			o.Source, o.Clock, o.Total = x.col.Wrap(g), g.Clock, g.Payments()
		}
	}
	if o.Sample {
		x.sampler = &sampler{}
	}
	prevBroker, prevEngine, prevEvent := o.OnBroker, o.OnEngine, o.OnEvent
	if o.Faults.Enabled() {
		o.OnBroker = func(b *embedded.Broker) error {
			if prevBroker != nil {
				if err := prevBroker(b); err != nil {
					return err
				}
			}
			in, err := faults.Inject(b, o.Faults, faults.Options{Busy: x.busy, Logf: o.FaultLogf})
			x.faults = in
			return err
		}
	}
	o.OnEngine = func(e *engine.Engine) {
		if prevEngine != nil {
			prevEngine(e)
		}
		x.eng.Store(e)
		if m := o.Observer; m != nil {
			m.ObserveEngine(e)
			if o.ExternalWorkers {
				m.SetPartitionsOwned(0)
			} else {
				m.SetPartitionsOwned(e.Partitions())
			}
		}
		if x.sampler != nil {
			x.sampler.start(e, o.ExternalWorkers)
		}
		if in := x.faults; in != nil { // set: the embedded broker starts before the engine
			// restart_after counts from the first outcome: setup talks to
			// the broker with admin requests that are not retried, the
			// processing rides through a restart.
			go func() {
				t := time.NewTicker(10 * time.Millisecond)
				defer t.Stop()
				for e.Resolved() == 0 {
					select {
					case <-x.stopped:
						return
					case <-t.C:
					}
				}
				in.Arm()
			}()
		}
	}
	if o.Observer != nil {
		o.OnEvent = func(ev *event.Event) {
			if prevEvent != nil {
				prevEvent(ev)
			}
			o.Observer.Observe(ev)
		}
	}
	return x, nil
}

// busy is the injector's "the processors are still working": a restart
// due after they finished would hit the final audit, not the engine.
func (x *extras) busy() bool {
	e := x.eng.Load()
	if e == nil {
		return true
	}
	for _, d := range e.DoneEpochs() {
		if d < 1<<31 {
			return true
		}
	}
	return false
}

// stop ends what the extras started; Run defers it.
func (x *extras) stop() {
	x.once.Do(func() {
		close(x.stopped)
		if x.sampler != nil {
			x.sampler.stop()
		}
		if x.faults != nil {
			x.faults.Stop()
		}
	})
}

// finish stops the extras and puts what they found into res.
func (x *extras) finish(res *Result) {
	x.stop()
	if x.faults != nil {
		rep := x.faults.Report()
		res.Faults, res.Summary.Faults = &rep, &rep
	}
	if x.sampler != nil {
		res.Series = x.sampler.series()
	}
	if x.col != nil {
		res.cal = &calState{col: x.col, sc: x.o.Scenario}
	}
}

// calState computes the calibration report once, on demand.
type calState struct {
	col  *calibration.Collector
	sc   *scenario.Compiled
	once sync.Once
	rep  *calibration.Report
	err  error
}

// Calibration is the run's calibration report (Options.Calibrate), nil
// without one.
func (r *Result) Calibration() (*calibration.Report, error) {
	c := r.cal
	if c == nil {
		return nil, nil
	}
	c.once.Do(func() {
		col := c.col
		if !col.Complete() {
			// The producer resumed mid-way (or another source replaced the
			// generator): generation is deterministic, so measure it afresh.
			col = calibration.Measure(c.sc)
		}
		c.rep, c.err = col.Report(c.sc, calibration.Config{})
	})
	return c.rep, c.err
}
