package html

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"unicode"
)

// Chart geometry, in SVG user units (CSS pixels at 100% zoom).
const (
	chartWidth  = 920.0
	lineHeight  = 300.0
	fontSize    = 11.0
	legendRow   = 18.0
	maxBands    = 300 // hover targets per line chart
	maxMarkers  = 40  // series with at most this many points get markers
	maxBarLabel = 240.0
	minLeft     = 72.0 // left margin of line charts
)

// Palettes. The first is for unrelated series (policies); the named colours
// keep their meaning across reports.
var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#9c755f", "#ff9da7", "#bab0ac"}

const (
	colBlue   = "#4e79a7"
	colOrange = "#f28e2b"
	colRed    = "#e15759"
	colGreen  = "#59a14f"
	colGrey   = "#8c8c8c"
	colTeal   = "#76b7b2"
	colAmber  = "#e6a700"
)

func paletteColor(i int) string { return palette[i%len(palette)] }

// esc escapes a string for SVG text and attribute values.
func esc(s string) string { return template.HTMLEscapeString(s) }

// num writes a coordinate with one decimal.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	s := fmt.Sprintf("%.1f", v)
	if s == "-0.0" {
		s = "0.0"
	}
	return strings.TrimSuffix(s, ".0")
}

// textWidth estimates the rendered width of s at the given font size: wide
// (CJK) runes take a full em, capitals and digits a little more than others.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case isWide(r):
			w += size
		case unicode.IsUpper(r) || r == 'm' || r == 'w' || r == 'M' || r == 'W':
			w += size * 0.7
		case unicode.IsDigit(r):
			w += size * 0.64
		case r == 'i' || r == 'l' || r == '.' || r == ',' || r == ':' || r == '\'' || r == '|':
			w += size * 0.3
		default:
			w += size * 0.58
		}
	}
	return w
}

func isWide(r rune) bool {
	return r >= 0x1100 && (r <= 0x115f || (r >= 0x2e80 && r <= 0xa4cf) ||
		(r >= 0xac00 && r <= 0xd7a3) || (r >= 0xf900 && r <= 0xfaff) ||
		(r >= 0xfe30 && r <= 0xfe4f) || (r >= 0xff00 && r <= 0xff60) ||
		(r >= 0xffe0 && r <= 0xffe6) || (r >= 0x20000 && r <= 0x3fffd))
}

