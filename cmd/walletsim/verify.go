package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/engine"
)

func newVerifyCmd() *cobra.Command {
	var bf busFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify --brokers HOST:PORT",
		Short: "Replay the events topic and check every invariant",
		Long: `Verify reads the commands and events topics from the start and checks
GUIDE.md's invariants: every event's legs balance, balances chain, no
negative balances, no duplicate or missing events, FX at the recorded rate,
nothing left in suspense, exactly one outcome per command. Exit 1 if any
fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			bus, err := bf.existingLog(cmd)
			if err != nil {
				return err
			}
			_, rep, err := engine.Verify(ctx, bus, bf.topics())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			printReport(out, asJSON, rep, rep.WriteText)
			if !rep.OK() {
				return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("verify: invariants violated: %s", strings.Join(rep.Violations(), ", "))}
			}
			fmt.Fprintln(out, "verify: OK")
			return nil
		},
	}
	bf.registerExternal(cmd.Flags())
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the full audit report as JSON")
	return cmd
}
