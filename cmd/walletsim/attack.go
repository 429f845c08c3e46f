package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/loadtest"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/api"
	"github.com/walletsim/walletsim/sim/metrics"
)

func init() { rootCmd.AddCommand(newAttackCmd()) }

type attackFlags struct {
	api          apiFlags
	target       string
	rate         string
	duration     time.Duration
	profile      string
	spike        float64
	invalidShare float64
	out          string
	shard        string
	minSuccess   float64
	timeout      time.Duration
	maxWorkers   uint64
	noop         bool
	quiet        bool
	findMax      bool
	maxP99       time.Duration
	step         float64
	maxRate      float64
	metricsAddr  string
	retries      int
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
invariants; 2: bad arguments.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runAttack(cmd, f, args[0]) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.target, "target", "", "base URL of a running API (default: serve in-process on an embedded broker)")
	fs.StringVar(&f.rate, "rate", "", "base request rate, e.g. 2000/s, 500/100ms (default: the scenario's attack.rate, else 1000/s)")
	fs.DurationVar(&f.duration, "duration", 0, "attack length (default: the scenario's attack.duration, else 10s)")
	fs.StringVar(&f.profile, "profile", "", "traffic shape: "+strings.Join(loadtest.Profiles, ", ")+" (default: the scenario's attack.profile, else constant)")
	fs.Float64Var(&f.spike, "spike-factor", 4, "rate multiplier in the middle fifth of a spike profile")
	fs.Float64Var(&f.invalidShare, "invalid-share", 0, "share of deliberately invalid requests, 0-1 (default: the scenario's attack.invalid_share)")
	fs.StringVar(&f.out, "out", "walletsim-attack", "directory for results.bin, attack.json and attack.html")
	fs.StringVar(&f.shard, "shard", "0/1", "this process's part i/n of a distributed attack")
	fs.Float64Var(&f.minSuccess, "min-success", 0.99, "lowest success ratio (valid requests, and all) that exits 0")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.Uint64Var(&f.maxWorkers, "max-workers", 1000, "most requests in flight at once (each is a connection: in-process, two file descriptors)")
	fs.BoolVar(&f.noop, "noop", false, "attack an in-process no-op handler instead of the API (the baseline for docs/PERFORMANCE.md)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	fs.BoolVar(&f.findMax, "find-max", false, "search the highest rate the API and an in-process no-op handler each sustain, alternating them at every rate from --rate up (times --step), --duration per step; writes DIR/search.json")
	fs.DurationVar(&f.maxP99, "max-p99", 25*time.Millisecond, "with --find-max: the p99 latency a sustained rate stays under")
	fs.Float64Var(&f.step, "step", 1.25, "with --find-max: rate factor between steps")
	fs.Float64Var(&f.maxRate, "max-rate", 200_000, "with --find-max: highest rate tried")
	fs.IntVar(&f.retries, "retries", 2, "with --find-max: tries of a failed rate before a target stops")
	fs.StringVar(&f.api.token, "token", "", "bearer token for --target (default: $WALLETSIM_TOKEN)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve Prometheus metrics (results by status code, client latency) at http://ADDR/metrics (host:port; port 0 picks one)")
	f.api.register(fs, false)
	return cmd
}

// parseRate reads vegeta-style rates: "2000/s", "500/100ms", "120/m" or
// a bare number per second.
func parseRate(s string) (float64, error) {
	num, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || !(n > 0) || n > 1e7 {
		return 0, fmt.Errorf("rate %q: want a positive number of requests, e.g. 2000/s", s)
	}
	if !ok {
		return n, nil
	}
	switch per {
	case "s":
		per = "1s"
	case "m":
		per = "1m"
	case "ms":
		per = "1ms"
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("rate %q: %q is not a time unit", s, per)
	}
	return n / d.Seconds(), nil
}

func parseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n || n > 1024 {
		return 0, 0, fmt.Errorf("shard %q: want i/n with 0 <= i < n <= 1024", s)
	}
	return i, n, nil
}

