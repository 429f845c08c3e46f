package compare

import (
	"fmt"
	"path/filepath"

	"github.com/walletsim/walletsim/sim/report/html"
)

// Report is the comparison as the HTML report's view model.
func (c *Comparison) Report() html.CompareReport {
	r := html.CompareReport{
		Title:    fmt.Sprintf("%s under %d interoperability policies", c.Scenario, len(c.Policies)),
		Scenario: c.Scenario, Seed: c.Seed, Policies: c.Policies,
		DeclinesByReason: map[string]map[string]int64{},
		GreenPoints:      map[string]int64{},
	}
	settle := html.Table{Title: "Net settlement positions between providers (whole run; positive: the first owes the second)",
		Columns: append([]string{"Providers", "Currency"}, c.Policies...)}
	for _, row := range c.Rows() {
		switch row.Group {
		case GroupInterop, GroupRoutes, GroupFX:
			r.Metrics = append(r.Metrics, html.CompareMetric{Name: row.Name, Unit: row.Unit, Values: row.Values, BetterIs: row.BetterIs})
		case GroupSettlement:
			settle.Rows = append(settle.Rows, append([]string{row.Name[len("net "):], row.Unit}, row.Cells...))
		}
	}
	for _, res := range c.Results {
		r.DeclinesByReason[res.Policy] = res.Declines
		// Green energy in Ant Forest points, counterfactual rule applied:
		// only what the policy changes (rides are taken either way).
		r.GreenPoints[res.Policy] = res.GreenEnergy.PolicyPoints
		for _, party := range []string{"merchant", "wallet", "switch"} {
			for cur, v := range res.Fees[party] {
				r.Fees = append(r.Fees, html.Fee{Policy: res.Policy, Party: party, Currency: cur, Minor: v})
			}
		}
		r.Fees = append(r.Fees, html.Fee{Policy: res.Policy, Party: "fx margin", Currency: "CNY", Minor: res.FXMarginCNY})
	}
	r.Settlement = settle
	if c.Paired != nil {
		r.Sections = append(r.Sections, c.Paired.section())
	}
	if c.Attribution != nil {
		r.Sections = append(r.Sections, c.Attribution.section())
	}
	return r
}

// WriteHTML writes dir/compare.html: self-contained, charts inline.
func (c *Comparison) WriteHTML(dir string) (string, error) {
	p := filepath.Join(dir, "compare.html")
	return p, html.WriteCompareFile(p, c.Report())
}
