package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/internal/manifest"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/metrics"
	"github.com/walletsim/walletsim/sim/run"
)

// run --metrics-addr serves Prometheus metrics while the run lasts, and
// --metrics-hold keeps serving the final values afterwards so a scraper
// (or the dashboards test) sees the finished run, not a vanished target.

var runMetrics struct {
	addr string
	hold time.Duration
	m    *metrics.Metrics
	srv  *metrics.Server
}

func init() {
	registerRunFlags(func(fs *pflag.FlagSet) {
		fs.StringVar(&runMetrics.addr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics during the run (host:port; port 0 picks one)")
		fs.DurationVar(&runMetrics.hold, "metrics-hold", 0, "after the run, keep serving the final metrics this long (Ctrl-C ends it early)")
	})
	runOptionHooks = append(runOptionHooks, runMetricsOptions)
	runResultHooks = append(runResultHooks, runMetricsResult)
}

func runMetricsOptions(cmd *cobra.Command, o *run.Options) error {
	runMetrics.m, runMetrics.srv = nil, nil // a previous Execute in the same process (tests)
	if runMetrics.addr == "" {
		if cmd.Flags().Changed("metrics-hold") {
			return cli.Usagef("--metrics-hold needs --metrics-addr")
		}
		return nil
	}
	if runMetrics.hold < 0 {
		return cli.Usagef("--metrics-hold: must not be negative, got %s", runMetrics.hold)
	}
	reg := metrics.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{Role: metrics.RoleRun, Policy: o.PolicyName, Version: manifest.Version})
	if err != nil {
		return err
	}
	// The server outlives the command's signal context on purpose: it
	// closes in the result hook, after --metrics-hold.
	srv, err := metrics.Serve(context.Background(), runMetrics.addr, reg)
	if err != nil {
		return cli.Usage(fmt.Errorf("--metrics-addr: %w", err))
	}
	runMetrics.m, runMetrics.srv = m, srv
	fmt.Fprintf(cmd.ErrOrStderr(), "metrics: serving %s\n", srv.URL())

	prevEngine, prevEvent := o.OnEngine, o.OnEvent
	o.OnEngine = func(e *engine.Engine) {
		if prevEngine != nil {
			prevEngine(e)
		}
		m.ObserveEngine(e)
		// o points at run's options, final by the time the run starts.
		if o.ExternalWorkers {
			m.SetPartitionsOwned(0)
		} else {
			m.SetPartitionsOwned(e.Partitions())
		}
	}
	o.OnEvent = func(ev *event.Event) {
		if prevEvent != nil {
			prevEvent(ev)
		}
		m.Observe(ev)
	}
	return nil
}

func runMetricsResult(cmd *cobra.Command, _ string, res *run.Result) error {
	if runMetrics.m == nil {
		return nil
	}
	runMetrics.m.ObserveSummary(res.Summary)
	defer runMetrics.srv.Close()
	if runMetrics.hold > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "metrics: run finished; serving final values at %s for %s (Ctrl-C ends)\n", runMetrics.srv.URL(), runMetrics.hold)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		select {
		case <-ctx.Done():
		case <-time.After(runMetrics.hold):
		}
	}
	return nil
}
