package run

import (
	"fmt"
	"io"

	"github.com/walletsim/walletsim/sim/bus/netfault"
)

// Outputs chooses what Result.Write prints and writes besides the table.
type Outputs struct {
	Dir              string          // summary.json (and report.html, calibration.json) here; empty: no files
	HTML             bool            // with Dir: report.html
	CalibrationTable bool            // every calibration row, not only the off ones
	Coverage         bool            // the policy coverage table
	Proxy            *netfault.Proxy // the network faults' proxy (Options.OnProxy), for their line
}

// Write prints the run's table to w and writes its files: what `walletsim
// run` shows of a finished run, in that order.
func (r *Result) Write(w io.Writer, o Outputs) error {
	sum := r.Summary
	sum.WriteTable(w)
	if o.Dir != "" {
		p, err := sum.WriteJSON(o.Dir)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, "wrote", p)
		if o.HTML {
			if p, err = r.WriteHTML(o.Dir); err != nil {
				return err
			}
			fmt.Fprintln(w, "wrote", p)
		}
	}
	if cal, err := r.Calibration(); err != nil {
		return err
	} else if cal != nil {
		if err := cal.Write(w, o.Dir, o.CalibrationTable); err != nil {
			return err
		}
	}
	if o.Coverage && sum.PolicyCoverage != nil {
		if err := sum.PolicyCoverage.WriteTable(w); err != nil {
			return err
		}
	}
	r.WriteFaults(w, o.Proxy)
	return nil
}
