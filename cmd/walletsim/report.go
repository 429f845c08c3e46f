package main

import (
	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/loadtest"
)

func newReportCmd() *cobra.Command {
	var out string
	var minSuccess float64
	cmd := &cobra.Command{
		Use:   "report DIR...",
		Short: "Merge the results of attack directories (the shards of one attack) into one report",
		Long: `Report reads DIR/results.bin and DIR/attack.json of each attack directory
(for instance the shards of one distributed attack, --shard i/n) and
prints one report over every request of all of them; with --out it also
writes the merged attack.json and attack.html there. Exit 0: success
ratios at least --min-success; 1: below; 2: unreadable directories.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			rep, err := loadtest.Merge(dirs)
			if err != nil {
				return cli.Usage(err)
			}
			rep.WriteText(cmd.OutOrStdout())
			if out != "" {
				if err := rep.WriteFiles(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			}
			if err := rep.Verdict(minSuccess); err != nil {
				return &cli.ExitError{Code: cli.ExitFailure, Err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory for the merged attack.json and attack.html")
	cmd.Flags().Float64Var(&minSuccess, "min-success", 0.99, "lowest success ratio that exits 0")
	return cmd
}
