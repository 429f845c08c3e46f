// Command walletsim is an event-sourced wallet simulator and load tester for
// the mobile-wallet world of mainland China, Hong Kong and the Greater Bay
// Area. Each subcommand lives in its own file; newRootCmd assembles them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/run"
)

// newRootCmd builds the whole command tree, fresh each call, so tests
// build their own and nothing is left over from an earlier Execute.
func newRootCmd() (*cobra.Command, *cli.Profiles) {
	root := &cobra.Command{
		Use:           "walletsim",
		Short:         "Event-sourced wallet simulator and load tester on Kafka",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Flag parse errors are the caller's mistake: exit 2, not 1.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.Usage(err) })
	prof := cli.AddProfiles(root)
	root.AddCommand(
		newAttackCmd(), newBenchCmd(), newBrokerCmd(), newCalibrateCmd(), newChaosCmd(), newCompareCmd(),
		newDeadLettersCmd(), newDiffCmd(), newEventsCmd(), newGateCmd(run.Once), newImportCmd(), newReplayCmd(),
		newReportCmd(), newRunCmd(), newServeCmd(), newVerifyCmd(), newWorkerCmd(),
	)
	return root, prof
}

func main() {
	root, prof := newRootCmd()
	// Every command stops cleanly on SIGINT or SIGTERM through its
	// cmd.Context(); a second signal kills as usual.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := root.ExecuteContext(ctx)
	stop()
	prof.Stop()
	os.Exit(cli.Exit(os.Stderr, "walletsim", err))
}
