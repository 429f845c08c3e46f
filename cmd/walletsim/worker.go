package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/metrics"
	"github.com/walletsim/walletsim/sim/run"
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
	ctx := cmd.Context()

	cfg := engine.WorkerConfig{
		Group: f.group, Name: f.name, Out: cmd.OutOrStdout(), IdlePoll: f.idlePoll,
		Engine: engine.Config{
			Bus: bus, Topics: f.bus.topics(), Partitions: s.Partitions, Routes: table,
			Seed: uint64(sc.Seed), Clock: ledger.Clock{Start: sc.StartMS, Length: sc.EpochMS, DayMS: sc.DayMS},
		},
		Identity: run.IdentityOf(src.Data, sc, pol.Name),
	}
	if os.Getenv("WALLETSIM_DEBUG") != "" {
		cfg.Engine.Logf = func(format string, a ...any) { fmt.Fprintf(os.Stderr, "debug: "+format+"\n", a...) }
	}
	m, msrv, err := serveMetrics(ctx, f.metricsAddr, metrics.RoleWorker, pol.Name, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer msrv.Close()
	if m != nil {
		cfg.Observer, cfg.Engine.OnEvent = m, m.Observe
	}
	w, err := engine.NewWorker(cfg)
	if err != nil {
		return cli.Usage(err)
	}
	return w.Run(ctx)
}
