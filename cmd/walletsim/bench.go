package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/internal/manifest"
	"github.com/walletsim/walletsim/loadtest/bench"
	"github.com/walletsim/walletsim/sim/run"
)

func newBenchCmd() *cobra.Command {
	var sf scenarioFlags
	var ceilingN int64
	var out, scenarioName, data, scale string
	var partitions int
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the engine against the raw kafka-go ceiling, in one run",
		Long: `Bench starts one embedded broker and measures, in this order and in one
process: raw kafka-go produce and consume of the same number of messages
(the ceiling), then a quickstart run of --payments payments (the
pipeline). It prints each figure with its ratio to the ceiling, peak RSS,
engine bytes per wallet and allocations per payment, and writes
DIR/bench.json for 'walletsim gate'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, src, err := sf.resolve(cmd, scenarioName, scaleHook(cmd, scale, cmd.Flags().Changed("scale")))
			if err != nil {
				return err
			}
			s := sc.Scenario
			table, pol, err := loadPolicy(s.Policy)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			res, err := bench.Run(ctx, bench.Options{
				Run:        run.Options{Scenario: sc, Policy: table, PolicyName: pol.Name},
				Partitions: partitions, CeilingMessages: ceilingN, DataDir: data, TempDataDir: cmd.Flags().Changed("scale"),
				Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "bench: "+f+"\n", a...) },
			})
			if err != nil {
				return err
			}
			res.Manifest = manifest.Collect(manifest.Options{ScenarioFile: src.Path, Scenario: src.Data, Seed: s.Seed, Policy: pol.Name, Broker: res.Broker})
			res.WriteTable(cmd.OutOrStdout())
			if out != "" {
				path, err := res.WriteJSON(out)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "wrote", path)
			}
			if err := res.Err(); err != nil {
				return &cli.ExitError{Code: cli.ExitFailure, Err: err}
			}
			return nil
		},
	}
	f := cmd.Flags()
	sf.addPayments(f, 1_000_000, "payments in the pipeline run")
	f.Int64Var(&ceilingN, "ceiling-messages", 0, "raw messages for the ceiling (default: --payments)")
	f.StringVar(&out, "out", "", "directory for bench.json")
	f.StringVar(&scenarioName, "scenario", "quickstart", "scenario for the pipeline run")
	f.StringVar(&data, "data", "", "broker data dir (default: in memory)")
	f.IntVar(&partitions, "partitions", 8, "partitions per topic")
	f.StringVar(&scale, "scale", "", "resize the scenario first (small, medium, large, xlarge: 1k to 10M wallets; their payments unless --payments is given); the broker's log then goes to a temporary dir, as in run")
	return cmd
}
