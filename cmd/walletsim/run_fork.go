package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/report/diff"
	"github.com/walletsim/walletsim/sim/run/compare"
	"github.com/walletsim/walletsim/sim/run/fork"
)

// runFork is run --fork-at TIME --from RUN --policy B: what if the policy
// had been B from TIME on (sim/run/fork).
func runFork(cmd *cobra.Command, f *runFlags, name string) error {
	if f.forkAt == "" || f.forkFrom == "" {
		return cli.Usagef("--fork-at TIME and --from RUN go together")
	}
	if !cmd.Flags().Changed("policy") {
		return cli.Usagef("--fork-at needs --policy: the policy the branch runs under")
	}
	from, err := diff.Load(f.forkFrom)
	if err != nil {
		return cli.Usage(err)
	}
	sc, _, err := f.sf.resolve(cmd, name)
	if err != nil {
		return err
	}
	at, err := fork.ParseTime(f.forkAt, sc.StartMS)
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
	bc, err := f.bus.config()
	if err != nil {
		return err
	}
	log := diff.LogAt(f.data, bc, f.bus.topics())
	if log == nil {
		log = diff.Recorded(from)
	}
	if log == nil {
		return cli.Usagef("--from %s: its log is not reachable (it ran on a temporary broker); run it with --data DIR, or give --data or --brokers", f.forkFrom)
	}
	if sc.Seed != from.Seed || sc.Name != from.Scenario {
		return cli.Usagef("--from %s is %s seed %d; this is %s seed %d: fork the same scenario and seed", f.forkFrom, from.Scenario, from.Seed, sc.Name, sc.Seed)
	}
	ctx := cmd.Context()
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
