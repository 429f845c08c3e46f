package gate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Rules are what a gate checks: thresholds on the result alone, tolerances
// against a baseline, and direction overrides for the tolerances.
type Rules struct {
	Thresholds []Threshold
	Tolerances []Tolerance
	// Directions overrides InferDirection, keyed by canonical metric
	// (Metric.String()).
	Directions map[string]Direction
}

// Threshold is a parsed threshold with where it came from.
type Threshold struct {
	Expr   *Expr
	Source string // "file.yaml:3" or "--threshold"
}

// Side says which change of a metric a tolerance limits.
type Side int

const (
	// SideWorse is an unsigned tolerance ("10%"): it limits the change in
	// the metric's worse direction, or both ways when that is unknown.
	SideWorse Side = iota
	SideDown       // "-10%": the metric may fall by at most this much
	SideUp         // "+20%": the metric may rise by at most this much
	SideBoth       // "±5%": the metric may move by at most this much
)

// Tolerance limits how far a metric may move from the baseline.
type Tolerance struct {
	Metric  Metric
	Side    Side
	Amount  float64 // ≥ 0; a percentage when Percent
	Percent bool
	Text    string // as written, e.g. "-10%"
	Source  string // "file.yaml:7" or "--tolerance"
}

// ParseTolerance parses "-10%", "+5%", "±2", "+-2", "+/-1.5%" or "10%".
func ParseTolerance(s string) (Tolerance, error) {
	t := Tolerance{Text: strings.TrimSpace(s)}
	rest := t.Text
	switch {
	case strings.HasPrefix(rest, "±"):
		t.Side, rest = SideBoth, rest[len("±"):]
	case strings.HasPrefix(rest, "+/-"):
		t.Side, rest = SideBoth, rest[3:]
	case strings.HasPrefix(rest, "+-"):
		t.Side, rest = SideBoth, rest[2:]
	case strings.HasPrefix(rest, "-"):
		t.Side, rest = SideDown, rest[1:]
	case strings.HasPrefix(rest, "+"):
		t.Side, rest = SideUp, rest[1:]
	}
	rest = strings.TrimSpace(rest)
	if strings.HasSuffix(rest, "%") {
		t.Percent = true
		rest = strings.TrimSpace(strings.TrimSuffix(rest, "%"))
	}
	f, err := strconv.ParseFloat(rest, 64)
	if err != nil || rest == "" || rest[0] == '+' || rest[0] == '-' || math.IsNaN(f) || math.IsInf(f, 0) ||
		strings.ContainsAny(rest, "xXpP_") {
		return Tolerance{}, fmt.Errorf("tolerance %q: want a change such as -10%%, +5%%, ±2 or 10%%", s)
	}
	t.Amount = f
	return t, nil
}

// String renders the tolerance as written.
func (t Tolerance) String() string { return t.Text }

// Direction returns the direction of m: the explicit override, else
// InferDirection.
func (r *Rules) Direction(m Metric) Direction {
	if d, ok := r.Directions[m.String()]; ok {
		return d
	}
	return InferDirection(m)
}

// effective resolves an unsigned tolerance against the metric's direction,
// and returns the direction a signed one implies when none is known.
func (r *Rules) effective(t Tolerance) (Side, Direction, error) {
	dir := r.Direction(t.Metric)
	switch t.Side {
	case SideWorse:
		switch dir {
		case HigherIsBetter:
			return SideDown, dir, nil
		case LowerIsBetter:
			return SideUp, dir, nil
		}
		return SideBoth, dir, nil
	case SideDown:
		if dir == LowerIsBetter {
			return 0, dir, fmt.Errorf("tolerance %s on %s: lower is better for this metric, so %s would fail an improvement; write +%s, or set its direction to higher",
				t.Text, t.Metric, t.Text, strings.TrimLeft(t.Text, "-"))
		}
		return SideDown, HigherIsBetter, nil
	case SideUp:
		if dir == HigherIsBetter {
			return 0, dir, fmt.Errorf("tolerance %s on %s: higher is better for this metric, so %s would fail an improvement; write -%s, or set its direction to lower",
				t.Text, t.Metric, t.Text, strings.TrimLeft(t.Text, "+"))
		}
		return SideUp, LowerIsBetter, nil
	}
	return SideBoth, dir, nil
}

// AddThreshold parses and appends a threshold expression.
func (r *Rules) AddThreshold(expr, source string) error {
	e, err := ParseExpr(expr)
	if err != nil {
		return err
	}
	r.Thresholds = append(r.Thresholds, Threshold{Expr: e, Source: source})
	return nil
}

