package html

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// parse builds the template set of one report kind: the shared layout plus
// the file that defines its "body".
func parse(body string) *template.Template {
	return template.Must(template.New("layout.html.tmpl").ParseFS(templateFS,
		"templates/layout.html.tmpl", "templates/"+body))
}

var (
	runTmpl     = parse("run.html.tmpl")
	compareTmpl = parse("compare.html.tmpl")
	attackTmpl  = parse("attack.html.tmpl")
)

// metaItem is one "label: value" pair under the title.
type metaItem struct{ Label, Value string }

// doc is what the layout renders; Body is the report-specific view.
type doc struct {
	Kind  string
	Title string
	Meta  []metaItem
	KPIs  []KPI
	Body  any
}

type cell struct {
	Text string
	Num  bool
}

type tableView struct {
	Title   string
	Columns []cell
	Rows    [][]cell
}

func newTable(t Table) tableView {
	tv := tableView{Title: t.Title}
	numCol := make([]bool, len(t.Columns))
	for i := range t.Columns {
		numCol[i] = true
		seen := false
		for _, r := range t.Rows {
			if i < len(r) && strings.TrimSpace(r[i]) != "" {
				seen = true
				numCol[i] = numCol[i] && looksNumeric(r[i])
			}
		}
		numCol[i] = numCol[i] && seen
	}
	for i, c := range t.Columns {
		tv.Columns = append(tv.Columns, cell{Text: c, Num: numCol[i]})
	}
	for _, r := range t.Rows {
		row := make([]cell, 0, max(len(r), len(t.Columns)))
		for _, v := range r {
			row = append(row, cell{Text: v, Num: looksNumeric(v)})
		}
		for len(row) < len(t.Columns) {
			row = append(row, cell{})
		}
		tv.Rows = append(tv.Rows, row)
	}
	return tv
}

// maxCategories is how many categories a bar chart shows before it folds
// the smallest into one "other" bar.
const maxCategories = 15

// topCategories orders a count map by count (largest first, then name) and
// folds everything past maxCategories into one last "other" entry, which
// folded reports.
func topCategories(m map[string]int64) (cats []string, vals []float64, folded bool) {
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if a.v != b.v {
			if a.v > b.v {
				return -1
			}
			return 1
		}
		return strings.Compare(a.k, b.k)
	})
	if len(all) > maxCategories {
		var rest int64
		for _, e := range all[maxCategories-1:] {
			rest += e.v
		}
		n := len(all) - (maxCategories - 1)
		all = append(all[:maxCategories-1], kv{fmt.Sprintf("other (%d more)", n), rest})
		folded = true
	}
	for _, e := range all {
		cats = append(cats, e.k)
		vals = append(vals, float64(e.v))
	}
	return cats, vals, folded
}

func intFmt(v float64) string { return formatFloat(v, 0) }

func countChart(label, axis string, m map[string]int64, color string) template.HTML {
	cats, vals, _ := topCategories(m)
	return barChart{Label: label, AxisLabel: axis, Categories: cats, Fmt: intFmt, Integer: true,
		Series: []barSeries{{Name: axis, Color: color, Values: vals}}}.render()
}

func sum(m map[string]int64) int64 {
	var s int64
	for _, v := range m {
		s += v
	}
	return s
}

