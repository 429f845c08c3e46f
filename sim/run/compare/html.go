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
	r.PnL = c.pnlTable()
	if c.Paired != nil {
		r.Sections = append(r.Sections, c.Paired.section())
	}
	if c.Attribution != nil {
		r.Sections = append(r.Sections, c.Attribution.section())
	}
	return r
}

// pnlTable is the profit and loss of every institution in every role, with
// each policy's change against the first, and the merchants' and
// consumers' costs beside them.
func (c *Comparison) pnlTable() html.Table {
	t := html.Table{Title: "Profit and loss by institution and role (positive: earned; change against " + first(c.Policies) + ")",
		Columns: append([]string{"Institution / role", "Currency"}, c.Policies...)}
	cell := func(i int, v, base int64) string {
		s := major(v)
		if i > 0 {
			d := v - base
			sign := "+"
			if d < 0 {
				sign = ""
			}
			s += " (" + sign + major(d) + ")"
		}
		return s
	}
	line := func(name, cur string, v func(r *Result) int64) {
		row := []string{name, cur}
		base := v(&c.Results[0])
		for i := range c.Results {
			row = append(row, cell(i, v(&c.Results[i]), base))
		}
		t.Rows = append(t.Rows, row)
	}
	for _, k := range c.pnlKeys() {
		line(k.party, k.cur, func(r *Result) int64 { return r.PnL[k.party][k.cur] })
	}
	for _, cur := range c.keys(func(r *Result) []string { return mapKeys(r.Costs.Merchants) }) {
		line("merchants' cost (discounts)", cur, func(r *Result) int64 { return r.Costs.Merchants[cur] })
	}
	for _, cur := range c.keys(func(r *Result) []string { return mapKeys(r.Costs.Consumers) }) {
		line("consumers' cost (withdrawal fees)", cur, func(r *Result) int64 { return r.Costs.Consumers[cur] })
	}
	if len(c.Results) > 0 {
		line("consumers' cost (FX margin at mid)", "CNY", func(r *Result) int64 { return r.FXMarginCNY })
	}
	return t
}

func first(s []string) string {
	if len(s) == 0 {
		return "the first policy"
	}
	return s[0]
}

// WriteHTML writes dir/compare.html: self-contained, charts inline.
func (c *Comparison) WriteHTML(dir string) (string, error) {
	p := filepath.Join(dir, "compare.html")
	return p, html.WriteCompareFile(p, c.Report())
}
