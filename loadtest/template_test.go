package loadtest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShippedTemplateMatchesBuiltin: the shipped walletsim.yaml sends the
// requests the hand-written encoder sends, byte for byte (method, path,
// headers, body), invalid forms included, with and without a token.
func TestShippedTemplateMatchesBuiltin(t *testing.T) {
	tpl, err := LoadTemplate(DefaultTemplate)
	if err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{"", "s3cret"} {
		cfg := StreamConfig{Scenario: quickstart(t), Target: "http://127.0.0.1:1", Token: token, Nonce: "n", InvalidShare: 0.3, Shards: 1}
		a, err := NewStream(cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := NewStream(cfg)
		want := takeTargets(t, a, 5000)
		forms := templateForms(tpl)
		seen := map[Form]int{}
		for i, w := range want {
			p := b.nextPayment(tpl, forms)
			if p.err != nil {
				t.Fatalf("request %d: %v", i, p.err)
			}
			if p.form == Valid {
				b.answered(p.vars.Key)
			}
			seen[p.form]++
			if got := p.first.URL + "#" + p.form.String(); got != w.URL || p.first.Method != w.Method {
				t.Fatalf("request %d: %s %s, builtin %s %s", i, p.first.Method, got, w.Method, w.URL)
			}
			if !bytes.Equal(p.first.Body, w.Body) {
				t.Fatalf("request %d (%s): body\n%s\nbuiltin\n%s", i, p.form, clipString(string(p.first.Body), 300), clipString(string(w.Body), 300))
			}
			if len(p.first.Header) != len(w.Header) {
				t.Fatalf("request %d: headers %v, builtin %v", i, p.first.Header, w.Header)
			}
			for k, v := range w.Header {
				if p.first.Header.Get(k) != v[0] {
					t.Fatalf("request %d: header %s %q, builtin %q", i, k, p.first.Header.Get(k), v[0])
				}
			}
		}
		if len(seen) != int(NumForms) {
			t.Fatalf("forms seen %v: want every form", seen)
		}
	}
}

// TestTemplateErrors: bad templates are refused naming the key and the
// line of the file.
func TestTemplateErrors(t *testing.T) {
	const good = `request:
  method: POST
  url: "{{.Target}}/pay"
  headers: {Content-Type: application/json}
  body: '{"from":"{{.From}}","amount":{{.Amount}}}'
outcome:
  settled: [200, 201]
  declined: [402]
  reason: $.error
balance:
  url: "{{.Target}}/accounts/{{.Account}}"
  value: $.balance
`
	if _, err := ParseTemplate("good.yaml", []byte(good)); err != nil {
		t.Fatalf("good template: %v", err)
	}
	for _, c := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown top key", good + "retries: 3\n", []string{"good.yaml:13", `unknown key "retries"`, "request, outcome"}},
		{"unknown nested key", strings.Replace(good, "  reason:", "  reasn:", 1), []string{"good.yaml:9", `unknown key "reasn" in outcome`}},
		{"unknown key in steps", "steps:\n  - name: a\n    request: {url: x}\n    outcome: {settled: [200]}\n    retry: 1\n", []string{":5", `unknown key "retry" in steps[0]`}},
		{"body does not parse", strings.Replace(good, `{{.Amount}}}'`, `{{.Amount}'`, 1), []string{"good.yaml:5", "request.body", "does not parse"}},
		{"block body does not parse", "request:\n  url: x\n  body: |\n    {\n      \"a\": {{.From\n    }\noutcome: {settled: [200]}\n", []string{"good.yaml:6", "request.body"}},
		{"unknown variable", strings.Replace(good, "{{.From}}", "{{.Frm}}", 1), []string{"Frm"}},
		{"unknown function", strings.Replace(good, "{{.From}}", "{{upper .From}}", 1), []string{"good.yaml:5", `function "upper" not defined`}},
		{"bad JSONPath", strings.Replace(good, "$.balance", "balance", 1), []string{"good.yaml:12", "balance.value", "must start with $"}},
		{"not a status", strings.Replace(good, "[402]", "[42]", 1), []string{"good.yaml:8", "42 is not an HTTP status"}},
		{"status twice", strings.Replace(good, "[402]", "[201]", 1), []string{"201 is also in settled"}},
		{"no settled", strings.Replace(good, "settled: [200, 201]", "settled: []", 1), []string{"outcome.settled"}},
		{"both forms", good + "steps:\n  - name: a\n", []string{"steps exclude"}},
		{"unknown form", good + "invalid:\n  bad_json: {status: 400}\n", []string{`unknown form "bad_json"`}},
		{"wrong type", strings.Replace(good, "[402]", "nope", 1), []string{"good.yaml", "cannot unmarshal"}},
		{"empty", "", []string{"empty template"}},
		{"not yaml", "request: [", []string{"good.yaml"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseTemplate("good.yaml", []byte(c.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestShippedTemplatesLoad: every template in loadtest/templates parses,
// by file path as by shipped name.
func TestShippedTemplatesLoad(t *testing.T) {
	files, _ := filepath.Glob("templates/*.yaml")
	if len(files) < 2 {
		t.Fatalf("templates: %v", files)
	}
	for _, f := range files {
		if _, err := LoadTemplate(f); err != nil {
			t.Error(err)
		}
		if _, err := LoadTemplate(filepath.Base(f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := LoadTemplate("no-such.yaml"); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing template: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// TestDocsTemplates: the whole templates in docs/templates.md parse.
func TestDocsTemplates(t *testing.T) {
	b, err := os.ReadFile("../docs/templates.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, block := range strings.Split(string(b), "```yaml\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		if !strings.HasPrefix(block, "request:") && !strings.HasPrefix(block, "steps:") {
			continue
		}
		n++
		if _, err := ParseTemplate("docs/templates.md", []byte(block)); err != nil {
			t.Errorf("%v\n%s", err, block)
		}
	}
	if n < 2 {
		t.Fatalf("%d templates found in docs/templates.md", n)
	}
}
