package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/loadtest/bench"
	"github.com/walletsim/walletsim/sim/run"
)

func newBenchCmd() *cobra.Command {
	var sf scenarioFlags
	var ceilingN int64
	var out, scenarioName, data string
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
			sc, src, err := sf.resolve(cmd, scenarioName)
			if err != nil {
				return err
			}
			s := sc.Scenario
			table, pol, err := loadPolicy(s.Policy)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := bench.Run(ctx, bench.Options{
				Run:        run.Options{Scenario: sc, Policy: table, PolicyName: pol.Name},
				Partitions: partitions, CeilingMessages: ceilingN, DataDir: data,
				Logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "bench: "+f+"\n", a...) },
			})
			if err != nil {
				return err
			}
			res.Manifest = collectManifest(src.Path, src.Data, s.Seed, pol.Name, res.Broker)
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			c, p := res.Ceiling, res.Pipeline
			fmt.Fprintf(w, "ceiling produce\t%.0f msgs/s\t(%d msgs of %d B, %d partitions, acks=all)\n", c.ProduceMsgsPerS, c.Messages, c.MessageBytes, res.Partitions)
			fmt.Fprintf(w, "ceiling consume\t%.0f msgs/s\n", c.ConsumeMsgsPerS)
			fmt.Fprintf(w, "ceiling produce+consume\t%.0f msgs/s\n", c.ProduceConsumeMsgsPerS)
			fmt.Fprintf(w, "pipeline (run)\t%.0f payments/s\tratio %.2f of produce+consume; %.2f Kafka records per payment\n", p.PaymentsPerS, p.RatioToCeiling, p.MessagesPerPayment)
			fmt.Fprintf(w, "same work, raw kafka-go\t%.0f payments/s\tratio %.2f (%.2f records produced + %.2f consumed per payment at the ceiling rates)\n", p.EquivalentCeiling, p.RatioToEquivalent, p.ProducedPerPayment, p.ConsumedPerPayment)
			fmt.Fprintf(w, "pipeline events\t%.0f events/s\t%d payments in %.2fs, invariants ok %v\n", p.EventsPerS, p.Payments, p.DurationS, p.InvariantsOK)
			rb := res.Rebuild
			fmt.Fprintf(w, "raw read (events topic)\t%.0f msgs/s\n", rb.RawReadMsgsPerS)
			fmt.Fprintf(w, "rebuild (replay)\t%.0f events/s\tratio %.2f of raw read; %d events, state matches the run %v\n", rb.EventsPerS, rb.RatioToRawRead, rb.Events, rb.StateMatches)
			fmt.Fprintf(w, "rebuild + log digest\t%.0f events/s\tdigest matches the run %v\n", rb.DigestEventsPerS, rb.DigestMatches)
			fmt.Fprintf(w, "memory\tpeak RSS %.0f MiB\t%.0f engine bytes per wallet, %.1f allocations per payment (whole process)\n", res.PeakRSSMiB, p.BytesPerWallet, p.AllocsPerPayment)
			w.Flush()
			if out != "" {
				if err := os.MkdirAll(out, 0o755); err != nil {
					return err
				}
				b, _ := json.MarshalIndent(res, "", "  ")
				path := filepath.Join(out, "bench.json")
				if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "wrote", path)
			}
			if !res.Rebuild.DigestMatches || !res.Rebuild.StateMatches {
				return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("bench: replay did not reproduce the run's digests")}
			}
			if !p.InvariantsOK {
				return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("bench: the pipeline run broke an invariant")}
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
	return cmd
}
