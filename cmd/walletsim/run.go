package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/internal/manifest"
	"github.com/walletsim/walletsim/sim/bus/netfault"
	"github.com/walletsim/walletsim/sim/metrics"
	"github.com/walletsim/walletsim/sim/report/calibration"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/scenario"
	"github.com/walletsim/walletsim/sim/trace"
)

type runFlags struct {
	bus   busFlags
	sf    scenarioFlags
	out   string
	data  string
	addr  string
	fresh bool
	quiet bool

	scale       string           // --scale: a preset (scenario.Scale)
	cal         calibration.Mode // --calibration
	coverage    bool             // --coverage: print the policy coverage table
	report      bool             // --report: DIR/report.html with --out
	trace, pace string           // --trace FILE replaces the generator
	workers     string           // --workers local|external
	metricsAddr string           // --metrics-addr
	metricsHold time.Duration    // --metrics-hold
	forkAt      string           // --fork-at TIME --from RUN: see run_fork.go
	forkFrom    string
}

func newRunCmd() *cobra.Command {
	f := &runFlags{cal: "summary"}
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
	var names []string
	for _, p := range scenario.Presets {
		names = append(names, fmt.Sprintf("%s (%d wallets, %d payments)", p.Name, p.Wallets, p.Payments))
	}
	fs.StringVar(&f.scale, "scale", "", "resize the scenario: "+strings.Join(names, ", "))
	fs.VarPF(&f.cal, "calibration", "", "check the generated traffic against calibrated targets: summary (one line and the off rows), table (every row) or off; DIR/calibration.json with --out").NoOptDefVal = "summary"
	fs.BoolVar(&f.coverage, "coverage", false, "print how often each policy rule and route fired, and the rules that never did")
	fs.BoolVar(&f.report, "report", true, "with --out, also write DIR/report.html (self-contained, charts over time)")
	fs.StringVar(&f.trace, "trace", "", "replay this trace file instead of generating the scenario's traffic")
	fs.StringVar(&f.pace, "pace", string(trace.PaceStep), "trace pacing: step (one epoch per step, e.g. a simulated hour) or fast (as fast as possible: full 1s epochs)")
	fs.StringVar(&f.workers, "workers", "local", "where the processors run: local (in this process) or external (`walletsim worker` processes; needs --brokers)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics during the run (host:port; port 0 picks one)")
	fs.DurationVar(&f.metricsHold, "metrics-hold", 0, "after the run, keep serving the final metrics this long (Ctrl-C ends it early)")
	fs.StringVar(&f.forkAt, "fork-at", "", "with --from RUN: continue RUN's traffic under --policy from simulated `TIME` (RFC 3339, or a duration from the scenario's start such as 12h)")
	fs.StringVar(&f.forkFrom, "from", "", "the finished run `DIR` to fork (its log must be reachable: its --data dir, --data, or --brokers)")
	return cmd
}

func runRun(cmd *cobra.Command, f *runFlags, name string) error {
	fl := cmd.Flags()
	if fl.Changed("fork-at") || fl.Changed("from") {
		return runFork(cmd, f, name)
	}
	sc, src, err := f.sf.resolve(cmd, name, scaleHook(cmd, f.scale, fl.Changed("scale")))
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
	ctx := cmd.Context()
	opts := run.Options{
		Scenario: sc, Policy: table, PolicyName: pol.Name, Bus: bus, DataDir: f.data, BrokerAddr: f.addr,
		Topics: f.bus.topics(), Partitions: s.Partitions, Fresh: f.fresh,
		Identity: run.IdentityOf(src.Data, sc, pol.Name),
		// A replayed trace has no scenario targets to meet.
		Calibrate: f.cal != "off" && !fl.Changed("trace"),
		Sample:    f.report && f.out != "",
	}
	if os.Getenv("WALLETSIM_DEBUG") != "" {
		opts.Logf = func(format string, a ...any) { fmt.Fprintf(os.Stderr, "debug: "+format+"\n", a...) }
	}
	if !f.quiet {
		opts.Progress, opts.Terminal = os.Stderr, isTerminal(os.Stderr)
	}
	// A scenario's faults: key injects broker faults into the embedded
	// broker and network faults through a proxy (package faults, netfault).
	if opts.Faults, opts.NetFaults, err = run.ScenarioFaults(sc, opts.Topics.Events); err != nil {
		return cli.Usage(err)
	}
	if opts.Faults.Enabled() && len(bus.Brokers) > 0 {
		return cli.Usagef("faults: the scenario's faults key drives the embedded broker; drop --brokers (a real cluster's faults are its own)")
	}
	opts.FaultLogf = func(format string, a ...any) { fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", a...) }
	var px *netfault.Proxy
	opts.OnProxy = func(p *netfault.Proxy) { px = p }
	m, srv, err := f.startMetrics(cmd, &opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := f.traceSource(cmd, &opts); err != nil {
		return err
	}
	if err := f.externalWorkers(cmd, &opts); err != nil {
		return err
	}
	res, err := run.Run(ctx, opts)
	if err != nil {
		return err
	}
	sum := res.Summary
	sum.Manifest = manifest.Collect(manifest.Options{ScenarioFile: src.Path, Scenario: src.Data, Seed: sum.Seed, Policy: sum.Policy, Broker: sum.Engine.Broker})
	err = res.Write(cmd.OutOrStdout(), run.Outputs{Dir: f.out, HTML: f.report, CalibrationTable: f.cal == "table", Coverage: f.coverage, Proxy: px})
	if err != nil {
		return err
	}
	if m != nil {
		m.ObserveSummary(sum)
		if f.metricsHold > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "metrics: run finished; serving final values at %s for %s (Ctrl-C ends)\n", srv.URL(), f.metricsHold)
			select {
			case <-ctx.Done():
			case <-time.After(f.metricsHold):
			}
		}
	}
	if !sum.Invariants.OK() {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("invariants violated: see the table above")}
	}
	return nil
}

