package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/report/calibration"
)

func newCalibrateCmd() *cobra.Command {
	var sf scenarioFlags
	var seeds int
	var first int64
	var scale, out string
	var table bool
	cmd := &cobra.Command{
		Use:   "calibrate SCENARIO --seeds N",
		Short: "Check a scenario's calibration over N seeds: per row, how many seeds passed",
		Long: `Calibrate generates SCENARIO's traffic under seeds 1..N (no broker: the
calibration is about the commands the generator makes) and checks every
calibration row of each (see docs/calibration.md). It prints, per row, in
how many seeds it passed, and in how many seeds every row passed: the
family-wise pass rate, at least 1 - alpha (99%) for a correct generator.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if seeds < 1 {
				return cli.Usagef("--seeds: want at least 1, got %d", seeds)
			}
			sc, src, err := sf.resolve(cmd, args[0], scaleHook(cmd, scale, scale != ""))
			if err != nil {
				return err
			}
			list := make([]int64, seeds)
			for i := range list {
				list[i] = first + int64(i)
			}
			rep, err := calibration.Seeds(sc, src, list, calibration.Config{})
			if err != nil {
				return err
			}
			rep.WriteTable(cmd.OutOrStdout())
			if table {
				for _, r := range rep.Reports {
					r.WriteTable(cmd.OutOrStdout())
				}
			}
			if out != "" {
				p, err := rep.WriteJSON(out)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "wrote", p)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	sf.addPayments(fs, 0, "number of payments per seed (overrides the scenario)")
	fs.IntVar(&seeds, "seeds", 20, "number of seeds")
	fs.Int64Var(&first, "first-seed", 1, "the first seed; the others follow it")
	fs.StringVar(&scale, "scale", "", "resize the scenario first (small, medium, large, xlarge)")
	fs.StringVar(&out, "out", "", "directory for calibrate.json")
	fs.BoolVar(&table, "table", false, "also print every seed's full table")
	return cmd
}
