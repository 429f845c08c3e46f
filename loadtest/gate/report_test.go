package gate

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func mustLoad(t testing.TB, path string) *Document {
	t.Helper()
	d, err := LoadDocument(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sampleReport gates testdata/summary.json against testdata/baseline.json
// with testdata/thresholds.yaml: every threshold passes, throughput fell 17%
// against a -10% tolerance, and the CPU differs.
func sampleReport(t testing.TB) *Report {
	t.Helper()
	rules, err := LoadRules("testdata/thresholds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(Config{
		Results:   []*Document{mustLoad(t, "testdata/summary.json")},
		Baselines: []*Document{mustLoad(t, "testdata/baseline.json")},
		Rules:     rules,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./loadtest/gate/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test ./loadtest/gate/ -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	rep := sampleReport(t)
	for _, tc := range []struct {
		file  string
		write func(*Report, *bytes.Buffer) error
	}{
		{"report.txt", func(r *Report, b *bytes.Buffer) error { return r.WriteTable(b) }},
		{"report.xml", func(r *Report, b *bytes.Buffer) error { return r.WriteJUnit(b) }},
		{"report.md", func(r *Report, b *bytes.Buffer) error { return r.WriteMarkdown(b) }},
		{"report.json", func(r *Report, b *bytes.Buffer) error { return r.WriteJSON(b) }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(rep, &b); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, b.Bytes())
		})
	}
}

func TestSampleVerdicts(t *testing.T) {
	rep := sampleReport(t)
	if rep.Pass {
		t.Fatal("report passes; throughput fell 17% against a -10% tolerance")
	}
	failed := map[string]bool{}
	for _, c := range rep.Checks {
		if !c.Pass {
			failed[c.Name] = true
		}
	}
	if len(failed) != 1 || !failed["throughput.payments_per_s -10%"] {
		t.Errorf("failed checks = %v, want only throughput.payments_per_s -10%%", failed)
	}
	if len(rep.Checks) != 14 {
		t.Errorf("%d checks, want 9 thresholds + 5 tolerances", len(rep.Checks))
	}
	var warned bool
	for _, w := range rep.Warnings {
		if strings.Contains(w, "cpu_model") && strings.Contains(w, "AMD EPYC 7B13") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning about the differing cpu_model: %q", rep.Warnings)
	}
}

// JUnit as a CI system reads it.
type xSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []xSuite `xml:"testsuite"`
}

type xSuite struct {
	Name     string  `xml:"name,attr"`
	Tests    int     `xml:"tests,attr"`
	Failures int     `xml:"failures,attr"`
	Cases    []xCase `xml:"testcase"`
}

type xCase struct {
	Name      string    `xml:"name,attr"`
	Classname string    `xml:"classname,attr"`
	Failure   *xFailure `xml:"failure"`
}

type xFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func TestJUnitParses(t *testing.T) {
	rep := sampleReport(t)
	var b bytes.Buffer
	if err := rep.WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
	var got xSuites
	if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("JUnit output is not XML: %v\n%s", err, b.String())
	}
	if len(got.Suites) != 1 {
		t.Fatalf("%d testsuites, want 1", len(got.Suites))
	}
	s := got.Suites[0]
	if s.Tests != len(rep.Checks) || len(s.Cases) != len(rep.Checks) || s.Failures != 1 {
		t.Fatalf("suite tests=%d cases=%d failures=%d, want %d, %d, 1", s.Tests, len(s.Cases), s.Failures, len(rep.Checks), len(rep.Checks))
	}
	for i, c := range s.Cases {
		want := rep.Checks[i]
		if c.Name != want.Name {
			t.Errorf("testcase %d name %q, want %q", i, c.Name, want.Name)
		}
		if (c.Failure != nil) == want.Pass {
			t.Errorf("testcase %q: failure=%v but pass=%v", c.Name, c.Failure != nil, want.Pass)
		}
		if c.Failure != nil && !strings.Contains(c.Failure.Message, "throughput.payments_per_s fell 16.7%") {
			t.Errorf("failure message %q does not say what fell by how much", c.Failure.Message)
		}
	}
}

// mdRows splits the Markdown table's body rows into cells.
func mdRows(t *testing.T, md string) [][]string {
	t.Helper()
	var rows [][]string
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		line = strings.ReplaceAll(strings.Trim(line, "|"), `\|`, "\x00")
		var cells []string
		for _, c := range strings.Split(line, "|") {
			cells = append(cells, strings.ReplaceAll(strings.TrimSpace(c), "\x00", "|"))
		}
		rows = append(rows, cells)
	}
	if len(rows) < 2 || rows[1][0] != "---" {
		t.Fatalf("no Markdown table in:\n%s", md)
	}
	return rows
}

func TestMarkdownRows(t *testing.T) {
	rep := sampleReport(t)
	var b bytes.Buffer
	if err := rep.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	rows := mdRows(t, b.String())
	if got := strings.Join(rows[0], ","); got != "metric,baseline,now,change,limit,verdict" {
		t.Errorf("header %q", got)
	}
	body := rows[2:]
	if len(body) != len(rep.Checks) {
		t.Fatalf("%d rows, want %d", len(body), len(rep.Checks))
	}
	byName := map[string][]string{}
	for _, r := range body {
		if len(r) != 6 {
			t.Fatalf("row %q has %d cells, want 6", r, len(r))
		}
		byName[r[0]+" "+r[4]] = r
	}
	want := [][]string{
		{"`latency_ms.p99`", "-", "19.5", "-", "`< 25`", "✅ pass"},
		{"`payments.success_rate`", "-", "0.9995", "-", "`>= 0.999`", "✅ pass"},
		{"`throughput.payments_per_s`", "60000", "50000", "-16.7%", "`>= 54000 (-10%)`", "❌ **FAIL**"},
		{"`latency_ms.p99`", "18", "19.5", "+8.3%", "`<= 21.6 (+20%)`", "✅ pass"},
		{"`pipeline.payments_per_s / ceiling.produce_consume_msgs_per_s`", "0.1071", "0.1042", "-2.8%", "`>= 0.09643 (-10%)`", "✅ pass"},
	}
	for _, w := range want {
		got, ok := byName[w[0]+" "+w[4]]
		if !ok {
			t.Errorf("no row for %s %s", w[0], w[4])
			continue
		}
		if strings.Join(got, " | ") != strings.Join(w, " | ") {
			t.Errorf("row\n got %q\nwant %q", got, w)
		}
	}
}

func TestJSONReport(t *testing.T) {
	rep := sampleReport(t)
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Pass   bool
		Checks []struct {
			Name      string
			Pass      bool
			Now       any
			ChangePct *float64 `json:"change_pct"`
		}
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Pass || len(got.Checks) != len(rep.Checks) {
		t.Fatalf("pass=%v checks=%d", got.Pass, len(got.Checks))
	}
	for _, c := range got.Checks {
		if c.Name == "throughput.payments_per_s -10%" && (c.Pass || c.ChangePct == nil || *c.ChangePct > -16.6 || *c.ChangePct < -16.7) {
			t.Errorf("throughput check %+v", c)
		}
	}
}
