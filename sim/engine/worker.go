package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// WorkerObserver sees a worker's assignments and engines (metrics.Metrics
// is one).
type WorkerObserver interface {
	Rebalanced()
	SetPartitionsOwned(n int)
	ObserveEngine(e *Engine)
}

// WorkerConfig configures a Worker: the processors of the partitions a
// Kafka consumer group assigns, so N workers on N machines share a run.
type WorkerConfig struct {
	// Engine is the engine every generation runs (Bus, Topics,
	// Partitions, Routes, Seed, Clock); its Window is forced to -1: no
	// producer runs in a worker's process.
	Engine Config
	// Group is the consumer group ID (default: "walletsim.workers").
	Group string
	// Name prefixes every line on Out ("worker NAME: ..."; default
	// host-pid).
	Name string
	// Out receives the worker's lines (default: none).
	Out io.Writer
	// IdlePoll is how often a worker whose partitions are done looks for a
	// new run on its topics (default 2s).
	IdlePoll time.Duration
	// Identity is the run the worker was started for; a log of another run
	// (checked at start and before each generation processes) stops it
	// with an *IdentityError.
	Identity Identity
	// Observer, if set, sees rebalances, the partitions owned and each
	// generation's engine.
	Observer WorkerObserver
}

func (c *WorkerConfig) setDefaults() {
	if c.Group == "" {
		c.Group = "walletsim.workers"
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Name == "" {
		host, _ := os.Hostname()
		c.Name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.IdlePoll == 0 {
		c.IdlePoll = 2 * time.Second
	}
	c.Engine.Window = -1
}

// Validate reports a configuration that cannot run a worker.
func (c *WorkerConfig) Validate() error {
	switch {
	case len(c.Engine.Bus.Brokers) == 0:
		return errors.New("worker: needs a cluster (Engine.Bus.Brokers): workers in other processes cannot reach an embedded broker")
	case c.IdlePoll < 0:
		return fmt.Errorf("worker: idle poll %s: must be positive", c.IdlePoll)
	}
	return nil
}

// Worker runs the processors of its consumer group's assignment.
type Worker struct {
	cfg    WorkerConfig
	cancel context.CancelFunc
	failed error // an identity mismatch found by a generation

	mu sync.Mutex // Out is written from generation goroutines
}

// NewWorker checks cfg (and the engine it runs) before anything connects.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ec := cfg.Engine
	ec.setDefaults()
	ec.Bus.SetDefaults()
	if err := ec.Validate(); err != nil {
		return nil, err
	}
	return &Worker{cfg: cfg}, nil
}

func (w *Worker) logf(format string, a ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.cfg.Out, "worker %s: "+format+"\n", append([]any{w.cfg.Name}, a...)...)
}

