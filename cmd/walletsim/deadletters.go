package main

import (
	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/sim/bus/deadletter"
)

// deadletters prints the dead-letter topic through package deadletter
// (watermill's Router over our kafka-go subscriber).
func newDeadLettersCmd() *cobra.Command {
	var bf busFlags
	var follow bool
	cmd := &cobra.Command{
		Use:   "deadletters --brokers HOST:PORT",
		Short: "Print the records the engine dead-lettered, with their reasons, as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bc, err := bf.external(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return deadletter.Print(ctx, deadletter.Config{Bus: bc, Topic: bf.topics().DeadLetters, Follow: follow, Out: cmd.OutOrStdout()})
		},
	}
	bf.registerExternal(cmd.Flags())
	cmd.Flags().BoolVar(&follow, "follow", false, "keep printing new dead letters until interrupted")
	return cmd
}
