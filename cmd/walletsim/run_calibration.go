package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/report/calibration"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Every run checks its calibration (package calibration): one line after
// the summary and the off rows; every row with --calibration=table;
// DIR/calibration.json and a table in DIR/report.html with --out.

// calMode is --calibration: summary (default), table, or off.
type calMode string

func (m *calMode) String() string { return string(*m) }
func (m *calMode) Type() string   { return "summary|table|off" }
func (m *calMode) Set(v string) error {
	switch strings.ToLower(v) {
	case "summary", "true", "on":
		*m = "summary"
	case "table", "full":
		*m = "table"
	case "off", "false", "none":
		*m = "off"
	default:
		return fmt.Errorf("want summary, table or off, got %q", v)
	}
	return nil
}

var runCal struct {
	mode calMode
	col  *calibration.Collector
	sc   *scenario.Compiled
	rep  *calibration.Report
	err  error
}

func init() {
	runCal.mode = "summary"
	registerRunFlags(func(fs *pflag.FlagSet) {
		f := fs.VarPF(&runCal.mode, "calibration", "", "check the generated traffic against calibrated targets: summary (one line and the off rows), table (every row) or off; DIR/calibration.json with --out")
		f.NoOptDefVal = "summary"
	})
	runOptionHooks = append(runOptionHooks, calibrationOptions)
	runResultHooks = append(runResultHooks, calibrationResult)
}

func calibrationOptions(cmd *cobra.Command, o *run.Options) error {
	runCal.col, runCal.sc, runCal.rep, runCal.err = nil, nil, nil, nil // a previous Execute in the same process (tests)
	if runCal.mode == "off" || tracing(cmd) {
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

// calibrationReport computes the run's report once (report.html asks for
// it before calibrationResult prints it).
func calibrationReport() (*calibration.Report, error) {
	if runCal.sc == nil {
		return nil, nil
	}
	if runCal.rep == nil && runCal.err == nil {
		col := runCal.col
		if !col.Complete() {
			// The producer resumed mid-way (or another hook replaced the
			// source): generation is deterministic, so measure it afresh.
			col = calibration.Measure(runCal.sc)
		}
		runCal.rep, runCal.err = col.Report(runCal.sc, calibration.Config{})
	}
	return runCal.rep, runCal.err
}

func calibrationResult(cmd *cobra.Command, out string, _ *run.Result) error {
	rep, err := calibrationReport()
	if rep == nil || err != nil {
		return err
	}
	p := ""
	if out != "" {
		if p, err = rep.WriteJSON(out); err != nil {
			return fmt.Errorf("calibration: %w", err)
		}
		p = filepath.Base(p)
	}
	if runCal.mode == "table" {
		rep.WriteTable(cmd.OutOrStdout())
		if p != "" {
			fmt.Fprintln(cmd.OutOrStdout(), "wrote", filepath.Join(out, p))
		}
		return nil
	}
	rep.WriteSummary(cmd.OutOrStdout(), p)
	return nil
}

// tracing reports whether this run replays a trace (run --trace).
func tracing(cmd *cobra.Command) bool {
	f := cmd.Flags().Lookup("trace")
	return f != nil && f.Changed
}
