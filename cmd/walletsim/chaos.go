package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/run/chaos"
	"github.com/walletsim/walletsim/sim/scenario"
)

type chaosFlags struct {
	cfg        chaos.Config
	payments   int64
	seed       int64
	policy     string
	partitions int
	quiet      bool
}

func newChaosCmd() *cobra.Command {
	f := &chaosFlags{}
	cmd := &cobra.Command{
		Use:   "chaos SCENARIO --kills N",
		Short: "Run a scenario in a child process, SIGKILL it N times, and prove nothing was lost or doubled",
		Long: `Chaos starts an embedded broker, runs the scenario once without faults as a
reference, then runs it again as a separate 'walletsim run' process that it
SIGKILLs N times at seeded random points (a random share of the reference's
wall time after each start, so kills land in recovery, in processing and in
the final audit), restarting it after each kill until it finishes. It then audits the log
(as 'verify' does) and compares the events digest with the reference's.
Exit 0: every command has exactly one outcome, money is conserved, every
invariant holds and the digests are equal; 1: any of that failed; 2: bad
arguments.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runChaos(cmd, f, args[0]) },
	}
	fs := cmd.Flags()
	fs.IntVar(&f.cfg.Kills, "kills", 5, "SIGKILLs to deliver during the run")
	fs.Int64Var(&f.payments, "payments", 0, "number of payments (overrides the scenario)")
	fs.Int64Var(&f.seed, "seed", 0, "random seed of the scenario (overrides the scenario)")
	fs.Int64Var(&f.cfg.KillSeed, "kill-seed", 0, "seed of the kill points (default: the scenario seed)")
	fs.StringVar(&f.policy, "policy", "", "interoperability policy (overrides the scenario)")
	fs.IntVar(&f.partitions, "partitions", 0, "partitions per topic (overrides the scenario)")
	fs.StringVar(&f.cfg.Out, "out", "", "directory for summary.json and the child processes' logs")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	fs.IntVar(&f.cfg.Resets, "resets", 0, "connection resets between the run and the broker, spread over the reference's wall time (a TCP proxy resets every open connection)")
	fs.IntVar(&f.cfg.LostResponses, "lost-responses", 0, "produce responses the proxy drops after the broker appended (the client resends: records land twice)")
	return cmd
}

func runChaos(cmd *cobra.Command, f *chaosFlags, name string) error {
	// Check the input here, so a typo exits 2 before anything starts; the
	// child processes load the same files the same way.
	sc, _, err := scenarios.LoadScenario(name)
	if err != nil {
		return cli.Usage(err)
	}
	if sc.Faults != (scenario.Faults{}) {
		return cli.Usagef("%s: chaos kills the engine, it does not inject broker faults: run a scenario with a faults key with `walletsim run`", name)
	}
	fl := cmd.Flags()
	if fl.Changed("payments") && f.payments <= 0 {
		return cli.Usagef("--payments: must be positive, got %d", f.payments)
	}
	if fl.Changed("partitions") && (f.partitions < 1 || f.partitions > 1024) {
		return cli.Usagef("--partitions: want 1-1024, got %d", f.partitions)
	}
	if p := f.policy; p != "" || sc.Policy != "" {
		if p == "" {
			p = sc.Policy
		}
		if _, _, _, err := scenarios.LoadPolicy(p); err != nil {
			return cli.Usage(err)
		}
	}
	if !fl.Changed("kill-seed") {
		f.cfg.KillSeed = sc.Seed
		if fl.Changed("seed") {
			f.cfg.KillSeed = f.seed
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("chaos: find own binary: %w", err)
	}
	cfg := f.cfg
	cfg.Child = func(brokers, prefix, outDir string, fresh bool) *exec.Cmd {
		a := []string{"run", name, "--brokers", brokers, "--topic-prefix", prefix, "--out", outDir, "--quiet", "--fresh=" + strconv.FormatBool(fresh)}
		if fl.Changed("payments") {
			a = append(a, "--payments", strconv.FormatInt(f.payments, 10))
		}
		if fl.Changed("seed") {
			a = append(a, "--seed", strconv.FormatInt(f.seed, 10))
		}
		if f.policy != "" {
			a = append(a, "--policy", f.policy)
		}
		if fl.Changed("partitions") {
			a = append(a, "--partitions", strconv.Itoa(f.partitions))
		}
		return exec.Command(self, a...)
	}
	if err := cfg.Validate(); err != nil {
		return cli.Usagef("--%v", err)
	}
	cfg.Progress = io.Discard
	if !f.quiet {
		cfg.Progress = cmd.ErrOrStderr()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := chaos.Run(ctx, cfg)
	if err != nil {
		return err
	}
	res.WriteText(cmd.OutOrStdout())
	if err := res.Err(); err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	fmt.Fprintln(cmd.OutOrStdout(), "chaos: OK")
	return nil
}
