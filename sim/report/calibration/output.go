package calibration

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/walletsim/walletsim/sim/report/html"
)

// WriteJSON writes dir/calibration.json.
func (r *Report) WriteJSON(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "calibration.json")
	return p, os.WriteFile(p, append(b, '\n'), 0o644)
}

// Counts is the one-line verdict: "41 ok, 2 unresolved, 0 off" (with the
// departures when there are any).
func (r *Report) Counts() string {
	s := fmt.Sprintf("%d ok, %d unresolved", r.OK, r.Unresolved)
	if r.Departs > 0 {
		s += fmt.Sprintf(", %d departs", r.Departs)
	}
	return s + fmt.Sprintf(", %d off", r.Off)
}

// WriteSummary prints what a run shows by default: one line, then the
// off rows only. jsonPath is where calibration.json went ("" = nowhere).
func (r *Report) WriteSummary(w io.Writer, jsonPath string) {
	where := "--calibration=table for every row, --out DIR for calibration.json"
	if jsonPath != "" {
		where = "see " + jsonPath
	}
	fmt.Fprintf(w, "calibration: %s; %s\n", r.Counts(), where)
	var off []Row
	for _, row := range r.Rows {
		if row.Status == StatusOff {
			off = append(off, row)
		}
	}
	if len(off) > 0 {
		writeRows(w, off)
	}
}

// WriteTable prints every row.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "calibration %s (seed %d): %d payments, %d wallets; %s (tolerance %.0f%%, family-wise alpha %g over %d rows, z* %.2f)\n",
		r.Scenario, r.Seed, r.Payments, r.Wallets, r.Counts(), 100*r.Tolerance, r.Alpha, r.Tests, r.ZStar)
	writeRows(w, r.Rows)
}

func writeRows(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  kind\tquantity\tkey\tgenerated\ttarget\terror\tn\ttest\tstat\tp\tdetectable\tstatus\tbasis")
	for _, q := range rows {
		basis := q.Basis
		if q.Status == StatusDeparts && q.Note != "" {
			basis += " (departs: " + q.Note + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%.2f%%\t%d\t%s\t%s\t%.2g\t%s\t%s\t%s\n",
			q.Kind, q.Quantity, q.Key, Format(q.Quantity, q.Generated), Format(q.Quantity, q.Target), 100*q.RelError, q.Samples,
			q.Test, FormatStat(q), q.P, FormatMDE(q), q.Status, basis)
	}
	tw.Flush()
}

// HTMLTable is every row for report.html.
func (r *Report) HTMLTable() html.Table {
	t := html.Table{
		Title: fmt.Sprintf("Calibration: %s (tolerance %.0f%%, family-wise alpha %g over %d rows, z* %.2f)",
			r.Counts(), 100*r.Tolerance, r.Alpha, r.Tests, r.ZStar),
		Columns: []string{"kind", "quantity", "key", "generated", "target", "error %", "n", "test", "stat", "p", "detectable %", "status", "basis"},
	}
	for _, q := range r.Rows {
		basis := q.Basis
		if q.Status == StatusDeparts && q.Note != "" {
			basis += " (departs: " + q.Note + ")"
		}
		t.Rows = append(t.Rows, []string{q.Kind, q.Quantity, q.Key, Format(q.Quantity, q.Generated), Format(q.Quantity, q.Target),
			fmt.Sprintf("%.2f", 100*q.RelError), fmt.Sprint(q.Samples), q.Test, FormatStat(q), fmt.Sprintf("%.2g", q.P),
			strings.TrimSuffix(FormatMDE(q), "%"), q.Status, basis})
	}
	return t
}

// Format renders a generated or target figure in its unit.
func Format(quantity string, v float64) string {
	switch quantity {
	case WalletShare, KindShare, OperatorShare, CrossBorderShare, CrossBorderByHK, HKWalletMainland:
		return fmt.Sprintf("%.2f%%", 100*v)
	case PeakMultiplier:
		return fmt.Sprintf("%.3fx", v)
	case WalletMix, KindMix, OperatorMix:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// FormatStat is "z=1.23" or "chi2(6)=4.5".
func FormatStat(q Row) string {
	if q.Test == TestChi2 {
		return fmt.Sprintf("chi2(%d)=%.1f", q.DF, q.Stat)
	}
	return fmt.Sprintf("z=%.2f", q.Stat)
}

// FormatMDE is the smallest relative error the row could detect.
func FormatMDE(q Row) string {
	if q.MDE >= 1e6 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*q.MDE)
}

// Write prints the report after a run: every row (table) or one line and
// the off rows; with dir, it writes dir/calibration.json first and names
// it.
func (r *Report) Write(w io.Writer, dir string, table bool) error {
	p := ""
	if dir != "" {
		var err error
		if p, err = r.WriteJSON(dir); err != nil {
			return fmt.Errorf("calibration: %w", err)
		}
	}
	if table {
		r.WriteTable(w)
		if p != "" {
			fmt.Fprintln(w, "wrote", p)
		}
		return nil
	}
	if p != "" {
		p = filepath.Base(p)
	}
	r.WriteSummary(w, p)
	return nil
}