// truncate shortens s with an ellipsis to fit in max units.
func truncate(s string, size, max float64) string {
	if textWidth(s, size) <= max {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && textWidth(string(r)+"…", size) > max {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

type svgWriter struct{ strings.Builder }

func (w *svgWriter) printf(format string, a ...any) { fmt.Fprintf(&w.Builder, format, a...) }

// open starts an <svg> of the given height with an accessible label.
func (w *svgWriter) open(label string, height float64) {
	w.printf(`<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s">`,
		num(chartWidth), num(height), num(chartWidth), num(height), esc(label))
}

func (w *svgWriter) html() template.HTML {
	w.WriteString("</svg>")
	return template.HTML(w.String()) // every user string went through esc
}

// emptyChart is the frame drawn when a chart has nothing to show.
func emptyChart(label, msg string) template.HTML {
	var w svgWriter
	const h = 110.0
	w.open(label, h)
	w.printf(`<rect class="empty" x="0.5" y="0.5" width="%s" height="%s" rx="6"/>`, num(chartWidth-1), num(h-1))
	w.printf(`<text class="empty-msg" x="%s" y="%s" text-anchor="middle">%s</text>`, num(chartWidth/2), num(h/2+4), esc(msg))
	return w.html()
}

// legendItem is one entry of a legend; Line draws a stroke, otherwise a box.
type legendItem struct {
	Name  string
	Color string
	Line  bool
	Dash  bool
}

// legendLayout places legend items left to right from x0, wrapping before
// x1, and returns their positions and the number of rows.
func legendLayout(items []legendItem, x0, x1 float64) (xs []float64, rows []int, nrows int) {
	x, row := x0, 0
	for _, it := range items {
		w := 22 + textWidth(it.Name, fontSize) + 18
		if x+w > x1 && x > x0 {
			x, row = x0, row+1
		}
		xs = append(xs, x)
		rows = append(rows, row)
		x += w
	}
	if len(items) == 0 {
		return nil, nil, 0
	}
	return xs, rows, row + 1
}

func (w *svgWriter) legend(items []legendItem, x0, x1, y0 float64) {
	xs, rows, _ := legendLayout(items, x0, x1)
	w.WriteString(`<g class="legend">`)
	for i, it := range items {
		x, y := xs[i], y0+float64(rows[i])*legendRow
		if it.Line {
			dash := ""
			if it.Dash {
				dash = ` stroke-dasharray="5 3"`
			}
			w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2.5"%s/>`,
				num(x), num(y), num(x+16), num(y), it.Color, dash)
		} else {
			w.printf(`<rect x="%s" y="%s" width="12" height="12" rx="2" fill="%s"/>`, num(x+2), num(y-6), it.Color)
		}
		w.printf(`<text x="%s" y="%s">%s</text>`, num(x+22), num(y+4), esc(it.Name))
	}
	w.WriteString(`</g>`)
}

// series is one line (or one set of scatter points) of a chart.
type series struct {
	Name   string
	Color  string
	Dash   bool
	Points []Point
}

// lineChart draws series over time. Time runs along x in seconds.
type lineChart struct {
	Label  string // accessible name
	YLabel string // the unit of the y axis, e.g. "ms"
	// ValFmt formats a value in a tooltip; nil uses formatValue.
	ValFmt func(float64) string
	// Percent labels the y axis 0..100% for ratios 0..1 and pins it there.
	Percent bool
	// Heat draws points coloured by value instead of lines.
	Heat   bool
	Series []series
}

// clean drops non-finite points and sorts by time.
func clean(pts []Point) []Point {
	out := make([]Point, 0, len(pts))
	for _, p := range pts {
		if math.IsNaN(p.T) || math.IsInf(p.T, 0) || math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			continue
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b Point) int {
		switch {
		case a.T < b.T:
			return -1
		case a.T > b.T:
			return 1
		}
		return 0
	})
	return out
}

func (c lineChart) render() template.HTML {
	var ss []series
	xlo, xhi := math.Inf(1), math.Inf(-1)
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		s.Points = clean(s.Points)
		ss = append(ss, s)
		for _, p := range s.Points {
			xlo, xhi = math.Min(xlo, p.T), math.Max(xhi, p.T)
			ylo, yhi = math.Min(ylo, p.Value), math.Max(yhi, p.Value)
		}
	}
	if math.IsInf(xlo, 1) {
		return emptyChart(c.Label, "No data")
	}
	valFmt := c.ValFmt
	if valFmt == nil {
		valFmt = formatValue
	}

	// Domains. Time keeps its extent; values start at zero.
	if !(xhi > xlo) { // one instant: centre it, without negative time
		if xlo >= 1 || xlo < 0 {
			xlo, xhi = xlo-1, xhi+1
		} else {
			xlo, xhi = 0, 1
		}
	}
	if c.Percent {
		// Ratios zoom in below 100% so that a dip from 99.5% to 92% shows;
		// the tick labels say where the axis starts.
		yhi = math.Max(1, yhi)
		ylo = math.Min(ylo, yhi-0.05)
		if ylo > 0 && ylo < 0.5 {
			ylo = 0
		}
	} else {
		ylo, yhi = math.Min(0, ylo), math.Max(0, yhi)
	}
	yticks, ystep := niceTicks(ylo, yhi, 5)
	ylo, yhi = yticks[0], yticks[len(yticks)-1]
	yfmt := tickFormat(ystep, math.Max(math.Abs(ylo), math.Abs(yhi)))
	if c.Percent {
		yfmt = percentFormat(ystep)
	}

	// Margins from the widest tick label and the legend.
	tickW := 0.0
	for _, t := range yticks {
		tickW = math.Max(tickW, textWidth(yfmt(t), fontSize))
	}
	// At least minLeft, so that the plots of a page line up.
	ml := math.Max(minLeft, 22+tickW+8)
	const mr, mb = 18.0, 42.0
	var items []legendItem
	if len(ss) > 1 {
		for _, s := range ss {
			items = append(items, legendItem{Name: s.Name, Color: s.Color, Line: true, Dash: s.Dash})
		}
	}
	legendX1 := chartWidth - mr
	if c.Heat {
		legendX1 -= 200 // room for the colour scale
	}
	_, _, nrows := legendLayout(items, ml, legendX1)
	mt := 16.0
	if nrows > 0 || c.Heat {
		mt = 14 + float64(max(nrows, 1))*legendRow + 4
	}
	height := lineHeight + float64(max(nrows-1, 0))*legendRow
	px0, px1, py0, py1 := ml, chartWidth-mr, mt, height-mb
	sx := linear{xlo, xhi, px0, px1}
	sy := linear{ylo, yhi, py1, py0}

	var w svgWriter
	w.open(c.Label, height)

	// Grid and y axis.
	w.WriteString(`<g class="grid">`)
	for _, t := range yticks {
		y := sy.at(t)
		w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(px0), num(y), num(px1), num(y))
	}
	w.WriteString(`</g><g class="axis y">`)
	for _, t := range yticks {
		w.printf(`<text x="%s" y="%s" text-anchor="end">%s</text>`, num(px0-6), num(sy.at(t)+4), esc(yfmt(t)))
	}
	if c.YLabel != "" {
		cy := (py0 + py1) / 2
		w.printf(`<text class="axis-label" x="12" y="%s" text-anchor="middle" transform="rotate(-90 12 %s)">%s</text>`,
			num(cy), num(cy), esc(c.YLabel))
	}

	// x axis: time.
	xticks, clock := timeTicks(xlo, xhi, int(math.Max(2, (px1-px0)/90)))
	w.WriteString(`</g><g class="axis x">`)
	w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(px0), num(py1), num(px1), num(py1))
	xstep := 1.0
	if len(xticks) > 1 {
		xstep = xticks[1] - xticks[0]
	}
	xfmt := tickFormat(xstep, 0)
	for _, t := range xticks {
		x := sx.at(t)
		label := xfmt(t)
		if clock {
			label = clockLabel(t)
		}
		w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x), num(py1), num(x), num(py1+4))
		w.printf(`<text x="%s" y="%s" text-anchor="middle">%s</text>`, num(x), num(py1+17), esc(label))
	}
	xlabel := "time since start (s)"
	if clock {
		xlabel = "time since start (m:ss)"
	}
	w.printf(`<text class="axis-label" x="%s" y="%s" text-anchor="middle">%s</text>`, num((px0+px1)/2), num(height-6), xlabel)
	w.WriteString(`</g>`)

	// Data.
	if c.Heat {
		lo, hi := w.heatPoints(ss, sx, sy)
		w.heatLegend(lo, hi, valFmt, chartWidth-mr, 14+legendRow/2)
	} else {
		for _, s := range ss {
			w.linePath(s, sx, sy)
		}
	}
	if len(items) > 0 {
		w.legend(items, ml, legendX1, 14+legendRow/2)
	}
	w.hoverBands(ss, sx, py0, py1, px0, px1, valFmt, clock)
	return w.html()
}

