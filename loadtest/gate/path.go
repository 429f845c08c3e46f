package gate

import (
	"fmt"
	"strconv"
	"strings"
)

// Segment is one step of a Path: a map key, or an array index when IsIndex.
type Segment struct {
	Key     string
	Index   int
	IsIndex bool
}

// Path addresses a field inside a JSON document: latency_ms.p99,
// payments.by_kind[0].count, declines["insufficient_funds"].
//
// Syntax: keys made of letters, digits, '_' and '-' are joined with '.';
// any other key is quoted, either after a dot (a."b.c") or in brackets
// (a["b.c"], a['b.c']); an array element is [N]. A path that starts with a
// quoted key uses the bracket form: ["2xx"].count.
type Path []Segment

// ParsePath parses a whole string as a Path.
func ParsePath(s string) (Path, error) {
	p, n, err := scanPath(s, 0)
	if err != nil {
		return nil, err
	}
	if n != len(s) {
		return nil, fmt.Errorf("path %q: unexpected %q at offset %d", s, s[n:], n)
	}
	return p, nil
}

// String renders the path in canonical form; ParsePath(p.String()) == p.
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case s.IsIndex:
			b.WriteString("[" + strconv.Itoa(s.Index) + "]")
		case isIdent(s.Key):
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Key)
		default:
			b.WriteString("[" + strconv.Quote(s.Key) + "]")
		}
	}
	return b.String()
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isIdent reports whether key can be written bare. A bare first key must not
// look like a number or a boolean literal, so keys such as "200" or "true"
// are quoted wherever they appear; that keeps String unambiguous.
func isIdent(key string) bool {
	if key == "" || key == "true" || key == "false" {
		return false
	}
	c := key[0]
	if c == '-' || c >= '0' && c <= '9' {
		return false
	}
	for i := 0; i < len(key); i++ {
		if !isIdentByte(key[i]) {
			return false
		}
	}
	return true
}

// scanPath reads a path starting at s[i] and returns it with the offset just
// past it. It stops at the first byte that cannot continue a path.
func scanPath(s string, i int) (Path, int, error) {
	var p Path
	start := i
	for {
		switch {
		case i < len(s) && s[i] == '[':
			seg, n, err := scanBracket(s, i)
			if err != nil {
				return nil, 0, err
			}
			p = append(p, seg)
			i = n
		case len(p) == 0 || i < len(s) && s[i] == '.':
			if len(p) > 0 {
				i++ // the dot
			}
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				if len(p) == 0 {
					return nil, 0, fmt.Errorf("path %q: a path cannot start with a quoted key; write [%s...] instead", s[start:], s[i:i+1])
				}
				key, n, err := scanQuoted(s, i)
				if err != nil {
					return nil, 0, fmt.Errorf("path %q: %w", s[start:], err)
				}
				p = append(p, Segment{Key: key})
				i = n
				continue
			}
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			if j == i {
				if i >= len(s) {
					return nil, 0, fmt.Errorf("path %q: missing key at the end", s[start:])
				}
				return nil, 0, fmt.Errorf("path %q: expected a key at offset %d, found %q", s[start:], i-start, s[i:i+1])
			}
			p = append(p, Segment{Key: s[i:j]})
			i = j
		default:
			return p, i, nil
		}
	}
}

// scanBracket reads [N], ["key"] or ['key'] at s[i] == '['.
func scanBracket(s string, i int) (Segment, int, error) {
	j := i + 1
	if j < len(s) && (s[j] == '"' || s[j] == '\'') {
		key, n, err := scanQuoted(s, j)
		if err != nil {
			return Segment{}, 0, err
		}
		if n >= len(s) || s[n] != ']' {
			return Segment{}, 0, fmt.Errorf("missing ] after %s", s[i:n])
		}
		return Segment{Key: key}, n + 1, nil
	}
	k := j
	for k < len(s) && s[k] >= '0' && s[k] <= '9' {
		k++
	}
	if k == j || k >= len(s) || s[k] != ']' {
		end := strings.IndexByte(s[i:], ']')
		if end < 0 {
			return Segment{}, 0, fmt.Errorf("missing ] after %q", s[i:])
		}
		return Segment{}, 0, fmt.Errorf("bad index %s: use [N] for an array element or [\"key\"] for a key", s[i:i+end+1])
	}
	n, err := strconv.Atoi(s[j:k])
	if err != nil || n > 1<<30 {
		return Segment{}, 0, fmt.Errorf("index %s is too large", s[j:k])
	}
	return Segment{Index: n, IsIndex: true}, k + 1, nil
}

// scanQuoted reads a string in double quotes (Go escapes) or single quotes
// (only \' and \\ escaped) at s[i].
func scanQuoted(s string, i int) (string, int, error) {
	q := s[i]
	j := i + 1
	for j < len(s) && s[j] != q {
		if s[j] == '\\' {
			j++
		}
		j++
	}
	if j >= len(s) {
		return "", 0, fmt.Errorf("unterminated string %s", s[i:])
	}
	raw := s[i : j+1]
	if q == '"' {
		v, err := strconv.Unquote(raw)
		if err != nil {
			return "", 0, fmt.Errorf("bad string %s: %w", raw, err)
		}
		return v, j + 1, nil
	}
	var b strings.Builder
	for k := i + 1; k < j; k++ {
		if s[k] == '\\' && k+1 < j && (s[k+1] == '\'' || s[k+1] == '\\') {
			k++
		}
		b.WriteByte(s[k])
	}
	return b.String(), j + 1, nil
}
