// Package faults injects broker faults into the embedded broker, the way
// TigerBeetle's simulator injects them on purpose: error responses on a
// seeded share of produce, fetch and offset-commit requests, latency added
// to every request, and a broker restart mid-run. A run under faults must
// still finish with every invariant intact; the faults only cost retries.
//
// The errors are ones a real cluster returns during a leader election and
// that every Kafka client retries: NOT_LEADER_OR_FOLLOWER on produce and
// fetch, COORDINATOR_LOAD_IN_PROGRESS on offset commits. Each is answered
// before the broker acts, so a faulted produce appends nothing and its
// retry cannot duplicate a record. (REQUEST_TIMED_OUT would be the
// opposite: kfake, like Kafka, may have appended before answering it, and
// kafka-go has no idempotent producer to absorb the retry.)
package faults

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Config says which faults to inject.
type Config struct {
	// Shares of requests answered with a retriable error, in [0, 1).
	ProduceErrorRate float64
	FetchErrorRate   float64
	CommitErrorRate  float64
	// Latency is added to every request before the broker serves it.
	Latency time.Duration
	// RestartAfter restarts the broker once, this long after Inject.
	RestartAfter time.Duration
	// Seed drives the dice: the same seed draws the same sequence of
	// faults (which request meets which draw depends on timing).
	Seed int64
}

// FromScenario converts a scenario's faults key; seed is the scenario
// seed, used when the key has none.
func FromScenario(f scenario.Faults, seed int64) (Config, error) {
	c := Config{ProduceErrorRate: f.ProduceErrorRate, FetchErrorRate: f.FetchErrorRate, CommitErrorRate: f.CommitErrorRate, Seed: f.Seed}
	if c.Seed == 0 {
		c.Seed = seed
	}
	var err error
	if f.Latency != "" {
		if c.Latency, err = time.ParseDuration(f.Latency); err != nil {
			return c, fmt.Errorf("faults.latency: %w", err)
		}
	}
	if f.RestartAfter != "" {
		if c.RestartAfter, err = time.ParseDuration(f.RestartAfter); err != nil {
			return c, fmt.Errorf("faults.restart_after: %w", err)
		}
	}
	return c, c.Validate()
}

// Validate reports what is wrong, naming the scenario key.
func (c Config) Validate() error {
	var errs []error
	for key, v := range map[string]float64{"produce_error_rate": c.ProduceErrorRate, "fetch_error_rate": c.FetchErrorRate, "commit_error_rate": c.CommitErrorRate} {
		if !(v >= 0 && v < 1) {
			errs = append(errs, fmt.Errorf("faults.%s: %v must be within 0 and 1 (1 excluded: nothing would get through)", key, v))
		}
	}
	if c.Latency < 0 {
		errs = append(errs, fmt.Errorf("faults.latency: %s is negative", c.Latency))
	}
	if c.RestartAfter < 0 {
		errs = append(errs, fmt.Errorf("faults.restart_after: %s is negative", c.RestartAfter))
	}
	return errors.Join(errs...)
}

// Enabled reports whether any fault is configured.
func (c Config) Enabled() bool {
	return c.ProduceErrorRate > 0 || c.FetchErrorRate > 0 || c.CommitErrorRate > 0 || c.Latency > 0 || c.RestartAfter > 0
}

// Report counts what was injected.
type Report struct {
	ProduceErrors   int64 `json:"produce_errors"`
	FetchErrors     int64 `json:"fetch_errors"`
	CommitErrors    int64 `json:"commit_errors"`
	DelayedRequests int64 `json:"delayed_requests"`
	Restarts        int64 `json:"restarts"`
	// RestartSkipped: the restart was due after the work it was meant to
	// disturb had finished (see Options.Busy).
	RestartSkipped bool   `json:"restart_skipped,omitempty"`
	RestartError   string `json:"restart_error,omitempty"`
}

// Options tune Inject.
type Options struct {
	// Busy, if set, is asked when the restart is due; false skips it.
	// A run passes "the processors are still working": a restart during
	// the final audit would test the audit's reads, not the engine.
	Busy func() bool
	// Logf reports the restart.
	Logf func(format string, args ...any)
}

// Injector is a set of faults installed on a embedded.
type Injector struct {
	cfg   Config
	b     *embedded.Broker
	opts  Options
	timer *time.Timer

	produce, fetch, commit dice
	delayed, restarts      atomic.Int64

	mu                        sync.Mutex
	produceH, fetchH, commitH []*kfake.FaultHandle // one per cluster
	rep                       Report
}