// linePath draws one series as a polyline with markers when it is short.
func (w *svgWriter) linePath(s series, sx, sy linear) {
	if len(s.Points) == 0 {
		return
	}
	dash := ""
	if s.Dash {
		dash = ` stroke-dasharray="6 4"`
	}
	if len(s.Points) > 1 {
		var d strings.Builder
		for i, p := range decimate(s.Points, sx) {
			cmd := "L"
			if i == 0 {
				cmd = "M"
			}
			d.WriteString(cmd + num(sx.at(p.T)) + " " + num(sy.at(p.Value)))
		}
		w.printf(`<path class="line" d="%s" stroke="%s"%s/>`, d.String(), s.Color, dash)
	}
	if len(s.Points) <= maxMarkers {
		w.printf(`<g fill="%s">`, s.Color)
		for _, p := range s.Points {
			w.printf(`<circle cx="%s" cy="%s" r="3"/>`, num(sx.at(p.T)), num(sy.at(p.Value)))
		}
		w.WriteString(`</g>`)
	}
}

// decimate thins a long series (sorted by T) for drawing: past two points
// per pixel column it keeps, per column, the first, lowest, highest and last
// point, so the drawing looks the same (spikes included) at a fraction of
// the size.
func decimate(pts []Point, sx linear) []Point {
	cols := int(math.Abs(sx.r1 - sx.r0))
	if cols < 1 || len(pts) <= 2*cols {
		return pts
	}
	out := make([]Point, 0, 4*cols)
	flush := func(b []Point) {
		if len(b) == 0 {
			return
		}
		lo, hi := 0, 0
		for i, p := range b {
			if p.Value < b[lo].Value {
				lo = i
			}
			if p.Value > b[hi].Value {
				hi = i
			}
		}
		keep := []int{0, lo, hi, len(b) - 1}
		slices.Sort(keep)
		for _, k := range slices.Compact(keep) {
			out = append(out, b[k])
		}
	}
	start, col := 0, int(sx.at(pts[0].T)-sx.r0)
	for i, p := range pts {
		if c := int(sx.at(p.T) - sx.r0); c != col {
			flush(pts[start:i])
			start, col = i, c
		}
	}
	flush(pts[start:])
	return out
}

