package loadtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParseTemplate: any bytes are refused with an error or give a
// template whose requests render without panicking.
func FuzzParseTemplate(f *testing.F) {
	for _, g := range []string{"templates/*.yaml", "testdata/templates/*.yaml"} {
		files, _ := filepath.Glob(g)
		for _, p := range files {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("request: {url: x}\noutcome: {settled: [200]}\n"))
	f.Add([]byte("steps:\n  - name: a\n    request: {url: '{{.Steps.a.body.x}}'}\n    outcome: {settled: [200], pending: [202]}\n    poll: {interval: 1s, attempts: 2}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tpl, err := ParseTemplate("fuzz.yaml", data)
		if err != nil {
			if tpl != nil {
				t.Fatal("a template and an error")
			}
			if !strings.HasPrefix(err.Error(), "template fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(tpl.Steps) == 0 || !tpl.Steps[len(tpl.Steps)-1].Final {
			t.Fatalf("no final step: %+v", tpl.Steps)
		}
		v := Vars{Target: "http://h", From: "wallet-1", To: "merchant-2", Amount: 5, Currency: "CNY", Kind: "scan_mpm", Key: "k"}
		for _, s := range tpl.Steps {
			_, _ = s.Request.Render(&v)
			_, _ = s.Outcome.Classify(200, func() any { return map[string]any{} }, false)
		}
		if tpl.Balance != nil {
			_, _ = tpl.Balance.Request.Render(&v)
		}
	})
}

// FuzzJSONPath: a path that parses reads back the value planted at it in
// a document built from its own segments; lookups never panic.
func FuzzJSONPath(f *testing.F) {
	for _, s := range []string{"$", "$.a", "$.a.b[0]", "$['a b'][2].c", "$[0]", `$["x"]`, "$.", "$..a", "$.a[", "a.b", "$.transfer.id"} {
		f.Add(s, []byte(`{"a":{"b":[1,"two",{"c":3}]},"transfer":{"id":"t-1"}}`))
	}
	f.Fuzz(func(t *testing.T, s string, doc []byte) {
		p, err := ParseJSONPath(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Fatalf("String %q, parsed from %q", p.String(), s)
		}
		if d, err := decodeJSON(doc); err == nil {
			_, _ = p.Lookup(d)
			_, _ = p.Int(d)
			_, _ = p.Text(d)
		}
		// Plant a value at the path and read it back.
		var root any = "leaf"
		for i := len(p.path) - 1; i >= 0; i-- {
			seg := p.path[i]
			if seg.IsIndex {
				if seg.Index > 1000 {
					return
				}
				arr := make([]any, seg.Index+1)
				arr[seg.Index] = root
				root = arr
			} else {
				root = map[string]any{seg.Key: root}
			}
		}
		got, err := p.Lookup(root)
		if err != nil || got != "leaf" {
			t.Fatalf("%s: got %v, %v", s, got, err)
		}
	})
}

// FuzzParseThreshold: a threshold that parses has a metric, an operator
// and a window of at least a second (but 'unexplained', which has none).
func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"p99 > 50ms over 10s", "errors > 5% over 30s", "unexplained > 0", "mean <= 2ms", "errors >= 0.5", "p50 > 1s over 1h", "p99 > 50", "errors > 150%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThreshold(s)
		if err != nil {
			return
		}
		if th.Metric == "unexplained" {
			if th.Window != 0 {
				t.Fatalf("%q: unexplained with a window", s)
			}
		} else if th.Window < time.Second {
			t.Fatalf("%q: window %s", s, th.Window)
		}
		_ = th.holds(th.Value)
	})
}

// FuzzTag: whatever a reason holds, the tag reads back its form, step and
// outcome.
func FuzzTag(f *testing.F) {
	f.Add("insufficient_funds", "400 malformed_json")
	f.Add("a;b=c#d", "")
	f.Fuzz(func(t *testing.T, reason, want string) {
		tg := parseTag(tag(UnknownWallet, 3, "pay", "unexpected", reason, want)[1:])
		if !tg.ok || tg.form != UnknownWallet || tg.step != 3 || tg.outcome != "unexpected" {
			t.Fatalf("%+v", tg)
		}
		if strings.ContainsAny(tg.reason, ";#=") || bytes.ContainsAny([]byte(tg.want), ";#=") {
			t.Fatalf("separators leaked: %+v", tg)
		}
	})
}
