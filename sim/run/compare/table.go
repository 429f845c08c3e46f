package compare

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/walletsim/walletsim/sim/report/html"
)

// Row is one line of the comparison: a metric with a value per policy.
// Values are what charts draw (NaN where a policy has none); Cells are
// the same values as the table prints them.
type Row struct {
	Group    string    `json:"group"`
	Name     string    `json:"name"`
	Unit     string    `json:"unit,omitempty"`
	Values   []float64 `json:"values"`
	Cells    []string  `json:"cells"`
	BetterIs string    `json:"better_is,omitempty"`
}

// Row groups, in table order.
const (
	GroupInterop    = "interop"
	GroupDeclines   = "declines"
	GroupRoutes     = "routes"
	GroupFees       = "fees"
	GroupPnL        = "pnl"
	GroupCosts      = "costs"
	GroupSettlement = "settlement"
	GroupFX         = "fx"
	GroupRun        = "run"
	GroupGreen      = "green energy (Ant Forest points, not CO2)"
)

// Rows lays the comparison out as the table the issue asks for: one
// column per policy. Rows that vary by data (decline reasons, fee parties,
// provider pairs, currencies) are the union over all policies, sorted, so
// every column has the same rows.
func (c *Comparison) Rows() []Row {
	n := len(c.Results)
	var rows []Row
	add := func(group, name, unit, better string, v func(r *Result) (float64, string, bool)) {
		row := Row{Group: group, Name: name, Unit: unit, BetterIs: better, Values: make([]float64, n), Cells: make([]string, n)}
		for i := range c.Results {
			f, s, ok := v(&c.Results[i])
			if !ok {
				f, s = nan(), "—"
			}
			row.Values[i], row.Cells[i] = f, s
		}
		rows = append(rows, row)
	}
	pct := func(f func(r *Result) float64) func(r *Result) (float64, string, bool) {
		return func(r *Result) (float64, string, bool) {
			v := 100 * f(r)
			return v, strconv.FormatFloat(v, 'f', 2, 64) + "%", true
		}
	}
	count := func(f func(r *Result) int64) func(r *Result) (float64, string, bool) {
		return func(r *Result) (float64, string, bool) { v := f(r); return float64(v), thousands(v), true }
	}
	add(GroupInterop, "payments", "", "", count(func(r *Result) int64 { return r.Payments.Attempted }))
	add(GroupInterop, "success rate", "%", html.BetterHigher, pct(func(r *Result) float64 { return r.Payments.SuccessRate }))
	add(GroupInterop, "acceptance rate", "%", html.BetterHigher, pct(func(r *Result) float64 { return r.Interop.AcceptanceRate }))
	add(GroupInterop, "first-wallet success", "%", html.BetterHigher, pct(func(r *Result) float64 { return r.Interop.FirstWalletRate }))
	add(GroupInterop, "fallback share", "%", html.BetterLower, pct(func(r *Result) float64 { return r.Interop.FallbackRate }))
	add(GroupInterop, "abandonment", "%", html.BetterLower, pct(func(r *Result) float64 { return r.Interop.AbandonRate }))
	for _, reason := range c.keys(func(r *Result) []string { return mapKeys(r.Declines) }) {
		add(GroupDeclines, "declined: "+reason, "", html.BetterLower, count(func(r *Result) int64 { return r.Declines[reason] }))
	}
	add(GroupRoutes, "mean hops", "", html.BetterLower, func(r *Result) (float64, string, bool) {
		return r.Interop.MeanHops, strconv.FormatFloat(r.Interop.MeanHops, 'f', 3, 64), true
	})
	add(GroupRoutes, "route latency p50", "ms", html.BetterLower, func(r *Result) (float64, string, bool) {
		return r.RouteLatencyMS.P50, strconv.FormatFloat(r.RouteLatencyMS.P50, 'f', 1, 64), true
	})
	add(GroupRoutes, "route latency p99", "ms", html.BetterLower, func(r *Result) (float64, string, bool) {
		return r.RouteLatencyMS.P99, strconv.FormatFloat(r.RouteLatencyMS.P99, 'f', 1, 64), true
	})
	type pc struct{ party, cur string }
	var feeKeys []pc
	seen := map[pc]bool{}
	for i := range c.Results {
		for party, byCur := range c.Results[i].Fees {
			for cur := range byCur {
				if k := (pc{party, cur}); !seen[k] {
					seen[k] = true
					feeKeys = append(feeKeys, k)
				}
			}
		}
	}
	order := map[string]int{"merchant": 0, "wallet": 1, "switch": 2, "fx": 3}
	sort.Slice(feeKeys, func(i, j int) bool {
		a, b := feeKeys[i], feeKeys[j]
		oa, oka := order[a.party]
		ob, okb := order[b.party]
		if oka != okb || oa != ob {
			if !oka || !okb {
				return oka
			}
			return oa < ob
		}
		if a.party != b.party {
			return a.party < b.party
		}
		return a.cur < b.cur
	})
	for _, k := range feeKeys {
		name := "fees: " + k.party
		if k.party == "fx" {
			name = "fees: fx desk position"
		}
		add(GroupFees, name, k.cur, "", money(func(r *Result) (int64, bool) {
			v, ok := r.Fees[k.party][k.cur]
			return v, ok
		}))
	}
	add(GroupFees, "fees: fx margin at mid", "CNY", "", money(func(r *Result) (int64, bool) { return r.FXMarginCNY, true }))
	for _, k := range c.pnlKeys() {
		add(GroupPnL, "p&l "+k.party, k.cur, "", money(func(r *Result) (int64, bool) { return r.PnL[k.party][k.cur], true }))
	}
	for _, cur := range c.keys(func(r *Result) []string { return mapKeys(r.Costs.Merchants) }) {
		add(GroupCosts, "cost: merchants", cur, html.BetterLower, money(func(r *Result) (int64, bool) { return r.Costs.Merchants[cur], true }))
	}
	for _, cur := range c.keys(func(r *Result) []string { return mapKeys(r.Costs.Consumers) }) {
		add(GroupCosts, "cost: consumers", cur, html.BetterLower, money(func(r *Result) (int64, bool) { return r.Costs.Consumers[cur], true }))
	}
	type pair struct{ from, to, cur string }
	var pairs []pair
	seenPair := map[pair]bool{}
	for i := range c.Results {
		for _, p := range c.Results[i].NetPositions {
			if k := (pair{p.From, p.To, p.Currency}); !seenPair[k] {
				seenPair[k] = true
				pairs = append(pairs, k)
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		a, b := pairs[i], pairs[j]
		if a.cur != b.cur {
			return a.cur < b.cur
		}
		if a.from != b.from {
			return a.from < b.from
		}
		return a.to < b.to
	})
	for _, k := range pairs {
		add(GroupSettlement, "net "+k.from+" → "+k.to, k.cur, "", money(func(r *Result) (int64, bool) {
			for _, p := range r.NetPositions {
				if p.From == k.from && p.To == k.to && p.Currency == k.cur {
					return p.Net, true
				}
			}
			return 0, true // no flow between them under this policy
		}))
	}
	for _, cur := range c.keys(func(r *Result) []string { return mapKeys(r.FXVolume) }) {
		add(GroupFX, "cross-border FX volume from "+cur, cur, "", money(func(r *Result) (int64, bool) { return r.FXVolume[cur], true }))
	}
	// Green energy in Ant Forest points, not CO2 (more is better); the
	// policy's share leaves out rides, which are taken whatever the gate
	// accepts (the counterfactual rule, run.Carbon).
	add(GroupGreen, "green-energy points (policy's: paperless payments)", "points", html.BetterHigher, count(func(r *Result) int64 { return r.GreenEnergy.PolicyPoints }))
	add(GroupGreen, "green-energy points credited", "points", "", count(func(r *Result) int64 { return r.GreenEnergy.Points }))
	add(GroupGreen, "rides paid otherwise (points, counted either way)", "points", "", count(func(r *Result) int64 { return r.GreenEnergy.RidesPaidOtherwise }))
	add(GroupRun, "money conserved", "", "", func(r *Result) (float64, string, bool) {
		if r.Invariants.MoneyConserved {
			return 1, "yes", true
		}
		return 0, "NO", true
	})
	add(GroupRun, "invariants", "", "", func(r *Result) (float64, string, bool) {
		if r.Invariants.OK() {
			return 1, "ok", true
		}
		return 0, "VIOLATED", true
	})
	add(GroupRun, "event digest", "", "", func(r *Result) (float64, string, bool) {
		d := strings.TrimPrefix(r.Events.Digest, "sha256:")
		if len(d) > 12 {
			d = d[:12]
		}
		return nan(), d, true
	})
	return rows
}

// pnlKey is one P&L line: "institution/role" and a currency.
type pnlKey struct{ party, cur string }

// pnlKeys is the union of every result's P&L lines, by role (acquirer,
// issuer, wallet, network, clearing, fx), then institution, then currency.
func (c *Comparison) pnlKeys() []pnlKey {
	seen := map[pnlKey]bool{}
	var out []pnlKey
	for i := range c.Results {
		for party, byCur := range c.Results[i].PnL {
			for cur := range byCur {
				if k := (pnlKey{party, cur}); !seen[k] {
					seen[k] = true
					out = append(out, k)
				}
			}
		}
	}
	rank := map[string]int{"acquirer": 0, "issuer": 1, "wallet": 2, "network": 3, "clearing": 4, "fx": 5}
	role := func(p string) (int, string) {
		inst, r, _ := strings.Cut(p, "/")
		n, ok := rank[r]
		if !ok {
			n = len(rank)
		}
		return n, inst
	}
	sort.Slice(out, func(i, j int) bool {
		ri, ii := role(out[i].party)
		rj, ij := role(out[j].party)
		if ri != rj {
			return ri < rj
		}
		if ii != ij {
			return ii < ij
		}
		return out[i].cur < out[j].cur
	})
	return out
}

// keys is the sorted union of a per-result key list.
func (c *Comparison) keys(f func(r *Result) []string) []string {
	set := map[string]bool{}
	for i := range c.Results {
		for _, k := range f(&c.Results[i]) {
			set[k] = true
		}
	}
	return mapKeys(set)
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// money shows minor units as major units exactly (both currencies have two
// decimals); the chart value is in major units.
func money(f func(r *Result) (int64, bool)) func(r *Result) (float64, string, bool) {
	return func(r *Result) (float64, string, bool) {
		v, ok := f(r)
		if !ok {
			return 0, "", false
		}
		return float64(v) / 100, major(v), true
	}
}

func major(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%s.%02d", sign, thousands(minor/100), minor%100)
}

func thousands(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// WriteTable prints the comparison: one column per policy, metric names
// left-aligned and figures right-aligned, a blank line between groups.
func (c *Comparison) WriteTable(w io.Writer) error {
	rows := c.Rows()
	head := append([]string{"metric", "unit"}, c.Policies...)
	width := make([]int, len(head))
	for i, h := range head {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		width[0] = max(width[0], utf8.RuneCountInString(r.Name))
		width[1] = max(width[1], utf8.RuneCountInString(r.Unit))
		for i, cell := range r.Cells {
			width[i+2] = max(width[i+2], utf8.RuneCountInString(cell))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		for i, cell := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			switch {
			case i == 0:
				b.WriteString(cell + pad)
			case i == 1:
				b.WriteString("  " + cell + pad)
			default:
				b.WriteString("  " + pad + cell)
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "scenario %s, seed %d, %s payments under each policy\n\n", c.Scenario, c.Seed, thousands(c.Payments))
	line(head)
	group := ""
	for _, r := range rows {
		if r.Group != group && group != "" {
			b.WriteString("\n")
		}
		group = r.Group
		line(append([]string{r.Name, r.Unit}, r.Cells...))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func nan() float64 { return math.NaN() }