// heatStops run from pale yellow (low) to dark red (high).
var heatStops = [][3]float64{{254, 224, 139}, {253, 174, 97}, {244, 109, 67}, {215, 48, 39}, {165, 0, 38}}

func heatColor(f float64) string {
	if math.IsNaN(f) {
		f = 0
	}
	f = math.Max(0, math.Min(1, f))
	pos := f * float64(len(heatStops)-1)
	i := int(math.Floor(pos))
	if i >= len(heatStops)-1 {
		i = len(heatStops) - 2
	}
	t := pos - float64(i)
	a, b := heatStops[i], heatStops[i+1]
	c := func(k int) int { return int(math.Round(a[k] + (b[k]-a[k])*t)) }
	return fmt.Sprintf("#%02x%02x%02x", c(0), c(1), c(2))
}

// heatPoints draws the points coloured by value and returns the value range.
func (w *svgWriter) heatPoints(ss []series, sx, sy linear) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, p := range s.Points {
			lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
		}
	}
	scale := linear{lo, hi, 0, 1}
	w.WriteString(`<g class="heat">`)
	for _, s := range ss {
		for _, p := range decimate(s.Points, sx) {
			w.printf(`<circle cx="%s" cy="%s" r="3.5" fill="%s"/>`, num(sx.at(p.T)), num(sy.at(p.Value)), heatColor(scale.at(p.Value)))
		}
	}
	w.WriteString(`</g>`)
	return lo, hi
}

// heatLegend draws the colour scale, from the lowest to the highest value,
// ending at x1.
func (w *svgWriter) heatLegend(lo, hi float64, f func(float64) string, x1, y float64) {
	const n, bw = 5, 22.0
	loS, hiS := f(lo), f(hi)
	x0 := x1 - textWidth(hiS, fontSize) - 6 - n*bw
	w.WriteString(`<g class="legend">`)
	w.printf(`<text x="%s" y="%s" text-anchor="end">%s</text>`, num(x0-6), num(y+4), esc(loS))
	for i := range n {
		w.printf(`<rect x="%s" y="%s" width="%s" height="10" fill="%s"/>`,
			num(x0+float64(i)*bw), num(y-5), num(bw), heatColor(float64(i)/float64(n-1)))
	}
	w.printf(`<text x="%s" y="%s">%s</text>`, num(x0+n*bw+6), num(y+4), esc(hiS))
	w.WriteString(`</g>`)
}

