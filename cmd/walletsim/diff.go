package main

import (
	"errors"
	"os"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/report/diff"
)

type diffFlags struct {
	bus          busFlags
	dataA, dataB string
	prefA, prefB string
	noLogs       bool
}

func newDiffCmd() *cobra.Command {
	f := &diffFlags{}
	cmd := &cobra.Command{
		Use:   "diff RUN_A RUN_B",
		Short: "Find the first event where two runs' logs differ",
		Long: `diff compares two run directories (written by 'walletsim run --out DIR').
Each summary.json holds rolling hashes of every partition's event stream;
diff names the first partition and window where they part, and when both
logs are reachable (a run's --data dir, --data-a/--data-b, or --brokers
with --topic-prefix-a/--topic-prefix-b) reads that window and prints the
first differing event of both sides: partition, offset, wallet, command,
the two events field by field and the rule and route that decided them.

Exit 0: identical (same digest); 1: they differ, as diff(1); 2: bad input.`,
		Example: `  walletsim run quickstart --seed 7 --out a --data a/log
  walletsim run quickstart --seed 7 --policy telco-2023 --out b --data b/log
  walletsim diff a b`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return cli.Usagef("diff takes two run directories, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runDiff(cmd, f, args[0], args[1]) },
	}
	fs := cmd.Flags()
	f.bus.register(fs)
	fs.StringVar(&f.dataA, "data-a", "", "embedded broker data `DIR` holding RUN_A's log (default: what its summary recorded)")
	fs.StringVar(&f.dataB, "data-b", "", "embedded broker data `DIR` holding RUN_B's log")
	fs.StringVar(&f.prefA, "topic-prefix-a", "", "with --brokers: topic prefix of RUN_A's log")
	fs.StringVar(&f.prefB, "topic-prefix-b", "", "with --brokers: topic prefix of RUN_B's log")
	fs.BoolVar(&f.noLogs, "no-logs", false, "compare the summaries' stream hashes only")
	return cmd
}

func runDiff(cmd *cobra.Command, f *diffFlags, pathA, pathB string) error {
	a, err := diff.Load(pathA)
	if err != nil {
		return cli.Usage(err)
	}
	b, err := diff.Load(pathB)
	if err != nil {
		return cli.Usage(err)
	}
	cfg := diff.Config{A: a, B: b, NoLogs: f.noLogs}
	bc, err := f.bus.config()
	if err != nil {
		return err
	}
	logFor := func(data, prefix string) (*diff.Log, error) {
		if data != "" {
			if _, err := os.Stat(data); err != nil {
				return nil, cli.Usage(err)
			}
		} else if prefix == "" {
			prefix = f.bus.prefix
		}
		return diff.LogAt(data, bc, bus.DefaultTopics(prefix)), nil
	}
	if cfg.LogA, err = logFor(f.dataA, f.prefA); err != nil {
		return err
	}
	if cfg.LogB, err = logFor(f.dataB, f.prefB); err != nil {
		return err
	}
	ctx := cmd.Context()
	rep, err := diff.Compare(ctx, cfg)
	if errors.Is(err, diff.ErrBadInput) {
		return cli.Usage(err)
	}
	if err != nil {
		return err
	}
	if err := rep.WriteText(cmd.OutOrStdout()); err != nil {
		return err
	}
	if !rep.Identical {
		return &cli.ExitError{Code: cli.ExitFailure}
	}
	return nil
}
