package engine_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/run"
)

// lockedBuffer is a worker's Out, read while the worker writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func workerRun(t *testing.T) run.Options {
	t.Helper()
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments, s.Duration, s.Partitions = 3000, "", 4
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	table, pol, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		t.Fatal(err)
	}
	return run.Options{Scenario: sc, Policy: table, PolicyName: pol.Name, Partitions: 4}
}

func workerConfig(o run.Options, bc bus.Config, topics bus.Topics, name string, out *lockedBuffer) engine.WorkerConfig {
	sc := o.Scenario
	return engine.WorkerConfig{
		Group: topics.Commands + ".workers", Name: name, Out: out, IdlePoll: 200 * time.Millisecond,
		Engine: engine.Config{
			Bus: bc, Topics: topics, Partitions: o.Partitions, Routes: o.Policy, Seed: uint64(sc.Seed),
			Clock: ledger.Clock{Start: sc.StartMS, Length: sc.EpochMS, DayMS: sc.DayMS},
		},
		Identity: engine.Identity{Seed: sc.Seed, Policy: o.PolicyName, Partitions: o.Partitions, EpochMS: sc.EpochMS},
	}
}

// Two workers in one consumer group process a run whose producer is
// elsewhere (run.Options.ExternalWorkers): the log is the log of a run
// whose processors ran in its own process, same digest; then a worker
// started for another run refuses the log.
func TestWorkersShareARun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine three times")
	}
	ctx := context.Background()
	local, err := run.Run(ctx, workerRun(t))
	if err != nil {
		t.Fatal(err)
	}

	b, err := embedded.Start(embedded.Config{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bc, topics := bus.Config{Brokers: []string{b.Addr()}}, bus.DefaultTopics("wk")
	o := workerRun(t)
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	outs := []*lockedBuffer{{}, {}}
	errs := make([]error, len(outs))
	for i, out := range outs {
		w, err := engine.NewWorker(workerConfig(o, bc, topics, []string{"a", "b"}[i], out))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = w.Run(wctx) }()
	}
	o.Bus, o.Topics, o.ExternalWorkers = bc, topics, true
	// Without working workers the run would wait for them forever.
	rctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	res, err := run.Run(rctx, o)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	if !res.Summary.Invariants.OK() || res.Summary.Events.Digest != local.Summary.Events.Digest {
		t.Fatalf("external workers: digest %s, invariants %+v; local run: digest %s", res.Summary.Events.Digest, res.Summary.Invariants, local.Summary.Events.Digest)
	}
	finished := 0
	for _, out := range outs {
		finished += strings.Count(out.String(), ": finished partitions")
		if !strings.Contains(out.String(), "left group") {
			t.Errorf("worker did not leave the group:\n%s", out)
		}
	}
	if finished == 0 {
		t.Errorf("no worker finished a partition:\n%s\n%s", outs[0], outs[1])
	}

	// A worker for seed+1 finds this run's identity in the log.
	cfg := workerConfig(o, bc, topics, "c", &lockedBuffer{})
	cfg.Identity.Seed++
	w, err := engine.NewWorker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ie *engine.IdentityError
	if err := w.Run(ctx); !errors.As(err, &ie) {
		t.Fatalf("worker for another run: %v, want an *IdentityError", err)
	}
}

func TestNewWorkerValidates(t *testing.T) {
	o := workerRun(t)
	good := workerConfig(o, bus.Config{Brokers: []string{"127.0.0.1:1"}}, bus.DefaultTopics("x"), "x", &lockedBuffer{})
	if _, err := engine.NewWorker(good); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*engine.WorkerConfig){
		"no brokers":    func(c *engine.WorkerConfig) { c.Engine.Bus.Brokers = nil },
		"no policy":     func(c *engine.WorkerConfig) { c.Engine.Routes = nil },
		"negative poll": func(c *engine.WorkerConfig) { c.IdlePoll = -time.Second },
	} {
		c := good
		mod(&c)
		if _, err := engine.NewWorker(c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
