package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/report/calibration"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Every run reports its calibration (package calibration): the generated
// wallet shares, kind mix, tickets, operator shares, peak and cross-border
// share against the scenario's targets, as a table after the summary and
// as DIR/calibration.json with --out.

var runCal struct {
	on  bool
	col *calibration.Collector
	sc  *scenario.Compiled
}

func init() {
	registerRunFlags(func(fs *pflag.FlagSet) {
		fs.BoolVar(&runCal.on, "calibration", true, "report generated against calibrated targets (table; DIR/calibration.json with --out)")
	})
	runOptionHooks = append(runOptionHooks, calibrationOptions)
	runResultHooks = append(runResultHooks, calibrationResult)
}

func calibrationOptions(cmd *cobra.Command, o *run.Options) error {
	runCal.col, runCal.sc = nil, nil // a previous Execute in the same process (tests)
	if !runCal.on || tracing(cmd) {
		return nil // a replayed trace has no scenario targets to meet
	}
	runCal.sc = o.Scenario
	runCal.col = calibration.NewCollector(o.Scenario)
	if o.Source == nil {
		// Measure the commands as the producer pulls them: the report is
		// about exactly what this run generated.
		g := gen.New(o.Scenario)
		o.Source, o.Clock, o.Total = runCal.col.Wrap(g), g.Clock, g.Payments()
	}
	return nil
}

func calibrationResult(cmd *cobra.Command, out string, _ *run.Result) error {
	if runCal.sc == nil {
		return nil
	}
	col := runCal.col
	if !col.Complete() {
		// The producer resumed mid-way (or another hook replaced the
		// source): generation is deterministic, so measure it afresh.
		col = calibration.Measure(runCal.sc)
	}
	rep := col.Report(runCal.sc, 0)
	rep.WriteTable(cmd.OutOrStdout())
	if out != "" {
		p, err := rep.WriteJSON(out)
		if err != nil {
			return fmt.Errorf("calibration: %w", err)
		}
		fmt.Fprintln(cmd.OutOrStdout(), "wrote", p)
	}
	return nil
}

// tracing reports whether this run replays a trace (run --trace).
func tracing(cmd *cobra.Command) bool {
	f := cmd.Flags().Lookup("trace")
	return f != nil && f.Changed
}
