package main

import (
	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/sim/engine"
)

func newEventsCmd() *cobra.Command {
	events := &cobra.Command{Use: "events", Short: "Inspect the event log"}
	events.AddCommand(newEventsTailCmd())
	return events
}

func newEventsTailCmd() *cobra.Command {
	var bf busFlags
	var limit int64
	var wallet uint64
	cmd := &cobra.Command{
		Use:   "tail --brokers HOST:PORT",
		Short: "Print events as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bc, err := bf.external(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return engine.Tail(ctx, engine.TailConfig{Bus: bc, Topic: bf.topics().Events, Limit: limit, Wallet: wallet, Out: cmd.OutOrStdout()})
		},
	}
	bf.registerExternal(cmd.Flags())
	cmd.Flags().Int64Var(&limit, "limit", 0, "stop after N events (0: all)")
	cmd.Flags().Uint64Var(&wallet, "wallet", 0, "only this wallet's events")
	return cmd
}
