package loadtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/walletsim/walletsim/loadtest/gate"
)

// JSONPath is the small subset of JSONPath a template uses to read a
// response: $ (the whole body), .key, ['key'] or ["key"], and [N] array
// indexes, e.g. $.transfer.id or $.items[0]['minor-units']. No wildcards,
// filters or slices: a template names one value. The part after $ is the
// gate's path syntax (loadtest/gate.ParsePath), fuzzed there and here.
type JSONPath struct {
	src  string
	path gate.Path
}

// ParseJSONPath parses "$", "$.a.b[0]" or "$['a b']".
func ParseJSONPath(s string) (JSONPath, error) {
	rest, ok := strings.CutPrefix(s, "$")
	if !ok {
		return JSONPath{}, fmt.Errorf("JSONPath %q: must start with $", s)
	}
	if rest == "" {
		return JSONPath{src: s}, nil
	}
	switch rest[0] {
	case '.':
		rest = rest[1:]
		if rest == "" || rest[0] == '[' || rest[0] == '.' {
			return JSONPath{}, fmt.Errorf("JSONPath %q: a key must follow the dot", s)
		}
		if rest[0] == '"' || rest[0] == '\'' {
			return JSONPath{}, fmt.Errorf("JSONPath %q: write a quoted key in brackets, $['a b']", s)
		}
	case '[':
	default:
		return JSONPath{}, fmt.Errorf("JSONPath %q: want . or [ after $", s)
	}
	p, err := gate.ParsePath(rest)
	if err != nil {
		return JSONPath{}, fmt.Errorf("JSONPath %q: %w", s, err)
	}
	return JSONPath{src: s, path: p}, nil
}

// String is the path as written.
func (p JSONPath) String() string { return p.src }

// IsZero reports an unset path (an optional key left out).
func (p JSONPath) IsZero() bool { return p.src == "" }

// Lookup finds the path's value in a decoded JSON document (decoded with
// UseNumber, so integers keep every digit).
func (p JSONPath) Lookup(doc any) (any, error) {
	v := doc
	for i, seg := range p.path {
		switch x := v.(type) {
		case map[string]any:
			if seg.IsIndex {
				return nil, fmt.Errorf("%s: %s is an object, not an array", p.src, p.prefix(i))
			}
			var ok bool
			if v, ok = x[seg.Key]; !ok {
				return nil, fmt.Errorf("%s: no key %q in %s", p.src, seg.Key, p.prefix(i))
			}
		case []any:
			if !seg.IsIndex {
				return nil, fmt.Errorf("%s: %s is an array, not an object", p.src, p.prefix(i))
			}
			if seg.Index < 0 || seg.Index >= len(x) {
				return nil, fmt.Errorf("%s: index %d out of range (length %d) in %s", p.src, seg.Index, len(x), p.prefix(i))
			}
			v = x[seg.Index]
		default:
			return nil, fmt.Errorf("%s: %s is not an object or array", p.src, p.prefix(i))
		}
	}
	return v, nil
}

func (p JSONPath) prefix(i int) string {
	if i == 0 {
		return "$"
	}
	s := p.path[:i].String()
	if s[0] != '[' {
		s = "." + s
	}
	return "$" + s
}

// Int reads the path as an integer of minor units: a JSON integer, or a
// string of one ("1050"), as APIs that fear float64 send them.
func (p JSONPath) Int(doc any) (int64, error) {
	v, err := p.Lookup(doc)
	if err != nil {
		return 0, err
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		return 0, fmt.Errorf("%s: %s, want an integer", p.src, kindName(v))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not an integer of minor units", p.src, clipString(s, 40))
	}
	return n, nil
}

// Text reads the path as a short string (a reason or state): strings as
// they are, numbers and booleans as written.
func (p JSONPath) Text(doc any) (string, error) {
	v, err := p.Lookup(doc)
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("%s: %s, want a string", p.src, kindName(v))
}

// decodeJSON decodes a response body for JSONPath lookups; numbers stay
// json.Number.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func kindName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	}
	return fmt.Sprintf("%T", v)
}

func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
