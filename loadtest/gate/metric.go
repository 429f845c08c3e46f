package gate

import (
	"fmt"
	"strings"
)

// Metric is a field of a result, or the ratio of two fields measured in the
// same run: "throughput.payments_per_s" or
// "pipeline.payments_per_s / ceiling.produce_consume_msgs_per_s". A ratio
// against a raw ceiling measured on the same machine lets one baseline hold
// across machines of different speeds.
type Metric struct {
	Num Path
	Den Path // nil unless the metric is a ratio
}

// ParseMetric parses a path or a ratio of two paths.
func ParseMetric(s string) (Metric, error) {
	m, n, err := scanMetric(s, skipSpace(s, 0))
	if err != nil {
		return Metric{}, err
	}
	if n = skipSpace(s, n); n != len(s) {
		return Metric{}, fmt.Errorf("metric %q: unexpected %q", s, s[n:])
	}
	return m, nil
}

// String renders the metric in canonical form.
func (m Metric) String() string {
	if m.Den == nil {
		return m.Num.String()
	}
	return m.Num.String() + " / " + m.Den.String()
}

// IsRatio reports whether the metric divides one field by another.
func (m Metric) IsRatio() bool { return m.Den != nil }

// Eval reads the metric from a document: a number, a boolean, a string or
// nil for a plain field, a number for a ratio.
func (m Metric) Eval(d *Document) (any, error) {
	if m.Den == nil {
		return d.Lookup(m.Num)
	}
	return d.ratio(m.Num, m.Den, m.String())
}

func scanMetric(s string, i int) (Metric, int, error) {
	if i >= len(s) {
		return Metric{}, i, fmt.Errorf("missing metric")
	}
	num, n, err := scanPath(s, i)
	if err != nil {
		return Metric{}, 0, err
	}
	j := skipSpace(s, n)
	if j >= len(s) || s[j] != '/' {
		return Metric{Num: num}, n, nil
	}
	j = skipSpace(s, j+1)
	if j >= len(s) {
		return Metric{}, 0, fmt.Errorf("ratio %q: missing the divisor after /", strings.TrimSpace(s[i:]))
	}
	if c := s[j]; c == '-' || c == '+' || c == '.' || c >= '0' && c <= '9' {
		return Metric{}, 0, fmt.Errorf("ratio %q: the divisor must be a field, not a number", strings.TrimSpace(s[i:]))
	}
	den, n, err := scanPath(s, j)
	if err != nil {
		return Metric{}, 0, err
	}
	return Metric{Num: num, Den: den}, n, nil
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// Direction says which way a metric improves.
type Direction int

const (
	// Unknown means neither way is better: a tolerance on such a metric
	// without a sign is checked both ways.
	Unknown Direction = iota
	HigherIsBetter
	LowerIsBetter
)

func (d Direction) String() string {
	switch d {
	case HigherIsBetter:
		return "higher"
	case LowerIsBetter:
		return "lower"
	}
	return "unknown"
}

// ParseDirection accepts "higher" or "lower" (also "higher_is_better",
// "lower_is_better").
func ParseDirection(s string) (Direction, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "higher", "higher_is_better", "higher-is-better":
		return HigherIsBetter, nil
	case "lower", "lower_is_better", "lower-is-better":
		return LowerIsBetter, nil
	}
	return Unknown, fmt.Errorf("direction %q: want higher or lower", s)
}

// Words in a metric's name that mark something bad happening: lower is
// better, whatever else the name says (error_rate, declines_per_s).
var badWords = []string{
	"error", "errors", "failed", "failure", "failures", "timeout", "timeouts",
	"decline", "declines", "declined", "rejected", "rejects",
	"negative", "duplicate", "duplicates", "unresolved", "dead", "lost",
	"abandon", "abandoned", "fallback", "fallbacks", "retry", "retries",
	"mismatch", "mismatches", "gap", "gaps", "violation", "violations",
	"unbalanced", "dropped", "drops",
}

// Words that say higher is better; a per-second rate ("_per_s") counts too.
var higherWords = []string{
	"throughput", "rate", "ratio", "success", "succeeded", "successes",
	"tps", "qps", "rps", "ops", "speedup", "points", // green-energy points: more is greener
}

// Words that mark a cost: lower is better unless the name is also a rate
// (bytes_per_s is a throughput, rss_bytes a cost).
var costWords = []string{
	"latency", "latencies", "duration", "durations", "elapsed", "time",
	"rss", "alloc", "allocs", "bytes", "memory", "heap", "gc", "lag",
	"co2e", "hops",
	"ms", "ns", "us",
}

// InferDirection guesses a metric's direction from the words of its name
// (for a ratio, of its numerator): latency_ms.p99 is lower-is-better,
// throughput.payments_per_s higher-is-better, errors_per_s lower. Unknown
// when nothing matches.
func InferDirection(m Metric) Direction {
	var words []string
	for _, s := range m.Num {
		if s.IsIndex {
			continue
		}
		words = append(words, strings.FieldsFunc(strings.ToLower(s.Key), func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
		})...)
	}
	has := func(list []string) bool {
		for _, w := range words {
			for _, l := range list {
				if w == l {
					return true
				}
			}
		}
		return false
	}
	perSecond := false
	for i := 0; i+1 < len(words); i++ {
		switch words[i+1] {
		case "s", "sec", "second", "ms", "min", "minute":
			perSecond = perSecond || words[i] == "per"
		}
	}
	switch {
	case has(badWords):
		return LowerIsBetter
	case perSecond || has(higherWords):
		return HigherIsBetter
	case has(costWords):
		return LowerIsBetter
	}
	return Unknown
}
