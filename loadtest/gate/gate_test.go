package gate

import (
	"math"
	"strings"
	"testing"
)

func doc(t testing.TB, name, js string) *Document {
	t.Helper()
	d, err := ParseDocument(name, []byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func rules(t testing.TB, yaml string) *Rules {
	t.Helper()
	r, err := ParseRules("rules.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseDocument(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{in: `{"a": 1}`},
		{in: ``, err: "x.json: empty file"},
		{in: `[1, 2]`, err: "expected a JSON object at the top, found an array"},
		{in: "{\n  \"a\": 1,\n  \"b\": }", err: "x.json:3:"},
		{in: `{"a": 1} {"b": 2}`, err: "more than one value"},
		{in: `{"a": 1`, err: "x.json: invalid JSON"},
	} {
		_, err := ParseDocument("x.json", []byte(tc.in))
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("ParseDocument(%q) error %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestLookup(t *testing.T) {
	d := doc(t, "s.json", `{
		"payments": {"attempted": 2000, "succeeded": 1998, "declined": 2},
		"declines": {"insufficient_funds": 2, "class.II.yearly": 1},
		"stages": [{"name": "produce", "ms": 12.5}],
		"invariants": {"money_conserved": true},
		"policy": "pboc-2018",
		"nothing": null,
		"huge": 1e400,
		"empty": {"attempted": 0, "succeeded": 0},
		"own": {"success_rate": 0.5},
		"payments2": {"success_rate": 0.25}
	}`)
	for _, tc := range []struct {
		path string
		want any
		err  string
	}{
		{path: "payments.attempted", want: 2000.0},
		{path: "payments.success_rate", want: 0.999},
		{path: "payments.decline_rate", want: 0.001},
		{path: `declines["class.II.yearly"]`, want: 1.0},
		{path: "stages[0].ms", want: 12.5},
		{path: `stages[0]["name"]`, want: "produce"},
		{path: "invariants.money_conserved", want: true},
		{path: "policy", want: "pboc-2018"},
		{path: "nothing", want: nil},
		{path: "huge", want: math.Inf(1)},
		{path: "payments.p99", err: "s.json: field payments.p99 does not exist: payments has keys attempted, declined, succeeded"},
		{path: "stages[1].ms", err: "stages has 1 elements"},
		{path: "policy.x", err: "policy is a string"},
		{path: "nope", err: "the document has keys"},
	} {
		got, err := d.Lookup(mustPath(tc.path))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Lookup(%s) error %v, want %q", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Lookup(%s): %v", tc.path, err)
			continue
		}
		if f, ok := got.(float64); ok && tc.want != nil {
			if w := tc.want.(float64); !(math.IsInf(w, 1) && math.IsInf(f, 1)) && math.Abs(f-w) > 1e-12 {
				t.Errorf("Lookup(%s) = %v, want %v", tc.path, got, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("Lookup(%s) = %v, want %v", tc.path, got, tc.want)
		}
	}
	// A document's own field wins over the derivation.
	d2 := doc(t, "own.json", `{"payments": {"success_rate": 0.5, "attempted": 10, "succeeded": 10}}`)
	if v, err := d2.Lookup(mustPath("payments.success_rate")); err != nil || v != 0.5 {
		t.Errorf("own success_rate = %v, %v; want 0.5", v, err)
	}
	// A derivation over a zero is an error, not a pass.
	d3 := doc(t, "zero.json", `{"payments": {"attempted": 0, "succeeded": 0}}`)
	if _, err := d3.Lookup(mustPath("payments.success_rate")); err == nil || !strings.Contains(err.Error(), "payments.attempted is 0") {
		t.Errorf("success_rate over zero attempts: %v", err)
	}
	// A derivation whose inputs are missing names the missing input.
	d4 := doc(t, "none.json", `{"payments": {"attempted": 5}}`)
	if _, err := d4.Lookup(mustPath("payments.success_rate")); err == nil || !strings.Contains(err.Error(), "payments.succeeded does not exist") {
		t.Errorf("success_rate without succeeded: %v", err)
	}
}

func TestEvaluateErrors(t *testing.T) {
	res := doc(t, "res.json", `{"latency_ms": {"p99": 20, "p50": 5}, "ok": true, "policy": "x", "n": null, "zero": 0}`)
	base := doc(t, "base.json", `{"latency_ms": {"p99": 18}, "ok": true}`)
	for _, tc := range []struct {
		name, yaml string
		baseline   bool
		err        []string
	}{
		{name: "missing field", yaml: "thresholds: [latency_ms.p999 < 25]", err: []string{"latency_ms.p999 does not exist", "res.json", "rules.yaml:1"}},
		{name: "all missing fields reported", yaml: "thresholds: [a < 1, b < 2]", err: []string{"field a does not exist", "field b does not exist"}},
		{name: "bool vs number", yaml: "thresholds: [ok == 1]", err: []string{"ok is a boolean", "cannot compare a boolean with a number"}},
		{name: "string ordered", yaml: "thresholds: ['policy < 3']", err: []string{"policy is a string"}},
		{name: "null", yaml: "thresholds: [n == 0]", err: []string{"n is null"}},
		{name: "ratio over zero", yaml: "thresholds: [latency_ms.p99 / zero < 3]", err: []string{"zero is 0"}},
		{name: "missing in baseline", yaml: "tolerances: {latency_ms.p50: +10%}", baseline: true, err: []string{"base.json: field latency_ms.p50 does not exist"}},
		{name: "tolerance on bool", yaml: "tolerances: {ok: 1}", baseline: true, err: []string{"tolerances apply to numbers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Results: []*Document{res}, Rules: rules(t, tc.yaml)}
			if tc.baseline {
				cfg.Baselines = []*Document{base}
			}
			rep, err := Evaluate(cfg)
			if err == nil {
				t.Fatalf("Evaluate passed with %+v, want an error", rep)
			}
			for _, s := range tc.err {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
	if _, err := Evaluate(Config{Results: []*Document{res}}); err == nil || !strings.Contains(err.Error(), "nothing to check") {
		t.Errorf("no rules: %v", err)
	}
	if _, err := Evaluate(Config{Rules: rules(t, "thresholds: [a < 1]")}); err == nil {
		t.Error("no results: no error")
	}
}

func TestTolerances(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tol       string
		base, now float64
		pass      bool
		limit     string
	}{
		{"throughput within", "throughput.per_s: -10%", 100, 90, true, ">= 90 (-10%)"},
		{"throughput just out", "throughput.per_s: -10%", 100, 89.99, false, ">= 90 (-10%)"},
		{"throughput better", "throughput.per_s: -10%", 100, 500, true, ">= 90 (-10%)"},
		{"baseline 20% faster", "throughput.per_s: -10%", 60000, 50000, false, ">= 54000 (-10%)"},
		{"latency within", "latency_ms.p99: +20%", 10, 12, true, "<= 12 (+20%)"},
		{"latency out", "latency_ms.p99: +20%", 10, 12.5, false, "<= 12 (+20%)"},
		{"latency better", "latency_ms.p99: +20%", 10, 1, true, "<= 12 (+20%)"},
		{"unsigned latency", "latency_ms.p99: 20%", 10, 12.5, false, "<= 12 (20%)"},
		{"absolute", "latency_ms.p99: +2", 10, 12, true, "<= 12 (+2)"},
		{"two-sided in", "events.written: ±1%", 1000, 1010, true, "990..1010 (±1%)"},
		{"two-sided low", "events.written: ±1%", 1000, 989, false, "990..1010 (±1%)"},
		{"two-sided high", "events.written: ±1%", 1000, 1011, false, "990..1010 (±1%)"},
		{"unknown unsigned is two-sided", "events.written: 5", 100, 94, false, "95..105 (5)"},
		{"exact", "payments.attempted: ±0", 100, 100, true, "100..100 (±0)"},
		{"zero baseline absolute", "errors.count: +0", 0, 1, false, "<= 0 (+0)"},
		{"zero baseline percent", "errors.count: +50%", 0, 0, true, "<= 0 (+50%)"},
		{"negative baseline", "x.delta_per_s: -10%", -100, -105, true, ">= -110 (-10%)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			metric, _, _ := strings.Cut(tc.tol, ":")
			p := mustPath(metric)
			mk := func(name string, v float64) *Document {
				d := &Document{Name: name, Root: map[string]any{}}
				cur := d.Root.(map[string]any)
				for i, s := range p {
					if i == len(p)-1 {
						cur[s.Key] = v
					} else {
						next := map[string]any{}
						cur[s.Key] = next
						cur = next
					}
				}
				return d
			}
			rep, err := Evaluate(Config{
				Results:   []*Document{mk("now.json", tc.now)},
				Baselines: []*Document{mk("base.json", tc.base)},
				Rules:     rules(t, "tolerances: {"+tc.tol+"}"),
			})
			if err != nil {
				t.Fatal(err)
			}
			c := rep.Checks[0]
			if c.Pass != tc.pass || c.Limit != tc.limit || rep.Pass != tc.pass {
				t.Errorf("pass=%v limit=%q, want pass=%v limit=%q (%s)", c.Pass, c.Limit, tc.pass, tc.limit, c.Message)
			}
			if !c.Pass && !strings.Contains(c.Message, metric) {
				t.Errorf("message %q does not name %s", c.Message, metric)
			}
		})
	}
}

func TestMedianOfRuns(t *testing.T) {
	runs := []*Document{
		doc(t, "r1.json", `{"tp": {"per_s": 100}, "pipe": 40, "ceil": 100, "ok": true, "policy": "a"}`),
		doc(t, "r2.json", `{"tp": {"per_s": 10},  "pipe": 30, "ceil": 50,  "ok": false, "policy": "a"}`),
		doc(t, "r3.json", `{"tp": {"per_s": 90},  "pipe": 45, "ceil": 100, "ok": true, "policy": "a"}`),
	}
	r := rules(t, `thresholds:
  - tp.per_s >= 90
  - pipe / ceil >= 0.45
  - ok == true
  - policy == "a"
`)
	rep, err := Evaluate(Config{Results: runs, Rules: r})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		now  any
		pass bool
	}{
		{90.0, true},   // median of 100, 10, 90; the outlier run does not fail it
		{0.45, true},   // ratios per run 0.4, 0.6, 0.45: median 0.45
		{false, false}, // a boolean must hold in every run
		{"a", true},
	}
	for i, w := range want {
		c := rep.Checks[i]
		if c.Now != w.now || c.Pass != w.pass {
			t.Errorf("%s: now=%v pass=%v, want %v %v", c.Name, c.Now, c.Pass, w.now, w.pass)
		}
	}
	if msg := rep.Checks[2].Message; !strings.Contains(msg, "run 2 of 3, r2.json") {
		t.Errorf("message %q does not name the failing run", msg)
	}
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
}

func TestWarnings(t *testing.T) {
	m := func(cpu, commit string) string {
		return `{"x": {"per_s": 1}, "manifest": {"cpu_model": "` + cpu + `", "commit": "` + commit + `", "cpu_count": 2}}`
	}
	r := rules(t, "tolerances: {x.per_s: -10%}")
	for _, tc := range []struct {
		name      string
		now, base []string
		want      []string
	}{
		{"same", []string{m("A", "c1")}, []string{m("A", "c1")}, nil},
		{"cpu differs", []string{m("A", "c2")}, []string{m("B", "c1")}, []string{`cpu_model: "B" (baseline) vs "A" (now)`, "commit"}},
		{"no baseline manifest", []string{m("A", "c1")}, []string{`{"x": {"per_s": 1}}`}, []string{"base0.json has no manifest"}},
		{"no result manifest", []string{`{"x": {"per_s": 1}}`}, []string{m("A", "c1")}, []string{"now0.json has no manifest"}},
		{"runs differ", []string{m("A", "c1"), m("B", "c1")}, []string{m("A", "c1")}, []string{"now1.json manifest differs from now0.json"}},
		{"bad manifest", []string{`{"x": {"per_s": 1}, "manifest": {"cpu_count": "two"}}`}, []string{m("A", "c1")}, []string{"manifest unreadable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Rules: r}
			for i, s := range tc.now {
				cfg.Results = append(cfg.Results, doc(t, "now"+string(rune('0'+i))+".json", s))
			}
			for i, s := range tc.base {
				cfg.Baselines = append(cfg.Baselines, doc(t, "base"+string(rune('0'+i))+".json", s))
			}
			rep, err := Evaluate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			all := strings.Join(rep.Warnings, "\n")
			if len(tc.want) == 0 && all != "" {
				t.Errorf("warnings %q, want none", all)
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q do not contain %q", all, w)
				}
			}
		})
	}
	// Tolerances without a baseline are reported, not silently passed.
	rep, err := Evaluate(Config{Results: []*Document{doc(t, "a.json", m("A", "c"))}, Rules: rules(t, "thresholds: [x.per_s > 0]\ntolerances: {x.per_s: -10%}")})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "1 tolerance(s) not checked") {
		t.Errorf("warnings %q", rep.Warnings)
	}
}
