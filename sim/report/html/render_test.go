package html

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// reports are the three sample reports, by the name of their golden file.
// charts is the number of <figure class="chart"> elements a page must have.
var reports = []reportCase{
	{"run", func(w io.Writer) error { return WriteRun(w, sampleRun()) }, 5},
	{"compare", func(w io.Writer) error { return WriteCompare(w, sampleCompare()) }, 4},
	{"attack", func(w io.Writer) error { return WriteAttack(w, sampleAttack()) }, 6},
}

func render1(t *testing.T, write func(io.Writer) error) string {
	t.Helper()
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	for _, r := range reports {
		t.Run(r.name, func(t *testing.T) {
			got := render1(t, r.write)
			path := filepath.Join("testdata", r.name+".golden.html")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./sim/report/html -run TestGolden -update to create it)", err)
			}
			if got != string(want) {
				gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
				for i := 0; i < max(len(gl), len(wl)); i++ {
					var g, w string
					if i < len(gl) {
						g = gl[i]
					}
					if i < len(wl) {
						w = wl[i]
					}
					if g != w {
						c := 0
						for c < min(len(g), len(w)) && g[c] == w[c] {
							c++
						}
						from := max(0, c-60)
						t.Fatalf("%s differs from the rendered report at line %d, column %d:\n got: …%.160s\nwant: …%.160s\n(run with -update if the change is intended)",
							path, i+1, c+1, g[min(from, len(g)):], w[min(from, len(w)):])
					}
				}
			}
			if n := strings.Count(got, `<figure class="chart">`); n != r.charts {
				t.Errorf("%d charts, want %d", n, r.charts)
			}
			if n := strings.Count(got, "<svg "); n < r.charts {
				t.Errorf("%d <svg> elements for %d charts", n, r.charts)
			}
		})
	}
}

// badNumber matches what a NaN, an infinity or a huge coordinate would print.
var badNumber = regexp.MustCompile(`NaN|[Ii]nf|e\+\d|\d{8,}\.\d`)

func checkFinite(t *testing.T, name, out string) {
	t.Helper()
	// Only the SVG markup carries computed numbers; text may say anything.
	for _, svg := range regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(out, -1) {
		if m := badNumber.FindString(svg); m != "" {
			i := strings.Index(svg, m)
			t.Errorf("%s: chart has %q near %.200q", name, m, svg[max(0, i-80):])
		}
	}
	if !strings.Contains(out, "</html>") {
		t.Errorf("%s: document is not complete", name)
	}
}

func TestEmptyReports(t *testing.T) {
	cases := map[string]func(io.Writer) error{
		"run":     func(w io.Writer) error { return WriteRun(w, RunReport{}) },
		"compare": func(w io.Writer) error { return WriteCompare(w, CompareReport{}) },
		"attack":  func(w io.Writer) error { return WriteAttack(w, AttackReport{}) },
		"compare-policies-only": func(w io.Writer) error {
			return WriteCompare(w, CompareReport{Policies: []string{"a", "b"}, Metrics: []CompareMetric{{Name: "m"}}})
		},
	}
	for name, write := range cases {
		out := render1(t, write)
		checkFinite(t, name, out)
		if n := strings.Count(out, "No data") + strings.Count(out, "No fees"); n == 0 {
			t.Errorf("%s: empty charts do not say so", name)
		}
	}
}

