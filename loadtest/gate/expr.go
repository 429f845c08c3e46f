package gate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Op is a comparison operator.
type Op string

// The comparison operators a threshold may use.
const (
	OpLT Op = "<"
	OpLE Op = "<="
	OpGT Op = ">"
	OpGE Op = ">="
	OpEQ Op = "=="
	OpNE Op = "!="
)

// flip returns the operator that keeps a comparison true with its sides
// swapped: 25 > x is x < 25.
func (o Op) flip() Op {
	switch o {
	case OpLT:
		return OpGT
	case OpLE:
		return OpGE
	case OpGT:
		return OpLT
	case OpGE:
		return OpLE
	}
	return o
}

// Operand is one side of a comparison: a metric, or a literal number,
// boolean or string.
type Operand struct {
	Metric *Metric
	Lit    any // float64, bool or string when Metric is nil
}

func (o Operand) String() string {
	if o.Metric != nil {
		return o.Metric.String()
	}
	return formatLiteral(o.Lit)
}

func formatLiteral(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}

// Expr is a threshold: a metric compared with a literal or another metric,
// k6-style: "latency_ms.p99 < 25", "invariants.money_conserved == true",
// "policy == \"strict\"", "pipeline.payments_per_s / ceiling.msgs_per_s >= 0.5".
type Expr struct {
	Left  Metric
	Op    Op
	Right Operand
}

// ParseExpr parses a threshold expression. A literal on the left is moved to
// the right (25 > x becomes x < 25); at least one side must be a metric.
//
// Grammar: operand op operand, where op is one of < <= > >= == != and an
// operand is a number (25, 0.999, -1, 5e4), true, false, a string in double
// or single quotes, a path, or path / path.
func ParseExpr(s string) (*Expr, error) {
	i := skipSpace(s, 0)
	if i == len(s) {
		return nil, fmt.Errorf("empty threshold")
	}
	left, i, err := scanOperand(s, i)
	if err != nil {
		return nil, fmt.Errorf("threshold %q: %w", s, err)
	}
	i = skipSpace(s, i)
	op, i, err := scanOp(s, i)
	if err != nil {
		return nil, fmt.Errorf("threshold %q: %w", s, err)
	}
	i = skipSpace(s, i)
	if i == len(s) {
		return nil, fmt.Errorf("threshold %q: missing a value after %s", s, op)
	}
	right, i, err := scanOperand(s, i)
	if err != nil {
		return nil, fmt.Errorf("threshold %q: %w", s, err)
	}
	if i = skipSpace(s, i); i != len(s) {
		return nil, fmt.Errorf("threshold %q: unexpected %q after the comparison", s, s[i:])
	}
	if left.Metric == nil {
		if right.Metric == nil {
			return nil, fmt.Errorf("threshold %q: compares two constants; one side must name a field", s)
		}
		left, right, op = right, left, op.flip()
	}
	e := &Expr{Left: *left.Metric, Op: op, Right: right}
	if err := e.checkTypes(); err != nil {
		return nil, fmt.Errorf("threshold %q: %w", s, err)
	}
	return e, nil
}

// checkTypes rejects what no document could satisfy: ordering booleans or
// strings.
func (e *Expr) checkTypes() error {
	switch e.Right.Lit.(type) {
	case bool, string:
		if e.Op != OpEQ && e.Op != OpNE {
			return fmt.Errorf("%s compares %s with %s; only == and != apply", e.Op, e.Left, formatLiteral(e.Right.Lit))
		}
	}
	if e.Left.IsRatio() {
		switch e.Right.Lit.(type) {
		case bool, string:
			return fmt.Errorf("the ratio %s is a number, not %s", e.Left, formatLiteral(e.Right.Lit))
		}
	}
	return nil
}

// String renders the expression in canonical form; ParseExpr(e.String())
// yields e again.
func (e *Expr) String() string {
	return e.Left.String() + " " + string(e.Op) + " " + e.Right.String()
}

func scanOp(s string, i int) (Op, int, error) {
	two := ""
	if i+2 <= len(s) {
		two = s[i : i+2]
	}
	switch two {
	case "<=", ">=", "==", "!=":
		return Op(two), i + 2, nil
	}
	if i < len(s) {
		switch s[i] {
		case '<', '>':
			return Op(s[i : i+1]), i + 1, nil
		case '=':
			return "", 0, fmt.Errorf("use == to test equality, not =")
		}
		return "", 0, fmt.Errorf("expected an operator (< <= > >= == !=) at %q", s[i:])
	}
	return "", 0, fmt.Errorf("missing an operator (< <= > >= == !=)")
}

func scanOperand(s string, i int) (Operand, int, error) {
	c := s[i]
	switch {
	case c == '"' || c == '\'':
		v, n, err := scanQuoted(s, i)
		if err != nil {
			return Operand{}, 0, err
		}
		return Operand{Lit: v}, n, nil
	case c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9':
		return scanNumber(s, i)
	case c != '[' && !isIdentByte(c):
		return Operand{}, 0, fmt.Errorf("expected a number, true, false, a quoted string or a field at %q", s[i:])
	}
	// A bare true or false is a literal; a field called true is ["true"].
	for _, w := range []string{"true", "false"} {
		if strings.HasPrefix(s[i:], w) && (i+len(w) == len(s) || !isIdentByte(s[i+len(w)]) && s[i+len(w)] != '.' && s[i+len(w)] != '[') {
			return Operand{Lit: w == "true"}, i + len(w), nil
		}
	}
	m, n, err := scanMetric(s, i)
	if err != nil {
		return Operand{}, 0, err
	}
	return Operand{Metric: &m}, n, nil
}

func scanNumber(s string, i int) (Operand, int, error) {
	j := i
	if j < len(s) && (s[j] == '-' || s[j] == '+') {
		j++
	}
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == '_') {
		j++
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
	}
	text := s[i:j]
	if j < len(s) && (isIdentByte(s[j]) || s[j] == '%') {
		return Operand{}, 0, fmt.Errorf("bad number %q", s[i:j+1])
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || strings.Contains(text, "__") ||
		strings.HasPrefix(strings.TrimLeft(text, "+-"), "_") || strings.HasSuffix(text, "_") {
		return Operand{}, 0, fmt.Errorf("bad number %q", text)
	}
	return Operand{Lit: f}, j, nil
}

// Compare applies op to two values of the same kind: numbers with any
// operator, booleans and strings with == and != only.
func Compare(a any, op Op, b any) (bool, error) {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		if !ok {
			break
		}
		switch op {
		case OpLT:
			return x < y, nil
		case OpLE:
			return x <= y, nil
		case OpGT:
			return x > y, nil
		case OpGE:
			return x >= y, nil
		case OpEQ:
			return x == y, nil
		case OpNE:
			return x != y, nil
		}
		return false, fmt.Errorf("unknown operator %q", op)
	case bool, string:
		if kindOf(a) != kindOf(b) {
			break
		}
		switch op {
		case OpEQ:
			return a == b, nil
		case OpNE:
			return a != b, nil
		}
		return false, fmt.Errorf("%s does not apply to %s; only == and != do", op, kindOf(a))
	}
	return false, fmt.Errorf("cannot compare %s with %s", kindOf(a), kindOf(b))
}