func runAttack(cmd *cobra.Command, f *attackFlags, name string) error {
	fs := cmd.Flags()
	sc, _, err := scenarios.LoadScenario(name)
	if err != nil {
		return cli.Usage(err)
	}
	at := sc.Attack
	if err := at.Validate(); err != nil {
		return cli.Usagef("%s: %v", name, err)
	}
	rate := at.Rate
	if fs.Changed("rate") || rate == 0 {
		if f.rate == "" {
			f.rate = "1000/s"
		}
		if rate, err = parseRate(f.rate); err != nil {
			return cli.Usagef("--rate: %v", err)
		}
	}
	du := f.duration
	if !fs.Changed("duration") {
		du = 10 * time.Second
		if at.Duration != "" {
			du, _ = time.ParseDuration(at.Duration)
		}
	}
	if du <= 0 || du > 24*time.Hour {
		return cli.Usagef("--duration %s: want more than 0 and at most 24h", du)
	}
	share := at.InvalidShare
	if fs.Changed("invalid-share") {
		share = f.invalidShare
	}
	if !(share >= 0 && share <= 1) {
		return cli.Usagef("--invalid-share %v: want 0-1", share)
	}
	shard, shards, err := parseShard(f.shard)
	if err != nil {
		return cli.Usage(err)
	}
	var shape *loadtest.Shape
	if f.profile == "" && len(at.Profile) > 0 {
		shape, err = loadtest.ScenarioShape(&at, rate, du)
	} else {
		shape, err = loadtest.ProfileShape(f.profile, rate, du, f.spike)
	}
	if err != nil {
		return cli.Usagef("--profile: %v", err)
	}
	if f.minSuccess < 0 || f.minSuccess > 1 {
		return cli.Usagef("--min-success %v: want 0-1", f.minSuccess)
	}
	if f.api.token == "" {
		f.api.token = os.Getenv("WALLETSIM_TOKEN")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := cmd.OutOrStdout()
	lessGC() // the attacker's garbage too

	// The attacked server: a running one, the API in-process, or no-op.
	target := f.target
	var srv *api.Server
	var hs *http.Server
	if target == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		target = "http://" + ln.Addr().String()
		if f.noop {
			hs = &http.Server{Handler: loadtest.NoopHandler(), ReadHeaderTimeout: 5 * time.Second}
			go hs.Serve(ln)
			defer hs.Close()
		} else {
			cfg, err := f.api.config(name)
			if err != nil {
				ln.Close()
				return err
			}
			cfg.Token = "" // in-process: nobody else can reach it
			sc = cfg.Scenario
			if srv, hs, err = startAPI(ctx, cfg, ln); err != nil {
				return err
			}
			defer func() {
				if srv != nil {
					hs.Close()
					srv.Close(context.Background())
				}
			}()
			if !f.quiet {
				fmt.Fprintf(cmd.ErrOrStderr(), "attack: serving %s in-process at %s (%d wallets); opening wallets\n", sc.Name, target, srv.Wallets())
			}
			select {
			case <-srv.Ready():
			case <-srv.Done():
				return fmt.Errorf("in-process server stopped: %v", srv.Err())
			case <-ctx.Done():
				return ctx.Err()
			}
		}
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
	opts := loadtest.Options{
		Scenario: sc, Target: target, Token: f.api.token, Shape: shape, InvalidShare: share,
		Shard: shard, Shards: shards, Out: f.out, Timeout: f.timeout, MaxWorkers: f.maxWorkers,
	}
	m, stopMetrics, err := serveMetrics(ctx, f.metricsAddr, metrics.RoleAttack, sc.Policy, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer stopMetrics()
	if m != nil {
		opts.OnResult = m.ObserveHTTP
	}
	if f.findMax {
		return findMax(ctx, cmd, f, opts, rate, srv, hs)
	}
	if !f.quiet {
		opts.Progress = cmd.ErrOrStderr()
		fmt.Fprintf(cmd.ErrOrStderr(), "attack: %s, %s profile, %.0f/s for %s (shard %d/%d) -> %s\n", target, shape.Name, rate, du, shard, shards, f.out)
	}
	rep, err := loadtest.Attack(ctx, opts)
	if err != nil {
		return err
	}
	if srv != nil {
		fin, err := stopAPI(srv, hs)
		srv = nil
		if err != nil {
			return fmt.Errorf("after the attack: %w", err)
		}
		a := fin.Audit
		rep.Invariants = &loadtest.Invariants{
			OK: a.OK(), Violations: a.Violations(), Accepted: fin.Accepted, MoneyConserved: a.MoneyConserved, NegativeBalances: a.NegativeBalances,
			DuplicateEvents: a.DuplicateEvents, UnresolvedCommands: a.UnresolvedCommands, DuplicateOutcomes: a.DuplicateOutcomes,
			Settled: a.Succeeded, Declined: a.Declined,
		}
	}
	if f.noop {
		rep.Target += " (no-op handler)"
	}
	rep.WriteText(out)
	if err := writeAttackFiles(out, rep, f.out); err != nil {
		return err
	}
	return attackVerdict(rep, f.minSuccess)
}

func writeAttackFiles(w interface{ Write([]byte) (int, error) }, rep *loadtest.Report, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	p, err := rep.WriteJSON(dir)
	if err != nil {
		return err
	}
	h, err := rep.WriteHTML(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s, %s\n", p, h)
	return nil
}

// attackVerdict is the exit status: the API answered as defined often
// enough, and (in-process) the log kept every invariant.
func attackVerdict(rep *loadtest.Report, minSuccess float64) error {
	var why []string
	if rep.Requests == 0 {
		why = append(why, "no request was sent")
	}
	if rep.Valid.Requests > 0 && rep.Valid.SuccessRatio < minSuccess {
		why = append(why, fmt.Sprintf("valid success ratio %.4f < %v", rep.Valid.SuccessRatio, minSuccess))
	}
	if rep.Requests > 0 && rep.SuccessRatio < minSuccess {
		why = append(why, fmt.Sprintf("success ratio %.4f < %v", rep.SuccessRatio, minSuccess))
	}
	if rep.Invariants != nil && !rep.Invariants.OK {
		why = append(why, "invariants violated")
	}
	if len(why) > 0 {
		return &cli.ExitError{Code: cli.ExitFailure, Err: errors.New(strings.Join(why, "; "))}
	}
	return nil
}

// findMax runs the rate search of docs/PERFORMANCE.md: the API and a no-op
// handler under the same attacker, alternating at every rate.
func findMax(ctx context.Context, cmd *cobra.Command, f *attackFlags, opts loadtest.Options, rate float64, srv *api.Server, hs *http.Server) error {
	if f.step <= 1 || f.maxP99 <= 0 {
		return cli.Usagef("--find-max: want --step above 1 and a positive --max-p99")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	noop := &http.Server{Handler: loadtest.NoopHandler(), ReadHeaderTimeout: 5 * time.Second}
	go noop.Serve(ln)
	defer noop.Close()
	name := "api"
	if f.api.async {
		name = "api (async)"
	}
	targets := []loadtest.SearchTarget{{Name: name, URL: opts.Target}, {Name: "no-op", URL: "http://" + ln.Addr().String()}}
	fmt.Fprintf(cmd.OutOrStdout(), "rate search: %s per step from %.0f/s, x%.2f, p99 under %s\n", opts.Shape.Duration, rate, f.step, f.maxP99)
	res, err := loadtest.Search(ctx, opts, targets, rate, f.step, f.maxRate, f.maxP99, f.retries, cmd.OutOrStdout())
	if err != nil {
		return err
	}
	if srv != nil {
		fin, err := stopAPI(srv, hs)
		if err != nil {
			return fmt.Errorf("after the search: %w", err)
		}
		writeAudit(cmd.OutOrStdout(), fin)
		if !fin.Audit.OK() {
			return &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("invariants violated after the search")}
		}
	}
	best, base := res.Best[name], res.Best["no-op"]
	ratio := 0.0
	if base > 0 {
		ratio = best / base
	}
	fmt.Fprintf(cmd.OutOrStdout(), "highest sustained: %s %.0f/s, no-op %.0f/s (%.0f%%)\n", name, best, base, 100*ratio)
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	return os.WriteFile(filepath.Join(f.out, "search.json"), append(b, '\n'), 0o644)
}
