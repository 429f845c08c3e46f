package api

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The tests below hold the handlers to openapi.json: every route the
// server has is documented, every documented operation is served, and
// every answer's status is documented for its operation with a body that
// validates against the documented schema.

type spec struct {
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Schemas map[string]schema `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	RequestBody *struct {
		Content map[string]struct {
			Example json.RawMessage `json:"example"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]struct {
			Schema schema `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

// schema is the subset of OpenAPI 3.0 schemas the document uses.
type schema struct {
	Ref                  string            `json:"$ref"`
	Type                 string            `json:"type"`
	Required             []string          `json:"required"`
	Properties           map[string]schema `json:"properties"`
	AdditionalProperties *bool             `json:"additionalProperties"`
	Enum                 []any             `json:"enum"`
	OneOf                []schema          `json:"oneOf"`
	Minimum              *float64          `json:"minimum"`
	Maximum              *float64          `json:"maximum"`
	Pattern              string            `json:"pattern"`
	MinLength            *int              `json:"minLength"`
	MaxLength            *int              `json:"maxLength"`
}

func loadSpec(t *testing.T) *spec {
	t.Helper()
	var s spec
	if err := json.Unmarshal(OpenAPI, &s); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return &s
}

// validate checks v against sc; it returns what does not fit.
func (s *spec) validate(sc schema, v any, at string) []string {
	if sc.Ref != "" {
		name := strings.TrimPrefix(sc.Ref, "#/components/schemas/")
		ref, ok := s.Components.Schemas[name]
		if !ok {
			return []string{at + ": unresolved " + sc.Ref}
		}
		return s.validate(ref, v, at)
	}
	if len(sc.OneOf) > 0 {
		n := 0
		var why []string
		for _, o := range sc.OneOf {
			errs := s.validate(o, v, at)
			if len(errs) == 0 {
				n++
			}
			why = append(why, errs...)
		}
		if n != 1 {
			return append([]string{fmt.Sprintf("%s: matches %d of oneOf", at, n)}, why...)
		}
		return nil
	}
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, a...)) }
	switch sc.Type {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			bad("want an object, got %T", v)
			return errs
		}
		for _, r := range sc.Required {
			if _, ok := m[r]; !ok {
				bad("missing required %q", r)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p, ok := sc.Properties[k]
			if !ok {
				if sc.AdditionalProperties != nil && !*sc.AdditionalProperties {
					bad("undocumented property %q", k)
				}
				continue
			}
			errs = append(errs, s.validate(p, m[k], at+"."+k)...)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("want a string, got %T", v)
			return errs
		}
		if sc.Pattern != "" && !regexp.MustCompile(sc.Pattern).MatchString(str) {
			bad("%q does not match %s", str, sc.Pattern)
		}
		if sc.MinLength != nil && len(str) < *sc.MinLength || sc.MaxLength != nil && len(str) > *sc.MaxLength {
			bad("length %d out of bounds", len(str))
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			bad("want an integer, got %v", v)
			return errs
		}
		if sc.Minimum != nil && f < *sc.Minimum || sc.Maximum != nil && f > *sc.Maximum {
			bad("%v out of range", f)
		}
	}
	if len(sc.Enum) > 0 {
		found := false
		for _, e := range sc.Enum {
			if e == v {
				found = true
			}
		}
		if !found {
			bad("%v is not one of %v", v, sc.Enum)
		}
	}
	return errs
}

// conform sends a request and checks the answer against the document.
func (s *spec) conform(t *testing.T, method, tmpl, path string, body []byte) int {
	t.Helper()
	op, ok := s.Paths[tmpl][strings.ToLower(method)]
	if !ok {
		t.Fatalf("%s %s is not documented", method, tmpl)
	}
	st, m, raw := call(t, method, path, body, nil)
	resp, ok := op.Responses[fmt.Sprint(st)]
	if !ok {
		t.Errorf("%s %s answered %d, which the document does not list: %s", method, path, st, raw)
		return st
	}
	mt, ok := resp.Content["application/json"]
	if !ok {
		t.Errorf("%s %s %d: no application/json schema documented", method, path, st)
		return st
	}
	for _, e := range s.validate(mt.Schema, m, fmt.Sprintf("%s %s %d", method, tmpl, st)) {
		t.Error(e)
	}
	return st
}

func TestOpenAPIRoutes(t *testing.T) {
	s := loadSpec(t)
	var served []string
	for ep := EndpointPayments; ep < NumEndpoints; ep++ {
		served = append(served, "post "+ep.Path())
	}
	served = append(served, "get /v1/wallets/{id}", "get /v1/payments/{id}", "get /healthz", "get /readyz", "get /openapi.json")
	var documented []string
	for p, ops := range s.Paths {
		for m := range ops {
			documented = append(documented, m+" "+p)
		}
	}
	sort.Strings(served)
	sort.Strings(documented)
	if strings.Join(served, "\n") != strings.Join(documented, "\n") {
		t.Errorf("routes served and documented differ:\nserved:\n%s\ndocumented:\n%s", strings.Join(served, "\n"), strings.Join(documented, "\n"))
	}
	for name, sc := range s.Components.Schemas {
		for p := range sc.Properties {
			if sc.Properties[p].Ref != "" {
				if _, ok := s.Components.Schemas[strings.TrimPrefix(sc.Properties[p].Ref, "#/components/schemas/")]; !ok {
					t.Errorf("schema %s.%s: unresolved %s", name, p, sc.Properties[p].Ref)
				}
			}
		}
	}
}

func TestOpenAPIAnswers(t *testing.T) {
	needServer(t)
	s := loadSpec(t)
	// Each documented example, then broken bodies, on every POST.
	for tmpl, ops := range s.Paths {
		op, ok := ops["post"]
		if !ok {
			continue
		}
		ex := op.RequestBody.Content["application/json"].Example
		if len(ex) == 0 {
			t.Errorf("POST %s: no example body", tmpl)
			continue
		}
		t.Run(tmpl, func(t *testing.T) {
			st := s.conform(t, "POST", tmpl, tmpl, ex)
			if st/100 != 2 && st != 402 && st != 403 && st != 422 {
				t.Errorf("the documented example was refused: %d", st)
			}
			s.conform(t, "POST", tmpl, tmpl, []byte(`{"amount":`))
			s.conform(t, "POST", tmpl, tmpl, []byte(`{"amount":-1,"currency":"CNY"}`))
			s.conform(t, "POST", tmpl, tmpl, []byte(`{"nope":1}`))
		})
	}
	// A payment that exists, for GET /v1/payments/{id}.
	_, m, _ := call(t, "POST", "/v1/topups", []byte(`{"wallet_id":1,"amount":100,"currency":"CNY"}`), nil)
	id, _ := m["payment_id"].(string)
	for _, c := range []struct{ tmpl, path string }{
		{"/v1/wallets/{id}", "/v1/wallets/1"},
		{"/v1/wallets/{id}", "/v1/wallets/0"},
		{"/v1/payments/{id}", "/v1/payments/" + id},
		{"/v1/payments/{id}", "/v1/payments/1"},
		{"/healthz", "/healthz"},
		{"/readyz", "/readyz"},
		{"/openapi.json", "/openapi.json"},
	} {
		s.conform(t, "GET", c.tmpl, c.path, nil)
	}
}

// TestSchemaValidator: the validator the tests above rely on does refuse
// what the document forbids.
func TestSchemaValidator(t *testing.T) {
	s := loadSpec(t)
	errSchema := schema{Ref: "#/components/schemas/Error"}
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{`{"code":"not_found","message":"x"}`, true},
		{`{"code":"not_found"}`, false},
		{`{"code":"teapot","message":"x"}`, false},
		{`{"code":"not_found","message":"x","extra":1}`, false},
		{`{"code":1,"message":"x"}`, false},
	} {
		var v any
		if err := json.Unmarshal([]byte(c.body), &v); err != nil {
			t.Fatal(err)
		}
		if errs := s.validate(errSchema, v, "Error"); (len(errs) == 0) != c.ok {
			t.Errorf("%s: valid=%v, errors %v", c.body, c.ok, errs)
		}
	}
}