// TestDegenerateSeries feeds one-point, constant, all-zero, negative and
// non-finite data through every chart.
func TestDegenerateSeries(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	shapes := map[string][]Point{
		"one point":      {{T: 5, Value: 3}},
		"one point at 0": {{T: 0, Value: 0}},
		"constant":       {{T: 0, Value: 7}, {T: 1, Value: 7}, {T: 2, Value: 7}},
		"zeros":          {{T: 0, Value: 0}, {T: 10, Value: 0}},
		"same time":      {{T: 3, Value: 1}, {T: 3, Value: 2}},
		"negative":       {{T: 0, Value: -4}, {T: 1, Value: -1}},
		"non-finite":     {{T: nan, Value: 1}, {T: 1, Value: nan}, {T: 2, Value: inf}, {T: inf, Value: 2}, {T: 3, Value: -inf}},
		"tiny":           {{T: 0, Value: 1e-12}, {T: 1e-9, Value: 2e-12}},
		"huge":           {{T: 0, Value: 9e15}, {T: 86400 * 3, Value: 1e16}},
		"unsorted":       {{T: 9, Value: 1}, {T: 1, Value: 5}, {T: 4, Value: 2}},
	}
	for name, pts := range shapes {
		run := RunReport{
			Throughput:        pts,
			Latency:           LatencySeries{P50: pts, P95: pts[:0], P99: pts},
			DeclinesByReason:  map[string]int64{"ZERO": 0},
			GreenPointsByKind: map[string]int64{"neg": -5, "big": math.MaxInt64},
			PaymentsByKind:    []KindCount{{Kind: "none"}},
		}
		checkFinite(t, name+"/run", render1(t, func(w io.Writer) error { return WriteRun(w, run) }))
		att := AttackReport{
			Latency:      AttackLatency{P50: pts, P90: pts, P99: pts, Max: pts},
			Throughput:   pts,
			SuccessRatio: pts,
			StatusCodes:  map[string]int64{"200": 0},
			Latencies:    []LatencyStat{{"p99", nan}, {"max", inf}},
		}
		checkFinite(t, name+"/attack", render1(t, func(w io.Writer) error { return WriteAttack(w, att) }))
	}
	cmp := CompareReport{
		Policies: []string{"a", "b", "c"},
		Metrics: []CompareMetric{
			{Name: "short", Values: []float64{1}, BetterIs: BetterHigher},
			{Name: "nan", Values: []float64{nan, inf, -inf}, BetterIs: BetterLower},
			{Name: "zero base", Values: []float64{0, 1, 2}, BetterIs: BetterLower},
		},
		DeclinesByReason: map[string]map[string]int64{"a": {"X": 0}},
		Fees:             []Fee{{Policy: "a", Party: "p", Currency: "", Minor: 0}, {Policy: "zz", Party: "q", Currency: "JPY", Minor: -3}},
		GreenPoints:      map[string]int64{"b": 0},
	}
	checkFinite(t, "compare", render1(t, func(w io.Writer) error { return WriteCompare(w, cmp) }))
}

const hostile = `<script>alert("x")</script>"'><img src=x onerror=alert(1)>&amp;`

// TestEscaping puts markup into every user-supplied string and checks that
// none of it reaches the page as markup.
func TestEscaping(t *testing.T) {
	h := hostile
	pts := []Point{{T: 0, Value: 1}, {T: 1, Value: 2}}
	run := RunReport{
		Title: h, Scenario: h, Policy: h,
		KPIs:              []KPI{{Label: h, Value: h, Unit: h}},
		Throughput:        pts,
		DeclinesByReason:  map[string]int64{h: 3},
		PaymentsByKind:    []KindCount{{Kind: h, Attempted: 2, Succeeded: 1, Declined: 1}},
		GreenPointsByKind: map[string]int64{h: 1},
		Invariants:        []Invariant{{Name: h, Detail: h}},
		Tables:            []Table{{Title: h, Columns: []string{h}, Rows: [][]string{{h, h}}}},
	}
	cmp := CompareReport{
		Title: h, Scenario: h, Policies: []string{h, "b"},
		Metrics:          []CompareMetric{{Name: h, Unit: h, Values: []float64{1, 2}, BetterIs: h}},
		DeclinesByReason: map[string]map[string]int64{h: {h: 1}},
		Fees:             []Fee{{Policy: h, Party: h, Currency: h, Minor: 100}},
		GreenPoints:      map[string]int64{h: 5},
		Settlement:       Table{Title: h, Columns: []string{h}, Rows: [][]string{{h}}},
	}
	att := AttackReport{
		Title: h, Target: h, Throughput: pts,
		StatusCodes:      map[string]int64{h: 1},
		DeclinesByReason: map[string]int64{h: 1},
		Latencies:        []LatencyStat{{Name: h, Millis: 1}},
	}
	outs := map[string]string{
		"run":     render1(t, func(w io.Writer) error { return WriteRun(w, run) }),
		"compare": render1(t, func(w io.Writer) error { return WriteCompare(w, cmp) }),
		"attack":  render1(t, func(w io.Writer) error { return WriteAttack(w, att) }),
	}
	for name, out := range outs {
		for _, bad := range []string{"<script", "<img", `"'>`, "alert(\"x\")"} {
			if strings.Contains(out, bad) {
				i := strings.Index(out, bad)
				t.Errorf("%s: unescaped %q in %.160q", name, bad, out[max(0, i-60):])
			}
		}
		if n := strings.Count(out, "&lt;script&gt;"); n < 3 {
			t.Errorf("%s: hostile string shown escaped only %d times", name, n)
		}
	}
}

