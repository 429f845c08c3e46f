package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/run/chaos"
	"github.com/walletsim/walletsim/sim/scenario"
)

type chaosFlags struct {
	cfg   chaos.Config
	sf    scenarioFlags
	quiet bool
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
	f.sf.addPayments(fs, 0, "number of payments (overrides the scenario)")
	f.sf.addSeed(fs)
	fs.Int64Var(&f.cfg.KillSeed, "kill-seed", 0, "seed of the kill points (default: the scenario seed)")
	f.sf.addPolicy(fs)
	f.sf.addPartitions(fs)
	fs.StringVar(&f.cfg.Out, "out", "", "directory for summary.json and the child processes' logs")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	fs.IntVar(&f.cfg.Resets, "resets", 0, "connection resets between the run and the broker, spread over the reference's wall time (a TCP proxy resets every open connection)")
	fs.IntVar(&f.cfg.LostResponses, "lost-responses", 0, "produce responses the proxy drops after the broker appended (the client resends: records land twice)")
	return cmd
}

func runChaos(cmd *cobra.Command, f *chaosFlags, name string) error {
	// The child runs with these overrides: check them as it will, here.
	sc, _, err := f.sf.resolve(cmd, name)
	if err != nil {
		return err
	}
	if sc.Faults != (scenario.Faults{}) {
		return cli.Usagef("%s: chaos kills the engine, it does not inject broker faults: run a scenario with a faults key with `walletsim run`", name)
	}
	if _, _, err := loadPolicy(sc.Scenario.Policy); err != nil {
		return err
	}
	if !cmd.Flags().Changed("kill-seed") {
		f.cfg.KillSeed = sc.Seed
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("chaos: find own binary: %w", err)
	}
	cfg := f.cfg
	cfg.Child = chaos.WalletsimChild(self, name, f.sf.args(cmd)...)
	if err := cfg.Validate(); err != nil {
		return cli.Usagef("--%v", err)
	}
	cfg.Progress = io.Discard
	if !f.quiet {
		cfg.Progress = cmd.ErrOrStderr()
	}
	ctx := cmd.Context()
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
