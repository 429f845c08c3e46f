package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/scenario"
)

type runFlags struct {
	bus   busFlags
	sf    scenarioFlags
	out   string
	data  string
	addr  string
	fresh bool
	quiet bool
}

var runCmd *cobra.Command

func init() {
	runCmd = newRunCmd()
	rootCmd.AddCommand(runCmd)
}

// registerRunFlags adds flags to `run` from a run_*.go file. Go runs the
// init functions of a package's files in name order, so run.go's comes
// first and the command already exists: apply the hook to it now.
func registerRunFlags(h func(fs *pflag.FlagSet)) {
	if runCmd != nil {
		h(runCmd.Flags())
		return
	}
	runFlagHooks = append(runFlagHooks, h)
}

// Extension points: features that add flags to run register here from
// their own file (run_*.go), so run.go stays small and owners don't collide.
var (
	// runFlagHooks add flags; use registerRunFlags, which also works after
	// the command is built.
	runFlagHooks []func(fs *pflag.FlagSet)
	// runScenarioHooks adjust the scenario before it is validated (scale
	// presets).
	runScenarioHooks []func(cmd *cobra.Command, s *scenario.Scenario) error
	// runOptionHooks adjust the run (metrics, traces, workers).
	runOptionHooks []func(cmd *cobra.Command, o *run.Options) error
	// runResultHooks see the finished run (reports, calibration).
	runResultHooks []func(cmd *cobra.Command, out string, res *run.Result) error
)

func newRunCmd() *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Run a scenario through the event-sourced engine on Kafka and audit the log",
		Long: `Run generates a scenario's seeded traffic, sends it through the engine on
Kafka (an embedded broker unless --brokers is given), audits the event log
and writes DIR/summary.json. SCENARIO is a YAML file or a built-in name
(quickstart). Exit 0: the run finished and every invariant held; 1: a
runtime failure or a broken invariant; 2: bad arguments or scenario.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRun(cmd, f, args[0]) },
	}
	fs := cmd.Flags()
	f.bus.register(fs)
	f.sf.addPayments(fs, 0, "number of payments (overrides the scenario)")
	f.sf.addSeed(fs)
	fs.StringVar(&f.out, "out", "", "directory for summary.json (default: no files)")
	f.sf.addPolicy(fs)
	f.sf.addPartitions(fs)
	fs.StringVar(&f.data, "data", "", "embedded broker data dir (default: a temporary dir, removed after the run)")
	fs.StringVar(&f.addr, "broker-addr", "127.0.0.1:0", "embedded broker listen address")
	fs.BoolVar(&f.fresh, "fresh", true, "delete the engine's topics before starting")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	for _, h := range runFlagHooks {
		h(fs)
	}
	return cmd
}

func runRun(cmd *cobra.Command, f *runFlags, name string) error {
	if forkRequested(cmd) {
		return runFork(cmd, f, name)
	}
	var hooks []func(*scenario.Scenario) error
	for _, h := range runScenarioHooks {
		hooks = append(hooks, func(s *scenario.Scenario) error { return h(cmd, s) })
	}
	sc, src, err := f.sf.resolve(cmd, name, hooks...)
	if err != nil {
		return err
	}
	s := sc.Scenario
	table, pol, err := loadPolicy(s.Policy)
	if err != nil {
		return err
	}
	bus, err := f.bus.config()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := run.Options{
		Scenario: sc, Policy: table, PolicyName: pol.Name, Bus: bus, DataDir: f.data, BrokerAddr: f.addr,
		Topics: f.bus.topics(), Partitions: s.Partitions, Fresh: f.fresh,
		Identity: runIdentity(src.Data, sc, pol.Name),
	}
	if os.Getenv("WALLETSIM_DEBUG") != "" {
		opts.Logf = func(format string, a ...any) { fmt.Fprintf(os.Stderr, "debug: "+format+"\n", a...) }
	}
	if !f.quiet {
		opts.Progress, opts.Terminal = os.Stderr, isTerminal(os.Stderr)
	}
	for _, h := range runOptionHooks {
		if err := h(cmd, &opts); err != nil {
			return err
		}
	}
	res, err := run.Run(ctx, opts)
	if err != nil {
		return identityUsage(err)
	}
	sum := res.Summary
	sum.Manifest = collectManifest(src.Path, src.Data, sum.Seed, sum.Policy, sum.Engine.Broker)
	sum.WriteTable(cmd.OutOrStdout())
	if f.out != "" {
		p, err := sum.WriteJSON(f.out)
		if err != nil {
			return err
		}
		fmt.Fprintln(cmd.OutOrStdout(), "wrote", p)
	}
	for _, h := range runResultHooks {
		if err := h(cmd, f.out, res); err != nil {
			return err
		}
	}
	if !sum.Invariants.OK() {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("invariants violated: see the table above")}
	}
	return nil
}
