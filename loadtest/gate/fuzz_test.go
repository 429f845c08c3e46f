package gate

import (
	"bytes"
	"math"
	"os"
	"reflect"
	"testing"
)

// Run one with: go test ./loadtest/gate/ -run '^$' -fuzz FuzzParseExpr -fuzztime 30s

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"latency_ms.p99", "a.b[0].c", `declines["insufficient_funds"]`, `a['x.y'].z`,
		`a."b.c"`, `["2xx"].count`, "codes.200", "m[1][2]", `a["\u00e9\n"]`, "a[", `a["`, "..", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		again, err := ParsePath(p.String())
		if err != nil {
			t.Fatalf("%q parsed, but its canonical form %q does not: %v", s, p.String(), err)
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("%q: canonical form %q parses to %#v, want %#v", s, p.String(), again, p)
		}
	})
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{
		"latency_ms.p99 < 25", "payments.success_rate >= 0.999", "invariants.money_conserved == true",
		"throughput.payments_per_s > 50000", `policy == "pboc-2018"`, `policy != 'x'`, "25 > a.b",
		"a / b >= 0.5", `declines["x.y"] <= 1e3`, "a.b != c.d", "x == -0.5", "x < 5_000", "true == x",
		"a <", "= 3", "a < 1 2", `a == "`, "a[0] < 1", "x > .5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpr(s)
		if err != nil {
			return
		}
		again, err := ParseExpr(e.String())
		if err != nil {
			t.Fatalf("%q parsed, but its canonical form %q does not: %v", s, e.String(), err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("%q: canonical form %q parses to %#v, want %#v", s, e.String(), again, e)
		}
		if f, ok := e.Right.Lit.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			t.Fatalf("%q: literal %v", s, f)
		}
	})
}

func FuzzParseTolerance(f *testing.F) {
	for _, s := range []string{"-10%", "+5%", "±2", "+-2", "+/-1.5%", "10%", "0", "", "%", "1e3%", "-.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tol, err := ParseTolerance(s)
		if err != nil {
			return
		}
		if tol.Amount < 0 || math.IsNaN(tol.Amount) || math.IsInf(tol.Amount, 0) {
			t.Fatalf("%q: amount %v", s, tol.Amount)
		}
	})
}

func FuzzParseRules(f *testing.F) {
	seed, err := os.ReadFile("testdata/thresholds.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	for _, s := range []string{
		"thresholds: [a < 1]\n",
		"tolerances: {a.per_s: -10%}\ndirections: {a.per_s: higher}\n",
		"tolerance: {}\n",
		"thresholds:\n  - &x a < 1\n  - *x\n",
		"tolerances: {a: [1]}\n",
		"directions: {a: sideways}\ntolerances: {a: 5%}\n",
		"---\n---\n",
		"thresholds: !!binary aGVsbG8=\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRules("fuzz.yaml", data)
		if err != nil {
			if !bytes.Contains([]byte(err.Error()), []byte("fuzz.yaml")) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(r.Thresholds) == 0 && len(r.Tolerances) == 0 {
			t.Fatal("loaded rules with nothing to check")
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("loaded rules fail Validate: %v", err)
		}
		for _, th := range r.Thresholds {
			if _, err := ParseExpr(th.Expr.String()); err != nil {
				t.Fatalf("threshold %q does not parse back: %v", th.Expr, err)
			}
		}
	})
}

// FuzzEvaluate feeds arbitrary JSON to a fixed set of rules: any outcome
// but a panic is fine, and a report always has one check per rule.
func FuzzEvaluate(f *testing.F) {
	for _, name := range []string{"testdata/summary.json", "testdata/baseline.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"latency_ms": {"p99": "x"}, "payments": {"attempted": 0}}`))
	f.Add([]byte(`{"latency_ms": [1], "manifest": 3}`))
	r, err := LoadRules("testdata/thresholds.yaml")
	if err != nil {
		f.Fatal(err)
	}
	base, err := LoadDocument("testdata/baseline.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDocument("fuzz.json", data)
		if err != nil {
			return
		}
		rep, err := Evaluate(Config{Results: []*Document{d}, Baselines: []*Document{base}, Rules: r})
		if err != nil {
			return
		}
		if len(rep.Checks) != len(r.Thresholds)+len(r.Tolerances) {
			t.Fatalf("%d checks for %d rules", len(rep.Checks), len(r.Thresholds)+len(r.Tolerances))
		}
		var b bytes.Buffer
		for _, w := range []func() error{
			func() error { return rep.WriteTable(&b) }, func() error { return rep.WriteJUnit(&b) },
			func() error { return rep.WriteMarkdown(&b) }, func() error { return rep.WriteJSON(&b) },
		} {
			if err := w(); err != nil {
				t.Fatal(err)
			}
		}
	})
}
