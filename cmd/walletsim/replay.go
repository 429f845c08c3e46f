package main

import (
	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/engine/replay"
)

func newReplayCmd() *cobra.Command {
	var bf busFlags
	var snapDir, expect, expectState string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "replay --brokers HOST:PORT",
		Short: "Rebuild every wallet from the event log at full speed",
		Long: `Replay reads the events topic with batched fetches, all partitions in
parallel, and applies every event with the ledger's own Apply, which checks
sequence numbers and each event's claimed balance. It prints events/s, the
log digest (as 'verify' computes it) and a digest of the final state (as
'run' records it in summary.json events.state_digest). With --snapshot-dir
it starts from the snapshots there and writes new ones at the end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			bus, err := bf.existingLog(cmd)
			if err != nil {
				return err
			}
			res, err := replay.Rebuild(ctx, replay.Options{Bus: bus, Topics: bf.topics(), SnapshotDir: snapDir})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			printReport(out, asJSON, res, res.WriteText)
			if err := res.Check(expect, expectState); err != nil {
				return &cli.ExitError{Code: cli.ExitFailure, Err: err}
			}
			return nil
		},
	}
	bf.registerExternal(cmd.Flags())
	cmd.Flags().StringVar(&snapDir, "snapshot-dir", "", "resume from and write per-partition snapshots in this directory")
	cmd.Flags().StringVar(&expect, "expect-digest", "", "fail unless the log digest equals this (summary.json events.digest)")
	cmd.Flags().StringVar(&expectState, "expect-state", "", "fail unless the state digest equals this (summary.json events.state_digest)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