// startMetrics is --metrics-addr: Prometheus metrics while the run lasts
// and, with --metrics-hold, the final values afterwards, so a scraper (or
// the dashboards test) sees the finished run, not a vanished target.
func (f *runFlags) startMetrics(cmd *cobra.Command, o *run.Options) (*metrics.Metrics, *metrics.Server, error) {
	switch {
	case f.metricsAddr == "" && cmd.Flags().Changed("metrics-hold"):
		return nil, nil, cli.Usagef("--metrics-hold needs --metrics-addr")
	case f.metricsHold < 0:
		return nil, nil, cli.Usagef("--metrics-hold: must not be negative, got %s", f.metricsHold)
	}
	// The server outlives the command's context on purpose: it closes
	// after --metrics-hold.
	m, srv, err := serveMetrics(context.Background(), f.metricsAddr, metrics.RoleRun, o.PolicyName, cmd.ErrOrStderr())
	if m != nil {
		o.Observer = m
	}
	return m, srv, err
}

// traceSource is --trace FILE: replay a trace (package trace; `walletsim
// import paysim` writes them) instead of the scenario's generator. The
// scenario still names the policy, partitions and seed (route latencies);
// the trace brings the wallets, merchants and payments. --pace step gives
// each step its own epoch of the trace's step length (an hour for PaySim);
// --pace fast packs payments into full one-second epochs.
func (f *runFlags) traceSource(cmd *cobra.Command, o *run.Options) error {
	fl := cmd.Flags()
	if !fl.Changed("trace") {
		if fl.Changed("pace") {
			return cli.Usagef("--pace needs --trace")
		}
		return nil
	}
	for _, name := range []string{"scale", "payments"} {
		if fl.Changed(name) {
			return cli.Usagef("--%s does not apply to --trace: the trace decides the wallets and payments", name)
		}
	}
	src, err := trace.OpenSource(f.trace, f.pace)
	if err != nil {
		return cli.Usage(err)
	}
	o.Source, o.Clock, o.Total = src, src.Clock(), src.Payments()
	return nil
}

// externalWorkers is --workers external: this process only produces the
// scenario's commands, waits for `walletsim worker` processes (any number,
// on any machines, in one consumer group) to checkpoint every partition
// done, then audits the log like any run.
func (f *runFlags) externalWorkers(cmd *cobra.Command, o *run.Options) error {
	switch f.workers {
	case "local", "":
		return nil
	case "external":
	default:
		return cli.Usagef("--workers: want local or external, got %q", f.workers)
	}
	if len(o.Bus.Brokers) == 0 {
		return cli.Usagef("--workers external needs --brokers host:port: workers in other processes cannot reach this process's embedded broker")
	}
	o.ExternalWorkers = true
	// The workers may already be reading these topics (they create them
	// when they start first). Deleting them under a consumer group would
	// pull the log from under running processors, so with external workers
	// a run keeps existing topics unless --fresh is given explicitly.
	if !cmd.Flags().Changed("fresh") {
		o.Fresh = false
	}
	if o.Progress != nil {
		fmt.Fprintln(o.Progress, "run: producing only; `walletsim worker` processes run the processors")
	}
	return nil
}