// hoverBands lays transparent columns over the plot, each with a <title>
// that the browser shows as a tooltip: the time and every series' value.
func (w *svgWriter) hoverBands(ss []series, sx linear, py0, py1, px0, px1 float64, f func(float64) string, clock bool) {
	var xs []float64
	for _, s := range ss {
		for _, p := range s.Points {
			xs = append(xs, p.T)
		}
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	if len(xs) > maxBands {
		stride := (len(xs) + maxBands - 1) / maxBands
		var sub []float64
		for i := 0; i < len(xs); i += stride {
			sub = append(sub, xs[i])
		}
		xs = sub
	}
	w.WriteString(`<g class="hover">`)
	for i, t := range xs {
		left, right := px0, px1
		if i > 0 {
			left = (sx.at(xs[i-1]) + sx.at(t)) / 2
		}
		if i < len(xs)-1 {
			right = (sx.at(t) + sx.at(xs[i+1])) / 2
		}
		if right-left < 0.1 {
			continue
		}
		var tip strings.Builder
		if clock {
			tip.WriteString("t = " + clockLabel(t))
		} else {
			tip.WriteString("t = " + formatFloat(t, 3) + " s")
		}
		for _, s := range ss {
			if p, ok := nearest(s.Points, t); ok {
				name := s.Name
				if name == "" {
					name = "value"
				}
				tip.WriteString("\n" + name + ": " + f(p.Value))
			}
		}
		w.printf(`<rect class="hit" x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
			num(left), num(py0), num(right-left), num(py1-py0), esc(tip.String()))
	}
	w.WriteString(`</g>`)
}

// nearest returns the point of pts (sorted by T) closest in time to t.
func nearest(pts []Point, t float64) (Point, bool) {
	if len(pts) == 0 {
		return Point{}, false
	}
	i, _ := slices.BinarySearchFunc(pts, t, func(p Point, t float64) int {
		switch {
		case p.T < t:
			return -1
		case p.T > t:
			return 1
		}
		return 0
	})
	switch {
	case i == 0:
		return pts[0], true
	case i >= len(pts):
		return pts[len(pts)-1], true
	case t-pts[i-1].T <= pts[i].T-t:
		return pts[i-1], true
	}
	return pts[i], true
}

// barSeries is one set of bars, one value per category.
type barSeries struct {
	Name   string
	Color  string
	Values []float64
	// Labels, when set, are the value labels (e.g. exact money amounts).
	Labels []string
}

// barChart draws horizontal bars: one row per category, one bar per series
// in each row (grouped bars when there are several series).
type barChart struct {
	Label      string
	AxisLabel  string
	Categories []string
	// CatColors colours each category's bar (single series only).
	CatColors []string
	Series    []barSeries
	// Fmt formats values for labels and tooltips; nil uses formatValue.
	Fmt func(float64) string
	// Integer keeps the axis ticks on whole numbers (counts).
	Integer bool
}

func (c barChart) render() template.HTML {
	if len(c.Categories) == 0 || len(c.Series) == 0 {
		return emptyChart(c.Label, "No data")
	}
	f := c.Fmt
	if f == nil {
		f = formatValue
	}
	value := func(s barSeries, i int) (float64, bool) {
		if i >= len(s.Values) || math.IsNaN(s.Values[i]) || math.IsInf(s.Values[i], 0) {
			return 0, false
		}
		return s.Values[i], true
	}
	label := func(s barSeries, i int) string {
		if i < len(s.Labels) && s.Labels[i] != "" {
			return s.Labels[i]
		}
		if v, ok := value(s, i); ok {
			return f(v)
		}
		return missing
	}

	lo, hi, labelW, valW := 0.0, 0.0, 0.0, 0.0
	for i, cat := range c.Categories {
		labelW = math.Max(labelW, textWidth(cat, fontSize))
		for _, s := range c.Series {
			if v, ok := value(s, i); ok {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			valW = math.Max(valW, textWidth(label(s, i), fontSize))
		}
	}
	labelW = math.Min(labelW, maxBarLabel)
	ml := 10 + labelW + 10
	mr := valW + 16
	minStep := 0.0
	if c.Integer {
		minStep = 1
	}
	ticks, step := niceTicksMin(lo, hi, int(math.Max(2, (chartWidth-ml-mr)/110)), minStep)
	lo, hi = ticks[0], ticks[len(ticks)-1]
	tfmt := tickFormat(step, math.Max(math.Abs(lo), math.Abs(hi)))

	var items []legendItem
	if len(c.Series) > 1 {
		for _, s := range c.Series {
			items = append(items, legendItem{Name: s.Name, Color: s.Color})
		}
	}
	_, _, nrows := legendLayout(items, ml, chartWidth-mr)
	mt := 10.0
	if nrows > 0 {
		mt = 10 + float64(nrows)*legendRow + 4
	}
	const mb = 40.0
	barH, gap, pad := 18.0, 0.0, 8.0
	if n := len(c.Series); n > 1 {
		barH, gap, pad = 13, 2, 12
		if n > 4 {
			barH = 10
		}
	}
	ns := float64(len(c.Series))
	groupH := ns*barH + (ns-1)*gap
	rowH := groupH + pad
	height := mt + float64(len(c.Categories))*rowH + mb
	px0, px1, py0, py1 := ml, chartWidth-mr, mt, height-mb
	sx := linear{lo, hi, px0, px1}

	var w svgWriter
	w.open(c.Label, height)
	w.WriteString(`<g class="grid">`)
	for _, t := range ticks {
		x := sx.at(t)
		w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x), num(py0), num(x), num(py1))
	}
	w.WriteString(`</g><g class="axis x">`)
	w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(px0), num(py1), num(px1), num(py1))
	for _, t := range ticks {
		x := sx.at(t)
		w.printf(`<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x), num(py1), num(x), num(py1+4))
		w.printf(`<text x="%s" y="%s" text-anchor="middle">%s</text>`, num(x), num(py1+17), esc(tfmt(t)))
	}
	if c.AxisLabel != "" {
		w.printf(`<text class="axis-label" x="%s" y="%s" text-anchor="middle">%s</text>`, num((px0+px1)/2), num(height-6), esc(c.AxisLabel))
	}
	w.WriteString(`</g>`)

	x0 := sx.at(0)
	for i, cat := range c.Categories {
		top := py0 + float64(i)*rowH + pad/2
		short := truncate(cat, fontSize, labelW)
		w.printf(`<text class="cat" x="%s" y="%s" text-anchor="end"><title>%s</title>%s</text>`,
			num(px0-8), num(top+groupH/2+4), esc(cat), esc(short))
		for j, s := range c.Series {
			y := top + float64(j)*(barH+gap)
			color := s.Color
			if len(c.Series) == 1 && i < len(c.CatColors) && c.CatColors[i] != "" {
				color = c.CatColors[i]
			}
			v, ok := value(s, i)
			lbl := label(s, i)
			tip := cat + ": " + lbl
			if len(c.Series) > 1 {
				tip = cat + " — " + s.Name + ": " + lbl
			}
			if ok {
				xa, xb := math.Min(x0, sx.at(v)), math.Max(x0, sx.at(v))
				if v != 0 && xb-xa < 1 {
					xb = xa + 1 // keep tiny non-zero bars visible
				}
				w.printf(`<rect class="bar" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s</title></rect>`,
					num(xa), num(y), num(xb-xa), num(barH), color, esc(tip))
			}
			lx, anchor := sx.at(math.Max(v, 0))+5, "start"
			if v < 0 {
				lx, anchor = sx.at(math.Min(v, 0))-5, "end"
			}
			w.printf(`<text class="val" x="%s" y="%s" text-anchor="%s">%s</text>`, num(lx), num(y+barH/2+4), anchor, esc(lbl))
		}
	}
	w.printf(`<line class="zero" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x0), num(py0), num(x0), num(py1))
	if len(items) > 0 {
		w.legend(items, ml, chartWidth-mr, 10+legendRow/2)
	}
	return w.html()
}
