package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/report/diff"
	"github.com/walletsim/walletsim/sim/run/compare"
	"github.com/walletsim/walletsim/sim/run/fork"
)

// run --fork-at TIME --from RUN --policy B: what if the policy had been B
// from TIME on (sim/run/fork).
var forkAt, forkFrom string

func init() {
	registerRunFlags(func(fs *pflag.FlagSet) {
		fs.StringVar(&forkAt, "fork-at", "", "with --from RUN: continue RUN's traffic under --policy from simulated `TIME` (RFC 3339, or a duration from the scenario's start such as 12h)")
		fs.StringVar(&forkFrom, "from", "", "the finished run `DIR` to fork (its log must be reachable: its --data dir, --data, or --brokers)")
	})
}

func forkRequested(cmd *cobra.Command) bool {
	return cmd.Flags().Changed("fork-at") || cmd.Flags().Changed("from")
}

// parseForkTime reads TIME as RFC 3339 or as an offset from startMS.
func parseForkTime(s string, startMS int64) (int64, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UnixMilli(), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--fork-at %q: want RFC 3339 (2024-07-24T12:00:00+08:00) or a duration from the scenario's start (12h)", s)
	}
	return startMS + d.Milliseconds(), nil
}

func runFork(cmd *cobra.Command, f *runFlags, name string) error {
	if forkAt == "" || forkFrom == "" {
		return cli.Usagef("--fork-at TIME and --from RUN go together")
	}
	if !cmd.Flags().Changed("policy") {
		return cli.Usagef("--fork-at needs --policy: the policy the branch runs under")
	}
	from, err := diff.Load(forkFrom)
	if err != nil {
		return cli.Usage(err)
	}
	sc, _, err := f.sf.resolve(cmd, name)
	if err != nil {
		return err
	}
	at, err := parseForkTime(forkAt, sc.StartMS)
	if err != nil {
		return cli.Usage(err)
	}
	branchT, branchP, err := loadPolicy(sc.Scenario.Policy)
	if err != nil {
		return err
	}
	trunkT, trunkP, _, err := scenarios.LoadPolicy(from.Policy)
	if err != nil {
		return cli.Usage(fmt.Errorf("%s: its policy %q: %w", from.Path, from.Policy, err))
	}
	var log *diff.Log
	bc, err := f.bus.config()
	if err != nil {
		return err
	}
	switch {
	case f.data != "":
		log = &diff.Log{DataDir: f.data, Topics: f.bus.topics()}
	case len(bc.Brokers) > 0:
		log = &diff.Log{Bus: bc, Topics: f.bus.topics()}
	default:
		log = diff.Recorded(from)
	}
	if log == nil {
		return cli.Usagef("--from %s: its log is not reachable (it ran on a temporary broker); run it with --data DIR, or give --data or --brokers", forkFrom)
	}
	if sc.Seed != from.Seed || sc.Name != from.Scenario {
		return cli.Usagef("--from %s is %s seed %d; this is %s seed %d: fork the same scenario and seed", forkFrom, from.Scenario, from.Seed, sc.Name, sc.Seed)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := fork.Run(ctx, fork.Config{
		Scenario: sc, From: from, Log: log, Partitions: from.Engine.Partitions, At: at,
		Trunk:  compare.Policy{Name: trunkP.Name, Table: trunkT},
		Branch: compare.Policy{Name: branchP.Name, Table: branchT},
	})
	if rep != nil {
		if werr := rep.WriteTable(cmd.OutOrStdout()); werr != nil {
			return werr
		}
		if f.out != "" {
			p, werr := rep.WriteJSON(f.out)
			if werr != nil {
				return werr
			}
			fmt.Fprintln(cmd.OutOrStdout(), "wrote", p)
		}
	}
	if err != nil {
		return &cli.ExitError{Code: cli.ExitFailure, Err: err}
	}
	return nil
}