// ratio is a/b as a percentage string, "—" when b is zero.
func ratio(a, b int64) string {
	if b == 0 {
		return missing
	}
	return formatFloat(float64(a)/float64(b)*100, 2) + "%"
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

func render(w io.Writer, t *template.Template, p doc) error {
	bw := bufio.NewWriter(w)
	if err := t.Execute(bw, p); err != nil {
		return fmt.Errorf("render %s report: %w", strings.ToLower(p.Kind), err)
	}
	return bw.Flush()
}

// --- run -------------------------------------------------------------------

type paymentRow struct {
	Kind, Attempted, Succeeded, Declined, SuccessRate string
}

type runBody struct {
	Throughput, Latency, Declines, Payments, CO2 template.HTML
	DeclineTotal                                 string
	PaymentRows                                  []paymentRow
	Invariants                                   []Invariant
	InvFailed                                    int
	Tables                                       []tableView
}

// WriteRun renders the report of one simulation run.
func WriteRun(w io.Writer, r RunReport) error {
	b := runBody{
		Throughput: lineChart{Label: "Throughput over time", YLabel: "commands/s",
			Series: []series{{Name: "throughput", Color: colBlue, Points: r.Throughput}}}.render(),
		Latency: lineChart{Label: "Latency percentiles over time", YLabel: "ms",
			ValFmt: msFmt,
			Series: []series{
				{Name: "p50", Color: colBlue, Points: r.Latency.P50},
				{Name: "p95", Color: colOrange, Points: r.Latency.P95},
				{Name: "p99", Color: colRed, Points: r.Latency.P99},
			}}.render(),
		Declines:     countChart("Declines by reason", "declines", r.DeclinesByReason, colRed),
		DeclineTotal: formatInt(sum(r.DeclinesByReason)),
		Invariants:   r.Invariants,
	}

	var kinds []string
	att, ok, dec := barSeries{Name: "attempted", Color: colGrey}, barSeries{Name: "succeeded", Color: colGreen}, barSeries{Name: "declined", Color: colRed}
	for _, k := range r.PaymentsByKind {
		kinds = append(kinds, k.Kind)
		att.Values = append(att.Values, float64(k.Attempted))
		ok.Values = append(ok.Values, float64(k.Succeeded))
		dec.Values = append(dec.Values, float64(k.Declined))
		b.PaymentRows = append(b.PaymentRows, paymentRow{
			Kind: k.Kind, Attempted: formatInt(k.Attempted), Succeeded: formatInt(k.Succeeded),
			Declined: formatInt(k.Declined), SuccessRate: ratio(k.Succeeded, k.Attempted),
		})
	}
	b.Payments = barChart{Label: "Payments by kind", AxisLabel: "payments", Categories: kinds,
		Series: []barSeries{att, ok, dec}, Fmt: intFmt, Integer: true}.render()
	b.CO2 = countChart("Green-energy points by payment kind", "Ant Forest points, not CO2", r.GreenPointsByKind, colTeal)

	for _, inv := range r.Invariants {
		if !inv.OK {
			b.InvFailed++
		}
	}
	for _, t := range r.Tables {
		b.Tables = append(b.Tables, newTable(t))
	}
	return render(w, runTmpl, doc{
		Kind:  "Simulation run",
		Title: orDefault(r.Title, "walletsim run"),
		Meta: []metaItem{
			{"Scenario", orDefault(r.Scenario, missing)},
			{"Policy", orDefault(r.Policy, missing)},
			{"Seed", seedString(r.Seed)},
		},
		KPIs: r.KPIs,
		Body: b,
	})
}

func msFmt(v float64) string { return formatValue(v) + " ms" }

// --- compare ---------------------------------------------------------------

type metricCell struct {
	Text       string
	Delta      string // change against the first policy, e.g. "+3.1%"
	DeltaClass string // "better", "worse" or ""
	Best       bool
}

type metricRow struct {
	Name, Unit, BetterIs string
	Cells                []metricCell
}

type feeChart struct {
	Currency string
	Chart    template.HTML
}

type compareBody struct {
	Policies   []string
	Metrics    []metricRow
	Declines   template.HTML
	Fees       []feeChart
	CO2        template.HTML
	Settlement tableView
	PnL        tableView
	Sections   []sectionView
}

type sectionView struct {
	ID, Title, Note string
	Tables          []tableView
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func newMetricRow(m CompareMetric, n int) metricRow {
	row := metricRow{Name: m.Name, Unit: m.Unit, BetterIs: m.BetterIs}
	val := func(i int) (float64, bool) {
		if i < len(m.Values) && finite(m.Values[i]) {
			return m.Values[i], true
		}
		return 0, false
	}
	best, nvalid := math.NaN(), 0
	for i := range n {
		v, ok := val(i)
		if !ok {
			continue
		}
		nvalid++
		switch {
		case math.IsNaN(best),
			m.BetterIs == BetterHigher && v > best,
			m.BetterIs == BetterLower && v < best:
			best = v
		}
	}
	base, baseOK := val(0)
	for i := range n {
		v, ok := val(i)
		c := metricCell{Text: missing}
		if ok {
			c.Text = formatValue(v)
			c.Best = nvalid > 1 && (m.BetterIs == BetterHigher || m.BetterIs == BetterLower) && v == best
			if i > 0 && baseOK && base != 0 {
				d := (v - base) / math.Abs(base) * 100
				c.Delta = formatFloat(d, 1) + "%"
				if d > 0 {
					c.Delta = "+" + c.Delta
				}
				if c.Delta == "0%" || c.Delta == "+0%" || c.Delta == "-0%" {
					c.Delta = "±0%"
				} else if (m.BetterIs == BetterHigher) == (d > 0) && m.BetterIs != "" {
					c.DeltaClass = "better"
				} else if m.BetterIs != "" {
					c.DeltaClass = "worse"
				}
			}
		}
		row.Cells = append(row.Cells, c)
	}
	return row
}

// WriteCompare renders the comparison of several policies on one scenario.
func WriteCompare(w io.Writer, r CompareReport) error {
	n := len(r.Policies)
	b := compareBody{Policies: r.Policies, Settlement: newTable(r.Settlement), PnL: newTable(r.PnL)}
	for _, m := range r.Metrics {
		b.Metrics = append(b.Metrics, newMetricRow(m, n))
	}
	for _, sec := range r.Sections {
		sv := sectionView{ID: sec.ID, Title: sec.Title, Note: sec.Note}
		for _, t := range sec.Tables {
			sv.Tables = append(sv.Tables, newTable(t))
		}
		b.Sections = append(b.Sections, sv)
	}

	// Declines: reasons (by total over all policies) x policies.
	totals := map[string]int64{}
	for _, p := range r.Policies {
		for reason, c := range r.DeclinesByReason[p] {
			totals[reason] += c
		}
	}
	reasons, _, folded := topCategories(totals)
	var declSeries []barSeries
	for i, p := range r.Policies {
		s := barSeries{Name: p, Color: paletteColor(i)}
		for j, reason := range reasons {
			var v int64
			if folded && j == len(reasons)-1 {
				for k, c := range r.DeclinesByReason[p] {
					if !slices.Contains(reasons[:j], k) {
						v += c
					}
				}
			} else {
				v = r.DeclinesByReason[p][reason]
			}
			s.Values = append(s.Values, float64(v))
		}
		declSeries = append(declSeries, s)
	}
	b.Declines = barChart{Label: "Declines by reason and policy", AxisLabel: "declines",
		Categories: reasons, Series: declSeries, Fmt: intFmt, Integer: true}.render()

	b.Fees = feeCharts(r.Policies, r.Fees)

	co2 := barSeries{Name: "green-energy points", Color: colTeal}
	for _, p := range r.Policies {
		v, ok := r.GreenPoints[p]
		if !ok {
			co2.Values = append(co2.Values, math.NaN())
			continue
		}
		co2.Values = append(co2.Values, float64(v))
	}
	var cols []string
	for i := range r.Policies {
		cols = append(cols, paletteColor(i))
	}
	b.CO2 = barChart{Label: "Green-energy points by policy", AxisLabel: "Ant Forest points, not CO2", Categories: r.Policies,
		CatColors: cols, Series: []barSeries{co2}, Fmt: intFmt, Integer: true}.render()
	if len(r.GreenPoints) == 0 {
		b.CO2 = emptyChart("Green-energy points by policy", "No data")
	}

	return render(w, compareTmpl, doc{
		Kind:  "Policy comparison",
		Title: orDefault(r.Title, "walletsim policy comparison"),
		Meta: []metaItem{
			{"Scenario", orDefault(r.Scenario, missing)},
			{"Seed", seedString(r.Seed)},
			{"Policies", strconv.Itoa(n)},
		},
		Body: b,
	})
}

// feeCharts draws one grouped bar chart per currency: parties x policies.
// Labels are exact decimal amounts; the float only places the bar.
func feeCharts(policies []string, fees []Fee) []feeChart {
	byCur := map[string]map[string]map[string]int64{} // currency -> party -> policy -> minor
	for _, f := range fees {
		cur := strings.ToUpper(orDefault(f.Currency, "?"))
		if byCur[cur] == nil {
			byCur[cur] = map[string]map[string]int64{}
		}
		if byCur[cur][f.Party] == nil {
			byCur[cur][f.Party] = map[string]int64{}
		}
		byCur[cur][f.Party][f.Policy] += f.Minor
	}
	if len(byCur) == 0 {
		return []feeChart{{Chart: emptyChart("Fees by party", "No fees")}}
	}
	curs := make([]string, 0, len(byCur))
	for c := range byCur {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	var out []feeChart
	for _, cur := range curs {
		// Parties by their total over all policies, largest first.
		totals := map[string]int64{}
		for party, byPol := range byCur[cur] {
			totals[party] = sum(byPol)
		}
		parties, _, _ := topCategories(totals)
		if len(parties) < len(totals) { // folded: show every party instead
			parties = parties[:0]
			for p := range totals {
				parties = append(parties, p)
			}
			slices.Sort(parties)
		}
		var ss []barSeries
		for i, pol := range policies {
			s := barSeries{Name: pol, Color: paletteColor(i)}
			for _, party := range parties {
				minor := byCur[cur][party][pol]
				s.Values = append(s.Values, majorUnits(minor, cur))
				s.Labels = append(s.Labels, formatMoney(minor, cur))
			}
			ss = append(ss, s)
		}
		out = append(out, feeChart{Currency: cur, Chart: barChart{
			Label: "Fees by party in " + cur, AxisLabel: cur, Categories: parties, Series: ss,
			Fmt: func(v float64) string { return formatFloat(v, 2) },
		}.render()})
	}
	return out
}

// majorUnits converts minor units to a float, for drawing only.
func majorUnits(minor int64, currency string) float64 {
	d, ok := minorDigits[currency]
	if !ok {
		d = 2
	}
	return float64(minor) / math.Pow(10, float64(d))
}

// --- attack ----------------------------------------------------------------

type latencyRow struct{ Name, Value string }

type attackBody struct {
	Latency, MaxLatency, Throughput, Success, Status, Declines template.HTML
	Latencies                                                  []latencyRow
}

// statusColor colours a status code by class.
func statusColor(code string) string {
	switch {
	case strings.HasPrefix(code, "2"):
		return colGreen
	case strings.HasPrefix(code, "3"):
		return colBlue
	case strings.HasPrefix(code, "4"):
		return colAmber
	case strings.HasPrefix(code, "5"):
		return colRed
	}
	return colGrey
}

// WriteAttack renders the report of one HTTP load test.
func WriteAttack(w io.Writer, r AttackReport) error {
	b := attackBody{
		Latency: lineChart{Label: "Latency percentiles over time", YLabel: "ms", ValFmt: msFmt,
			Series: []series{
				{Name: "p50", Color: colBlue, Points: r.Latency.P50},
				{Name: "p90", Color: colOrange, Points: r.Latency.P90},
				{Name: "p99", Color: colRed, Points: r.Latency.P99},
			}}.render(),
		MaxLatency: lineChart{Label: "Maximum latency per second", YLabel: "ms", ValFmt: msFmt, Heat: true,
			Series: []series{{Name: "max", Color: colRed, Points: r.Latency.Max}}}.render(),
		Throughput: lineChart{Label: "Successful responses per second", YLabel: "responses/s",
			Series: []series{{Name: "throughput", Color: colBlue, Points: r.Throughput}}}.render(),
		Success: lineChart{Label: "Success ratio over time", YLabel: "success", Percent: true,
			ValFmt: func(v float64) string { return formatFloat(v*100, 2) + "%" },
			Series: []series{{Name: "success", Color: colGreen, Points: r.SuccessRatio}}}.render(),
		Declines: countChart("Declines by reason", "declines", r.DeclinesByReason, colRed),
	}

	// Status codes in numeric order, coloured by class.
	codes := make([]string, 0, len(r.StatusCodes))
	for c := range r.StatusCodes {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, func(a, b string) int {
		ai, aerr := strconv.Atoi(a)
		bi, berr := strconv.Atoi(b)
		if aerr == nil && berr == nil && ai != bi {
			return ai - bi
		}
		return strings.Compare(a, b)
	})
	st := barSeries{Name: "responses", Color: colGrey}
	var stColors, stCats []string
	for _, c := range codes {
		st.Values = append(st.Values, float64(r.StatusCodes[c]))
		stColors = append(stColors, statusColor(c))
		name := c
		if c == "0" {
			name = "0 (transport error)"
		}
		stCats = append(stCats, name)
	}
	b.Status = barChart{Label: "Responses by status code", AxisLabel: "responses", Categories: stCats,
		CatColors: stColors, Series: []barSeries{st}, Fmt: intFmt, Integer: true}.render()

	for _, l := range r.Latencies {
		b.Latencies = append(b.Latencies, latencyRow{Name: l.Name, Value: formatValue(l.Millis)})
	}

	// Headline figures derived from the data, nothing invented.
	total := sum(r.StatusCodes)
	var ok2xx int64
	for c, v := range r.StatusCodes {
		if len(c) == 3 && c[0] == '2' {
			ok2xx += v
		}
	}
	kpis := []KPI{
		KPIInt("Requests", total, ""),
		{Label: "Success (2xx)", Value: strings.TrimSuffix(ratio(ok2xx, total), "%"), Unit: "%"},
	}
	if total == 0 {
		kpis[1].Unit = ""
	}
	if tp := clean(r.Throughput); len(tp) > 0 {
		var s float64
		for _, p := range tp {
			s += p.Value
		}
		kpis = append(kpis, KPIFloat("Mean throughput", s/float64(len(tp)), 1, "resp/s"))
	}
	for _, l := range r.Latencies {
		if n := strings.ToLower(l.Name); n == "p99" || n == "max" {
			kpis = append(kpis, KPIFloat("Latency "+l.Name, l.Millis, 2, "ms"))
		}
	}

	meta := []metaItem{
		{"Target", orDefault(r.Target, missing)},
		{"Rate", formatValue(r.Rate) + " req/s"},
		{"Duration", formatSeconds(r.Duration.Seconds())},
	}
	return render(w, attackTmpl, doc{
		Kind:  "Load test",
		Title: orDefault(r.Title, "walletsim load test"),
		Meta:  meta,
		KPIs:  kpis,
		Body:  b,
	})
}

// --- files -----------------------------------------------------------------

// WriteRunFile writes the run report to path (created or truncated).
func WriteRunFile(path string, r RunReport) error {
	return WriteFile(path, func(w io.Writer) error { return WriteRun(w, r) })
}

// WriteCompareFile writes the comparison report to path.
func WriteCompareFile(path string, r CompareReport) error {
	return WriteFile(path, func(w io.Writer) error { return WriteCompare(w, r) })
}

// WriteAttackFile writes the load test report to path.
func WriteAttackFile(path string, r AttackReport) error {
	return WriteFile(path, func(w io.Writer) error { return WriteAttack(w, r) })
}

// WriteFile writes what render produces to path. It writes to a temporary
// file beside path and renames it, so a reader never sees half a report and
// a failed render leaves any older report in place.
func WriteFile(path string, render func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	tmp := f.Name()
	err = render(f)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("write report %s: %w", path, err), ignoreNotExist(os.Remove(tmp)))
	}
	return nil
}

func ignoreNotExist(err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