// TestSelfContained checks that nothing in a report points outside the
// file: every src, href and url() is data: or a fragment, and a CSP forbids
// fetches anyway.
func TestSelfContained(t *testing.T) {
	ref := regexp.MustCompile(`(?i)(?:\s(?:src|href|xlink:href|action|poster|srcset)\s*=\s*["']?|url\(\s*["']?|@import\s+["']?)([^"'\s>)]*)`)
	for _, r := range reports {
		out := render1(t, r.write)
		for _, m := range ref.FindAllStringSubmatch(out, -1) {
			if !strings.HasPrefix(m[1], "data:") && !strings.HasPrefix(m[1], "#") {
				t.Errorf("%s: external reference %q", r.name, m[0])
			}
		}
		if !strings.Contains(out, `http-equiv="Content-Security-Policy" content="default-src 'none';`) {
			t.Errorf("%s: no Content-Security-Policy", r.name)
		}
		if strings.Contains(out, "<script") || strings.Contains(out, "<link rel=\"stylesheet") {
			t.Errorf("%s: has a script or a stylesheet link", r.name)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	cmp := sampleCompare()
	cmp.Metrics[4].Values[3] = 0 // JSON has no NaN
	for name, v := range map[string]any{"run": sampleRun(), "compare": cmp, "attack": sampleAttack()} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back := reflect.New(reflect.TypeOf(v))
		if err := json.Unmarshal(b, back.Interface()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(back.Elem().Interface(), v) {
			t.Errorf("%s: JSON round trip changed the report", name)
		}
	}
	b, _ := json.Marshal(AttackReport{Duration: 2 * time.Second})
	if !strings.Contains(string(b), `"duration":2000000000`) {
		t.Errorf("duration is not nanoseconds in JSON: %s", b)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run.html")
	if err := WriteRunFile(path, sampleRun()); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := render1(t, reports[0].write); string(got) != want {
		t.Error("file differs from WriteRun output")
	}
	if err := WriteCompareFile(filepath.Join(dir, "c.html"), sampleCompare()); err != nil {
		t.Fatal(err)
	}
	if err := WriteAttackFile(filepath.Join(dir, "a.html"), sampleAttack()); err != nil {
		t.Fatal(err)
	}
	// A failing render leaves the old file and no temporary file behind.
	boom := io.ErrUnexpectedEOF
	if err := WriteFile(path, func(io.Writer) error { return boom }); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v does not name %s", err, path)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, got) {
		t.Error("failed write damaged the existing report")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := WriteRunFile(filepath.Join(dir, "missing", "run.html"), RunReport{}); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// TestLongRunStaysSmall renders a day of per-second samples: decimation and
// the cap on hover targets keep the file small enough to open and mail.
func TestLongRunStaysSmall(t *testing.T) {
	var pts []Point
	for i := range 86_400 {
		pts = append(pts, Point{T: float64(i), Value: float64(i%97) + 0.5})
	}
	r := AttackReport{
		Latency:    AttackLatency{P50: pts, P90: pts, P99: pts, Max: pts},
		Throughput: pts, SuccessRatio: pts,
	}
	out := render1(t, func(w io.Writer) error { return WriteAttack(w, r) })
	checkFinite(t, "day", out)
	if len(out) > 1_500_000 {
		t.Errorf("a day of samples renders to %d bytes", len(out))
	}
	t.Logf("a day of per-second samples: %d KB", len(out)/1024)
}
