package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/loadtest"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/api"
	"github.com/walletsim/walletsim/sim/metrics"
)

type attackFlags struct {
	api         apiFlags
	cfg         loadtest.Config       // --target, --out, --timeout, --max-workers
	plan        loadtest.Plan         // --duration, --profile, --spike-factor, --abort-on
	search      loadtest.SearchConfig // --max-p99, --step, --max-rate, --retries
	rate        string
	share       float64
	shard       string
	minSuccess  float64
	noop        bool
	quiet       bool
	findMax     bool
	metricsAddr string
	template    string
}

func newAttackCmd() *cobra.Command {
	f := &attackFlags{}
	cmd := &cobra.Command{
		Use:   "attack SCENARIO",
		Short: "Load-test the payment API with vegeta, from a scenario's seeded traffic",
		Long: `Attack drives the payment API with vegeta's library. Requests are the
scenario's generated payments (plus --invalid-share of deliberately invalid
ones), paced by --profile or the scenario's attack.profile. Without
--target it starts serve in-process on an embedded broker, and audits the
log afterwards (money conserved, every accepted payment resolved).

It writes DIR/results.bin (vegeta's encoding: vegeta report, plot and
merge read it), DIR/attack.json, DIR/attack.html and prints a report.
With --shard i/n, n processes split one scenario's requests and rate;
walletsim report DIR1 DIR2 ... merges them.

A valid request succeeds when it is settled (200), accepted (202) or
declined by a business rule (402/403/422 with a decline code); an invalid
one when refused with its own status and code. Exit 0: success ratios at
least --min-success (and invariants held in-process); 1: below, or broken
invariants; 2: bad arguments.

--template FILE maps each payment to the target's requests and answers to
outcomes (docs/templates.md), so any payment API can be attacked; with its
balance: section the attack reads every touched account before and after
and exits 1 when money is unexplained. --abort-on (and the scenario's
attack.abort_on) stop the attack early when a threshold holds, naming it
(exit 1).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runAttack(cmd, f, args[0]) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.cfg.Target, "target", "", "base URL of a running API (default: serve in-process on an embedded broker)")
	fs.StringVar(&f.rate, "rate", "", "base request rate, e.g. 2000/s, 500/100ms (default: the scenario's attack.rate, else 1000/s)")
	fs.DurationVar(&f.plan.Duration, "duration", 0, "attack length (default: the scenario's attack.duration, else 10s)")
	fs.StringVar(&f.plan.Profile, "profile", "", "traffic shape: "+strings.Join(loadtest.Profiles, ", ")+" (default: the scenario's attack.profile, else constant)")
	fs.Float64Var(&f.plan.Spike, "spike-factor", 4, "rate multiplier in the middle fifth of a spike profile")
	fs.Float64Var(&f.share, "invalid-share", 0, "share of deliberately invalid requests, 0-1 (default: the scenario's attack.invalid_share)")
	fs.StringVar(&f.cfg.Out, "out", "walletsim-attack", "directory for results.bin, attack.json and attack.html")
	fs.StringVar(&f.shard, "shard", "0/1", "this process's part i/n of a distributed attack")
	fs.Float64Var(&f.minSuccess, "min-success", 0.99, "lowest success ratio (valid requests, and all) that exits 0")
	fs.DurationVar(&f.cfg.Timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.Uint64Var(&f.cfg.MaxWorkers, "max-workers", 1000, "most requests in flight at once (each is a connection: in-process, two file descriptors)")
	fs.BoolVar(&f.noop, "noop", false, "attack an in-process no-op handler instead of the API (the baseline for docs/PERFORMANCE.md)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	fs.BoolVar(&f.findMax, "find-max", false, "search the highest rate the API and an in-process no-op handler each sustain, alternating them at every rate from --rate up (times --step), --duration per step; writes DIR/search.json")
	fs.DurationVar(&f.search.MaxP99, "max-p99", 25*time.Millisecond, "with --find-max: the p99 latency a sustained rate stays under")
	fs.Float64Var(&f.search.Factor, "step", 1.25, "with --find-max: rate factor between steps")
	fs.Float64Var(&f.search.Limit, "max-rate", 200_000, "with --find-max: highest rate tried")
	fs.IntVar(&f.search.Retries, "retries", 2, "with --find-max: tries of a failed rate before a target stops")
	fs.StringVar(&f.api.cfg.Token, "token", "", "bearer token for --target (default: $WALLETSIM_TOKEN)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics (results by status code, client latency) at http://ADDR/metrics (host:port; port 0 picks one)")
	f.api.register(fs, false)
	fs.StringVar(&f.template, "template", "", "YAML template mapping payments to the target's requests and answers to outcomes (docs/templates.md); a file, a shipped name (walletsim.yaml, walletsim-async.yaml) or builtin (default: walletsim.yaml)")
	fs.StringArrayVar(&f.plan.AbortOn, "abort-on", nil, "stop early when a threshold holds, e.g. 'p99 > 50ms over 10s', 'errors > 5% over 30s', 'unexplained > 0' (repeatable; added to the scenario's attack.abort_on)")
	return cmd
}

func runAttack(cmd *cobra.Command, f *attackFlags, name string) error {
	fs := cmd.Flags()
	sc, _, err := scenarios.LoadScenario(name)
	if err != nil {
		return cli.Usage(err)
	}
	plan := f.plan
	if fs.Changed("rate") {
		plan.Rate = f.rate
		if plan.Rate == "" {
			plan.Rate = "1000/s"
		}
	}
	if fs.Changed("invalid-share") {
		plan.InvalidShare = &f.share
	}
	if fs.Changed("duration") && plan.Duration == 0 {
		return cli.Usagef("--duration 0s: want more than 0 and at most 24h")
	}
	pl, err := plan.Resolve(&sc.Attack)
	if err != nil {
		return cli.Usagef("%s: %v", name, err)
	}
	opts := f.cfg
	opts.Scenario, opts.Shape, opts.InvalidShare, opts.AbortOn = sc, pl.Shape, pl.InvalidShare, pl.AbortOn
	if opts.Shard, opts.Shards, err = loadtest.ParseShard(f.shard); err != nil {
		return cli.Usage(err)
	}
	if f.template != "" {
		if opts.Template, err = loadtest.LoadTemplate(f.template); err != nil {
			return cli.Usage(err)
		}
	}
	if f.minSuccess < 0 || f.minSuccess > 1 {
		return cli.Usagef("--min-success %v: want 0-1", f.minSuccess)
	}
	if f.api.cfg.Token == "" {
		f.api.cfg.Token = os.Getenv("WALLETSIM_TOKEN")
	}
	opts.Token = f.api.cfg.Token
	if err := opts.Validate(); err != nil {
		return cli.Usage(err)
	}
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	api.LessGC() // the attacker's garbage too

	// The attacked server: a running one, the API in-process, or no-op.
	target := opts.Target
	var srv *api.HTTPServer
	if target == "" && f.noop {
		url, stopNoop, err := loadtest.ServeNoop()
		if err != nil {
			return err
		}
		defer stopNoop()
		target = url
	} else if target == "" {
		cfg, err := f.api.config(name)
		if err != nil {
			return err
		}
		var progress io.Writer
		if !f.quiet {
			progress = cmd.ErrOrStderr()
		}
		sc = cfg.Scenario
		if srv, target, err = api.Local(ctx, cfg, progress); err != nil {
			return err
		}
		defer func() {
			if srv != nil {
				srv.Close()
			}
		}()
	} else if f.noop {
		return cli.Usagef("--noop and --target exclude each other")
	} else if fs.Changed("scale") && f.api.scale != 1 {
		// The requests must name the target's wallets: same scenario, same scale.
		s := *sc.Scenario
		if err := api.ScalePopulation(&s, f.api.scale); err != nil {
			return cli.Usagef("--scale: %v", err)
		}
		if sc, err = scenarios.Recompile(scenarios.File{Name: name}, &s); err != nil {
			return cli.Usage(err)
		}
	}
	opts.Scenario, opts.Target = sc, target
	m, msrv, err := serveMetrics(ctx, f.metricsAddr, metrics.RoleAttack, sc.Policy, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer msrv.Close()
	if m != nil {
		opts.OnResult = m.ObserveHTTP
	}
	if f.findMax {
		return findMax(ctx, cmd, f, opts, pl.Rate, srv)
	}
	if !f.quiet {
		opts.Progress = cmd.ErrOrStderr()
		fmt.Fprintf(cmd.ErrOrStderr(), "attack: %s, %s profile, %.0f/s for %s (shard %d/%d) -> %s\n", target, pl.Shape.Name, pl.Rate, pl.Shape.Duration, opts.Shard, opts.Shards, opts.Out)
	}
	rep, err := loadtest.Attack(ctx, opts)
	if err != nil {
		return err
	}
	if srv != nil {
		fin, err := srv.Close()
		srv = nil
		if err != nil {
			return fmt.Errorf("after the attack: %w", err)
		}
		rep.Invariants = loadtest.InvariantsOf(&fin.Audit, fin.Accepted)
	}
	if f.noop {
		rep.Target += " (no-op handler)"
	}
	rep.WriteText(out)
	if err := rep.WriteFiles(out, opts.Out); err != nil {
		return err
	}
	if err := rep.Verdict(f.minSuccess); err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	return nil
}

// findMax runs the rate search of docs/PERFORMANCE.md: the API and a no-op
// handler under the same attacker, alternating at every rate.
func findMax(ctx context.Context, cmd *cobra.Command, f *attackFlags, opts loadtest.Config, rate float64, srv *api.HTTPServer) error {
	c := f.search
	if c.Factor <= 1 || c.MaxP99 <= 0 {
		return cli.Usagef("--find-max: want --step above 1 and a positive --max-p99")
	}
	name := "api"
	if f.api.cfg.Async {
		name = "api (async)"
	}
	c.Attack, c.Start, c.StepDuration, c.Log = opts, rate, opts.Shape.Duration, cmd.OutOrStdout()
	res, err := loadtest.SearchWithNoop(ctx, c, name, opts.Target)
	if err != nil {
		return err
	}
	if srv != nil {
		fin, err := srv.Close()
		if err != nil {
			return fmt.Errorf("after the search: %w", err)
		}
		fin.WriteText(cmd.OutOrStdout())
		if !fin.Audit.OK() {
			return &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("invariants violated after the search")}
		}
	}
	res.WriteSummary(cmd.OutOrStdout(), name)
	return res.WriteJSON(opts.Out)
}
