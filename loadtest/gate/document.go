package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Document is one result file (summary.json, attack.json, compare.json,
// bench.json or any other JSON object) held as generic JSON.
type Document struct {
	// Name is what error messages call the document, usually its path.
	Name string
	// Root is the decoded JSON: map[string]any, []any, json.Number, string,
	// bool or nil.
	Root any
}

// LoadDocument reads and decodes a JSON file.
func LoadDocument(path string) (*Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseDocument(path, data)
}

// ParseDocument decodes JSON data; name is used in error messages.
func ParseDocument(name string, data []byte) (*Document, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file, expected a JSON object", name)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := position(data, se.Offset)
			return nil, fmt.Errorf("%s:%d:%d: invalid JSON: %v", name, line, col, err)
		}
		return nil, fmt.Errorf("%s: invalid JSON: %v", name, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: invalid JSON: more than one value in the file", name)
	}
	if _, ok := root.(map[string]any); !ok {
		return nil, fmt.Errorf("%s: expected a JSON object at the top, found %s", name, kindOf(root))
	}
	return &Document{Name: name, Root: root}, nil
}

func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// FieldError reports a path that does not lead to a usable value.
type FieldError struct {
	Doc     string // document name
	Path    string // the path asked for
	Reason  string
	Missing bool // the field does not exist (as opposed to having the wrong type)
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: field %s %s", e.Doc, e.Path, e.Reason)
}

// Lookup resolves p in the document. A missing field is an error naming the
// field and what is there instead, except for the derived fields of
// Derivations, which are computed when the document does not hold them.
func (d *Document) Lookup(p Path) (any, error) {
	v, err := d.resolve(p)
	if err == nil {
		return v, nil
	}
	var fe *FieldError
	if errors.As(err, &fe) && fe.Missing {
		if dv, ok := Derivations[p.String()]; ok {
			x, derr := d.ratio(dv.Num, dv.Den, p.String())
			if derr != nil {
				return nil, derr
			}
			return x, nil
		}
	}
	return nil, err
}

func (d *Document) resolve(p Path) (any, error) {
	cur := d.Root
	for i, s := range p {
		here := Path(p[:i]).String()
		if here == "" {
			here = "the document"
		}
		switch v := cur.(type) {
		case map[string]any:
			if s.IsIndex {
				return nil, &FieldError{Missing: true, Doc: d.Name, Path: p.String(), Reason: fmt.Sprintf("does not exist: %s is an object, not an array; use .key", here)}
			}
			next, ok := v[s.Key]
			if !ok {
				return nil, &FieldError{Missing: true, Doc: d.Name, Path: p.String(), Reason: fmt.Sprintf("does not exist: %s has %s", here, keyList(v))}
			}
			cur = next
		case []any:
			if !s.IsIndex {
				return nil, &FieldError{Missing: true, Doc: d.Name, Path: p.String(), Reason: fmt.Sprintf("does not exist: %s is an array of %d, index it with [N]", here, len(v))}
			}
			if s.Index >= len(v) {
				return nil, &FieldError{Missing: true, Doc: d.Name, Path: p.String(), Reason: fmt.Sprintf("does not exist: %s has %d elements", here, len(v))}
			}
			cur = v[s.Index]
		default:
			return nil, &FieldError{Missing: true, Doc: d.Name, Path: p.String(), Reason: fmt.Sprintf("does not exist: %s is %s", here, kindOf(v))}
		}
	}
	if n, ok := cur.(json.Number); ok {
		f, err := n.Float64()
		if err != nil && !errors.Is(err, strconv.ErrRange) { // huge numbers become ±Inf
			return nil, &FieldError{Doc: d.Name, Path: p.String(), Reason: fmt.Sprintf("is not a usable number: %s", n)}
		}
		return f, nil
	}
	return cur, nil
}

func keyList(m map[string]any) string {
	if len(m) == 0 {
		return "no keys"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, Path{{Key: k}}.String())
	}
	sort.Strings(keys)
	const max = 12
	if len(keys) > max {
		return "keys " + strings.Join(keys[:max], ", ") + fmt.Sprintf(" and %d more", len(keys)-max)
	}
	return "keys " + strings.Join(keys, ", ")
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	}
	return fmt.Sprintf("a %T", v)
}

// Number looks up a numeric field.
func (d *Document) Number(p Path) (float64, error) {
	v, err := d.Lookup(p)
	if err != nil {
		return 0, err
	}
	f, ok := v.(float64)
	if !ok {
		return 0, &FieldError{Doc: d.Name, Path: p.String(), Reason: "is " + kindOf(v) + ", not a number"}
	}
	return f, nil
}

func (d *Document) ratio(num, den Path, name string) (float64, error) {
	a, err := d.Number(num)
	if err != nil {
		return 0, err
	}
	b, err := d.Number(den)
	if err != nil {
		return 0, err
	}
	if b == 0 {
		return 0, &FieldError{Doc: d.Name, Path: name, Reason: fmt.Sprintf("cannot be computed: %s is 0", den)}
	}
	r := a / b
	if math.IsNaN(r) {
		return 0, &FieldError{Doc: d.Name, Path: name, Reason: "is not a number (NaN)"}
	}
	return r, nil
}

// Derivation is a built-in computed field: Num / Den.
type Derivation struct{ Num, Den Path }

// Derivations are the computed fields a document answers when it does not
// hold them itself, keyed by canonical path.
var Derivations = map[string]Derivation{
	"payments.success_rate": {mustPath("payments.succeeded"), mustPath("payments.attempted")},
	"payments.decline_rate": {mustPath("payments.declined"), mustPath("payments.attempted")},
}

func mustPath(s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}