// AddTolerance parses and appends a tolerance on a metric.
func (r *Rules) AddTolerance(metric, tol, source string) error {
	m, err := ParseMetric(metric)
	if err != nil {
		return err
	}
	t, err := ParseTolerance(tol)
	if err != nil {
		return fmt.Errorf("%s: %w", m, err)
	}
	for _, old := range r.Tolerances {
		if old.Metric.String() == m.String() {
			return fmt.Errorf("tolerance on %s given twice (%s and %s)", m, old.Source, source)
		}
	}
	t.Metric, t.Source = m, source
	r.Tolerances = append(r.Tolerances, t)
	return nil
}

// SetDirection records an explicit direction for a metric.
func (r *Rules) SetDirection(metric, dir string) error {
	m, err := ParseMetric(metric)
	if err != nil {
		return err
	}
	d, err := ParseDirection(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", m, err)
	}
	if r.Directions == nil {
		r.Directions = map[string]Direction{}
	}
	if _, dup := r.Directions[m.String()]; dup {
		return fmt.Errorf("direction of %s given twice", m)
	}
	r.Directions[m.String()] = d
	return nil
}

// Validate reports tolerances whose sign contradicts their metric's
// direction.
func (r *Rules) Validate() error {
	var errs []error
	for _, t := range r.Tolerances {
		if _, _, err := r.effective(t); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t.Source, err))
		}
	}
	return errors.Join(errs...)
}

// LoadRules reads a thresholds file.
func LoadRules(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseRules(path, data)
}

// rulesFile is the YAML layout of a thresholds file.
type rulesFile struct {
	Thresholds []lineString `yaml:"thresholds"`
	Tolerances orderedMap   `yaml:"tolerances"`
	Directions orderedMap   `yaml:"directions"`
}

type lineString struct {
	Value string
	Line  int
}

func (l *lineString) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return fmt.Errorf("line %d: want a threshold such as \"latency_ms.p99 < 25\", found %s", n.Line, nodeKind(n))
	}
	l.Value, l.Line = n.Value, n.Line
	return nil
}

type orderedMap []mapEntry

type mapEntry struct {
	Key, Value string
	Line       int
}

func (m *orderedMap) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping of metric: value, found %s", n.Line, nodeKind(n))
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			return fmt.Errorf("line %d: want a metric name as the key, found %s", k.Line, nodeKind(k))
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || v.Value == "" {
			return fmt.Errorf("line %d: %s: want a value such as -10%% or lower, found %s", v.Line, k.Value, nodeKind(v))
		}
		*m = append(*m, mapEntry{Key: k.Value, Value: v.Value, Line: k.Line})
	}
	return nil
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.DocumentNode:
		return "a document"
	}
	if n.Tag == "!!null" || n.Value == "" {
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

var lineMsg = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)

var unknownField = regexp.MustCompile(`^line (\d+): field (.+) not found in type \S+$`)

// ParseRules decodes a thresholds file. Unknown keys, bad expressions,
// bad tolerances and directions are errors naming the file and line.
func ParseRules(name string, data []byte) (*Rules, error) {
	var f rulesFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: more than one YAML document; put everything in one", name)
	}
	r := &Rules{Directions: map[string]Direction{}}
	var errs []error
	at := func(line int) string { return fmt.Sprintf("%s:%d", name, line) }
	// Directions first: tolerances are checked against them.
	for _, e := range f.Directions {
		if err := r.SetDirection(e.Key, e.Value); err != nil {
			errs = append(errs, fmt.Errorf("%s: directions: %w", at(e.Line), err))
		}
	}
	for _, t := range f.Thresholds {
		if err := r.AddThreshold(t.Value, at(t.Line)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", at(t.Line), err))
		}
	}
	for _, e := range f.Tolerances {
		if err := r.AddTolerance(e.Key, e.Value, at(e.Line)); err != nil {
			errs = append(errs, fmt.Errorf("%s: tolerances: %w", at(e.Line), err))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, r.Validate())
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(r.Thresholds) == 0 && len(r.Tolerances) == 0 {
		return nil, fmt.Errorf("%s: no thresholds and no tolerances: nothing to check", name)
	}
	return r, nil
}

func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var msgs []string
		for _, e := range te.Errors {
			if m := unknownField.FindStringSubmatch(e); m != nil {
				msgs = append(msgs, fmt.Sprintf("%s:%s: unknown key %q (known keys: thresholds, tolerances, directions)", name, m[1], m[2]))
				continue
			}
			e = strings.NewReplacer(
				"[]gate.lineString", "a list of thresholds",
				"gate.orderedMap", "a mapping",
				"gate.rulesFile", "a mapping with thresholds, tolerances and directions",
			).Replace(e)
			if m := lineMsg.FindStringSubmatch(e); m != nil {
				msgs = append(msgs, fmt.Sprintf("%s:%s: %s", name, m[1], m[2]))
				continue
			}
			msgs = append(msgs, fmt.Sprintf("%s: %s", name, e))
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := lineMsg.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s", name, m[1], m[2])
	}
	return fmt.Errorf("%s: %s", name, msg)
}