// Run joins the group on the commands topic and processes the partitions
// it is assigned until ctx ends (nil) or the log turns out to be another
// run's (*IdentityError). On each rebalance it stops its processors,
// flushes their writes and hands the partitions over; the next owner
// rebuilds each partition from its checkpoint and the event log.
func (w *Worker) Run(ctx context.Context) error {
	ec, group := w.cfg.Engine, w.cfg.Group
	// Create the topics if this worker is first: the consumer group needs
	// the commands topic to assign partitions, and a run that starts later
	// finds them (with external workers it keeps existing topics).
	setup, err := New(ec)
	if err != nil {
		return err
	}
	err = setup.Setup(ctx, false)
	if err == nil {
		err = setup.CheckIdentity(ctx, w.cfg.Identity)
	}
	setup.Close()
	var ie *IdentityError
	if errors.As(err, &ie) {
		return err
	}
	if err != nil {
		return fmt.Errorf("topics: %w", err)
	}
	ctx, w.cancel = context.WithCancel(ctx)
	defer w.cancel()
	dialer, err := ec.Bus.Dialer()
	if err != nil {
		return err
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:      group,
		Brokers: ec.Bus.Brokers,
		Dialer:  dialer,
		Topics:  []string{ec.Topics.Commands},
		// A member learns of a rebalance only from a heartbeat answer, so
		// the interval bounds how long a joining worker waits for the
		// others to let go of their partitions.
		HeartbeatInterval: 500 * time.Millisecond,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  15 * time.Second,
		JoinGroupBackoff:  time.Second,
		Timeout:           5 * time.Second,
		// The group is only for assignment: offsets live in the
		// checkpoints topic, next to the state they describe, and are
		// never committed to the group.
		StartOffset: kafka.FirstOffset,
	})
	if err != nil {
		return err
	}
	defer func() {
		// Leaving the group ends the generation: the processors stop and
		// their writes are flushed before Close returns.
		cg.Close()
		w.logf("left group %s", group)
	}()
	w.logf("joining group %s on %s (%d partitions)", group, ec.Topics.Commands, ec.Partitions)
	for {
		gen, err := cg.Next(ctx)
		if ctx.Err() != nil {
			w.mu.Lock()
			defer w.mu.Unlock()
			return w.failed
		}
		if err != nil {
			if errors.Is(err, kafka.ErrGroupClosed) {
				return nil
			}
			// The group retries joins itself; report and wait for it.
			w.logf("group: %v (retrying)", err)
			continue
		}
		var parts []int
		for _, a := range gen.Assignments[ec.Topics.Commands] {
			parts = append(parts, a.ID)
		}
		slices.Sort(parts)
		if o := w.cfg.Observer; o != nil {
			o.Rebalanced()
			o.SetPartitionsOwned(len(parts))
		}
		w.logf("generation %d: partitions %v", gen.ID, parts)
		id := gen.ID
		gen.Start(func(gctx context.Context) { w.generation(gctx, id, parts) })
	}
}

// generation processes parts until the generation ends. It must not
// return before: a function started on a generation that returns ends the
// generation, which would rebalance the whole group.
func (w *Worker) generation(ctx context.Context, id int32, parts []int) {
	if len(parts) == 0 {
		<-ctx.Done()
		return
	}
	eng, err := New(w.cfg.Engine)
	if err != nil {
		w.logf("generation %d: %v", id, err)
		<-ctx.Done()
		return
	}
	// Close flushes every write this generation started, even those whose
	// WriteMessages returned early when the context ended: the next owner
	// of these partitions must find them in the log when it rebuilds, or
	// it would append the same epoch's events a second time.
	defer eng.Close()
	if o := w.cfg.Observer; o != nil {
		o.ObserveEngine(eng)
	}
	for {
		// A run started after this worker may be another run than the
		// one it was started for: stop rather than process it.
		if err := eng.CheckIdentity(ctx, w.cfg.Identity); err != nil {
			var ie *IdentityError
			if errors.As(err, &ie) {
				w.logf("generation %d: %v", id, err)
				w.mu.Lock()
				w.failed = err
				w.mu.Unlock()
				w.cancel()
				<-ctx.Done()
				return
			}
		}
		res, err := eng.Process(ctx, parts)
		if ctx.Err() != nil {
			w.logf("generation %d ended: releasing partitions %v", id, parts)
			return
		}
		switch {
		case err != nil:
			// A broker restart or topics recreated under us: processors
			// rebuild from their checkpoints on the next attempt.
			w.logf("generation %d: %v (retrying)", id, err)
		case len(res.Books) > 0:
			done := make([]int, 0, len(res.Books))
			for p := range res.Books {
				done = append(done, p)
			}
			slices.Sort(done)
			w.logf("generation %d: finished partitions %v: %d events, %d outcomes, %d wallets", id, done, res.Stats.Events, res.Stats.Outcomes, res.Wallets)
		}
		// Every assigned partition is done (or failed): wait, then look
		// again for a new run on these topics.
		select {
		case <-ctx.Done():
			w.logf("generation %d ended: releasing partitions %v", id, parts)
			return
		case <-time.After(w.cfg.IdlePoll):
		}
	}
}