// dice decides, once per request, whether it fails. kfake asks a fault's
// When for every entity a request carries (each topic, each partition), so
// the decision is remembered for the request it was made for: a request
// fails whole or not at all, and the rate is per request.
type dice struct {
	rate float64
	mu   sync.Mutex
	rng  *rand.Rand
	last kmsg.Request
	hit  bool
}

func (d *dice) roll(req kmsg.Request) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if req != d.last {
		d.last, d.hit = req, d.rng.Float64() < d.rate
	}
	return d.hit
}

// Inject installs the faults on b. They stay installed across a broker
// restart (embedded.OnCluster). The restart itself waits for Arm; Stop
// cancels it.
func Inject(b *embedded.Broker, cfg Config, opts Options) (*Injector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	seed := uint64(cfg.Seed)
	in := &Injector{
		cfg: cfg, b: b, opts: opts,
		produce: dice{rate: cfg.ProduceErrorRate, rng: rand.New(rand.NewPCG(seed, 1))},
		fetch:   dice{rate: cfg.FetchErrorRate, rng: rand.New(rand.NewPCG(seed, 2))},
		commit:  dice{rate: cfg.CommitErrorRate, rng: rand.New(rand.NewPCG(seed, 3))},
	}
	if b.Cluster() == nil {
		return nil, errors.New("faults: broker is closed")
	}
	b.OnCluster(in.install)
	return in, nil
}

// Arm starts the restart clock: the broker restarts RestartAfter from now.
// It is separate from Inject because a run's setup (creating topics,
// reading checkpoints) talks to the broker through admin requests that
// are not retried; the restart is meant for the run's processing, which
// rides through it. Arm twice does nothing more.
func (in *Injector) Arm() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cfg.RestartAfter > 0 && in.timer == nil {
		in.timer = time.AfterFunc(in.cfg.RestartAfter, in.restart)
	}
}

// install puts the faults on one cluster (the first, and each after a
// restart).
func (in *Injector) install(c *kfake.Cluster) {
	// One Fault call per kind: a handle counts the hits of its faults
	// together, and the report counts them per kind.
	add := func(key kmsg.Key, err *kerr.Error, d *dice, hs *[]*kfake.FaultHandle) {
		if d.rate == 0 {
			return
		}
		h := c.Fault(kfake.Fault{Keys: []kmsg.Key{key}, Err: err, Count: -1, When: d.roll})
		in.mu.Lock()
		*hs = append(*hs, h)
		in.mu.Unlock()
	}
	add(kmsg.Produce, kerr.NotLeaderForPartition, &in.produce, &in.produceH)
	add(kmsg.Fetch, kerr.NotLeaderForPartition, &in.fetch, &in.fetchH)
	add(kmsg.OffsetCommit, kerr.CoordinatorLoadInProgress, &in.commit, &in.commitH)
	if d := in.cfg.Latency; d > 0 {
		// SleepControl parks the request and lets the broker serve other
		// connections meanwhile (a time.Sleep here would stall the whole
		// broker, which serves every request on one goroutine). Not
		// handled: after the sleep the broker serves it normally, faults
		// included.
		c.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
			c.KeepControl()
			in.delayed.Add(1)
			c.SleepControl(func() { time.Sleep(d) })
			return nil, nil, false
		})
	}
}

func (in *Injector) restart() {
	if in.opts.Busy != nil && !in.opts.Busy() {
		in.mu.Lock()
		in.rep.RestartSkipped = true
		in.mu.Unlock()
		in.opts.Logf("faults: restart due after the run's processing ended; skipped")
		return
	}
	in.opts.Logf("faults: restarting the broker")
	// Not under in.mu: Restart runs install on the new cluster, which
	// takes it.
	err := in.b.Restart()
	in.mu.Lock()
	defer in.mu.Unlock()
	if err != nil {
		in.rep.RestartError = err.Error()
		in.opts.Logf("faults: restart failed: %v", err)
		return
	}
	in.restarts.Add(1)
}

// Stop cancels a pending restart. Faults stay on the broker until it
// closes.
func (in *Injector) Stop() {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.timer != nil {
		in.timer.Stop()
	}
}

// Report returns what was injected so far.
func (in *Injector) Report() Report {
	in.mu.Lock()
	defer in.mu.Unlock()
	r := in.rep
	// A closed cluster's handles keep their counts: sum over all.
	r.ProduceErrors, r.FetchErrors, r.CommitErrors = hits(in.produceH), hits(in.fetchH), hits(in.commitH)
	r.DelayedRequests, r.Restarts = in.delayed.Load(), in.restarts.Load()
	return r
}

func hits(hs []*kfake.FaultHandle) int64 {
	var n int64
	for _, h := range hs {
		n += int64(h.Hits())
	}
	return n
}
