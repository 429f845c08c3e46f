package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/internal/manifest"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/metrics"
	"github.com/walletsim/walletsim/sim/scenario"
)

type workerFlags struct {
	bus         busFlags
	sf          scenarioFlags
	group       string
	name        string
	metricsAddr string
	idlePoll    time.Duration
}

func init() { rootCmd.AddCommand(newWorkerCmd()) }

func newWorkerCmd() *cobra.Command {
	f := &workerFlags{}
	cmd := &cobra.Command{
		Use:   "worker SCENARIO",
		Short: "Run the engine's processors for the partitions a consumer group assigns",
		Long: `Worker runs only the engine's processors: it joins a Kafka consumer group
on the commands topic and processes the partitions the group assigns it,
so N workers on N machines share a run. On each rebalance it stops its
processors, flushes its writes and hands the partitions over; the next
owner rebuilds each partition from its checkpoint and the event log.

Start workers with the same SCENARIO, --policy, --seed and --partitions as
the run they serve, then produce with
  walletsim run SCENARIO --brokers ... --workers external
A worker outlives runs: when its partitions are done it waits for the
next run on the same topics. It exits on SIGINT or SIGTERM (exit 0).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runWorker(cmd, f, args[0]) },
	}
	fs := cmd.Flags()
	f.bus.register(fs)
	// Policy, seed and partitions must match the run the worker serves.
	f.sf.addPolicy(fs)
	f.sf.addSeed(fs)
	f.sf.addPartitions(fs)
	fs.StringVar(&f.group, "group", "", "consumer group ID (default: TOPIC-PREFIX.workers)")
	fs.StringVar(&f.name, "name", "", "name in this worker's output (default: host-pid)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics (host:port; port 0 picks one)")
	fs.DurationVar(&f.idlePoll, "idle-poll", 2*time.Second, "how often a worker whose partitions are done checks for a new run")
	return cmd
}

func runWorker(cmd *cobra.Command, f *workerFlags, name string) error {
	sc, src, err := f.sf.resolve(cmd, name, func(s *scenario.Scenario) error {
		if s.Partitions == 0 {
			s.Partitions = 8
		}
		return nil
	})
	if err != nil {
		return err
	}
	s := sc.Scenario
	table, pol, err := loadPolicy(s.Policy)
	if err != nil {
		return err
	}
	if f.idlePoll <= 0 {
		return cli.Usagef("--idle-poll: must be positive, got %s", f.idlePoll)
	}
	bus, err := f.bus.config()
	if err != nil {
		return err
	}
	if err := needBrokers(bus, cmd); err != nil {
		return err
	}
	if f.group == "" {
		f.group = f.bus.prefix + ".workers"
	}
	if f.name == "" {
		host, _ := os.Hostname()
		f.name = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	w := &worker{
		name: f.name, out: cmd.OutOrStdout(), idlePoll: f.idlePoll,
		cfg: engine.Config{
			Bus: bus, Topics: f.bus.topics(), Partitions: s.Partitions, Routes: table,
			Seed: uint64(sc.Seed), Clock: ledger.Clock{Start: sc.StartMS, Length: sc.EpochMS, DayMS: sc.DayMS},
			// No producer in this process: nothing to hold back.
			Window: -1,
		},
		id: runIdentity(src.Data, sc, pol.Name),
	}
	if os.Getenv("WALLETSIM_DEBUG") != "" {
		w.cfg.Logf = func(format string, a ...any) { fmt.Fprintf(os.Stderr, "debug: "+format+"\n", a...) }
	}
	if f.metricsAddr != "" {
		reg := metrics.NewRegistry()
		m, err := metrics.New(reg, metrics.Options{Role: metrics.RoleWorker, Policy: pol.Name, Version: manifest.Version})
		if err != nil {
			return err
		}
		w.m = m
		w.cfg.OnEvent = w.m.Observe
		srv, err := metrics.Serve(ctx, f.metricsAddr, reg)
		if err != nil {
			return cli.Usage(fmt.Errorf("--metrics-addr: %w", err))
		}
		defer srv.Close()
		fmt.Fprintf(cmd.ErrOrStderr(), "metrics: serving %s\n", srv.URL())
	}
	return identityUsage(w.run(ctx, f.group))
}

// worker runs the processors of its consumer group's assignment.
type worker struct {
	name     string
	cfg      engine.Config
	m        *metrics.Metrics // nil without --metrics-addr
	idlePoll time.Duration
	// id is the run this worker was started for; a log of another run
	// (checked at start and before each generation processes) stops it.
	id     engine.Identity
	cancel context.CancelFunc
	failed error // an identity mismatch found by a generation

	mu  sync.Mutex // out is written from generation goroutines
	out io.Writer
}

func (w *worker) logf(format string, a ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.out, "worker %s: "+format+"\n", append([]any{w.name}, a...)...)
}

func (w *worker) run(ctx context.Context, group string) error {
	// Create the topics if this worker is first: the consumer group needs
	// the commands topic to assign partitions, and a run that starts later
	// finds them (with external workers it keeps existing topics).
	setup, err := engine.New(w.cfg)
	if err != nil {
		return cli.Usage(err)
	}
	err = setup.Setup(ctx, false)
	if err == nil {
		err = setup.CheckIdentity(ctx, w.id)
	}
	setup.Close()
	var ie *engine.IdentityError
	if errors.As(err, &ie) {
		return err
	}
	if err != nil {
		return fmt.Errorf("topics: %w", err)
	}
	ctx, w.cancel = context.WithCancel(ctx)
	defer w.cancel()
	dialer, err := w.cfg.Bus.Dialer()
	if err != nil {
		return err
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:      group,
		Brokers: w.cfg.Bus.Brokers,
		Dialer:  dialer,
		Topics:  []string{w.cfg.Topics.Commands},
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
	w.logf("joining group %s on %s (%d partitions)", group, w.cfg.Topics.Commands, w.cfg.Partitions)
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
		for _, a := range gen.Assignments[w.cfg.Topics.Commands] {
			parts = append(parts, a.ID)
		}
		slices.Sort(parts)
		if w.m != nil {
			w.m.Rebalanced()
			w.m.SetPartitionsOwned(len(parts))
		}
		w.logf("generation %d: partitions %v", gen.ID, parts)
		id := gen.ID
		gen.Start(func(gctx context.Context) { w.generation(gctx, id, parts) })
	}
}

// generation processes parts until the generation ends. It must not
// return before: a function started on a generation that returns ends the
// generation, which would rebalance the whole group.
func (w *worker) generation(ctx context.Context, id int32, parts []int) {
	if len(parts) == 0 {
		<-ctx.Done()
		return
	}
	eng, err := engine.New(w.cfg)
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
	if w.m != nil {
		w.m.ObserveEngine(eng)
	}
	for {
		// A run started after this worker may be another run than the
		// one it was started for: stop rather than process it.
		if err := eng.CheckIdentity(ctx, w.id); err != nil {
			var ie *engine.IdentityError
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
		case <-time.After(w.idlePoll):
		}
	}
}
