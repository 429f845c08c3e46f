package loadtest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Threshold stops an attack early: 'p99 > 50ms over 10s' (a latency
// quantile of the answers of the trailing window), 'errors > 5% over
// 30s' (the share of answers not as the template defines), 'unexplained
// > 0' (accounts whose money the traffic does not explain, checked live
// on accounts with no payment in flight).
type Threshold struct {
	Src    string
	Metric string // p50 p90 p95 p99 max mean errors unexplained
	Op     string // > >= < <=
	Value  float64
	Window time.Duration
}

// DefaultWindow is a threshold's window when 'over' is left out.
const DefaultWindow = 10 * time.Second

// minWindowAnswers: a window with fewer answers is not judged (a p99 of
// three answers says nothing).
const minWindowAnswers = 20

var quantiles = map[string]float64{"p50": 50, "p90": 90, "p95": 95, "p99": 99, "max": 100, "mean": -1}

// ParseThreshold reads 'METRIC OP VALUE [over DURATION]'.
func ParseThreshold(s string) (Threshold, error) {
	t := Threshold{Src: strings.TrimSpace(s)}
	f := strings.Fields(s)
	bad := func(format string, a ...any) (Threshold, error) {
		return Threshold{}, fmt.Errorf("threshold %q: %s", clipString(s, 80), fmt.Sprintf(format, a...))
	}
	if len(f) != 3 && len(f) != 5 {
		return bad("want METRIC OP VALUE [over DURATION], e.g. 'p99 > 50ms over 10s'")
	}
	t.Metric, t.Op = strings.ToLower(f[0]), f[1]
	switch t.Op {
	case ">", ">=", "<", "<=":
	default:
		return bad("operator %q: want >, >=, < or <=", t.Op)
	}
	v := f[2]
	switch _, isQ := quantiles[t.Metric]; {
	case isQ:
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return bad("%q: want a latency such as 50ms", v)
		}
		t.Value = float64(d) / 1e6
	case t.Metric == "errors":
		num, pct := strings.CutSuffix(v, "%")
		x, err := strconv.ParseFloat(num, 64)
		if pct {
			x /= 100
		}
		if err != nil || !(x >= 0 && x <= 1) {
			return bad("%q: want a share such as 5%% or 0.05", v)
		}
		t.Value = x
	case t.Metric == "unexplained":
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("%q: want a number of accounts such as 0", v)
		}
		t.Value = float64(n)
		if len(f) == 5 {
			return bad("unexplained has no window: it counts accounts found so far")
		}
		return t, nil
	default:
		return bad("metric %q: want p50, p90, p95, p99, max, mean, errors or unexplained", f[0])
	}
	t.Window = DefaultWindow
	if len(f) == 5 {
		if f[3] != "over" {
			return bad("%q: want 'over DURATION'", f[3])
		}
		d, err := time.ParseDuration(f[4])
		if err != nil || d < time.Second || d > time.Hour {
			return bad("window %q: want 1s-1h", f[4])
		}
		t.Window = d
	}
	return t, nil
}

// ParseThresholds parses several; key names them in errors (--abort-on,
// attack.abort_on).
func ParseThresholds(key string, srcs []string) ([]Threshold, error) {
	out := make([]Threshold, 0, len(srcs))
	for i, s := range srcs {
		t, err := ParseThreshold(s)
		if err != nil {
			if len(srcs) > 1 {
				return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
			}
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func (t Threshold) holds(v float64) bool {
	switch t.Op {
	case ">":
		return v > t.Value
	case ">=":
		return v >= t.Value
	case "<":
		return v < t.Value
	}
	return v <= t.Value
}

// Fired is the threshold that stopped an attack.
type Fired struct {
	Threshold string  `json:"threshold"`
	Value     float64 `json:"value"` // ms, a share, or accounts
	AtS       float64 `json:"at_s"`  // seconds into the attack
	// StoppedEarly: the attack stopped; false when only the end-state
	// check, after the attack, crossed the threshold.
	StoppedEarly bool `json:"stopped_early"`
}

// window keeps per-second buckets of answers for the thresholds.
type window struct {
	mu      sync.Mutex
	began   time.Time
	buckets map[int64]*bucket
	longest time.Duration
}

type bucket struct {
	n, bad int64
	sumUS  float64
	hist   *hdrhistogram.Histogram
}

func newWindow(began time.Time, ts []Threshold) *window {
	w := &window{began: began, buckets: map[int64]*bucket{}}
	for _, t := range ts {
		w.longest = max(w.longest, t.Window)
	}
	return w
}

func (w *window) add(end time.Time, latency time.Duration, good bool) {
	sec := int64(end.Sub(w.began) / time.Second)
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.buckets[sec]
	if b == nil {
		b = &bucket{hist: hdrhistogram.New(1, 3_600_000_000, 2)}
		w.buckets[sec] = b
		// Forget what no window reaches any more.
		for s := range w.buckets {
			if time.Duration(sec-s)*time.Second > w.longest+time.Second {
				delete(w.buckets, s)
			}
		}
	}
	us := max(latency.Microseconds(), 1)
	b.n++
	b.sumUS += float64(us)
	_ = b.hist.RecordValue(us)
	if !good {
		b.bad++
	}
}

// value is a threshold's metric over its trailing window at now, and
// whether the window holds enough answers to judge.
func (w *window) value(t Threshold, now time.Time) (float64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cur := int64(now.Sub(w.began) / time.Second)
	from := cur - int64(t.Window/time.Second) + 1
	var n, bad int64
	var sum float64
	h := hdrhistogram.New(1, 3_600_000_000, 2)
	for s := from; s <= cur; s++ {
		if b := w.buckets[s]; b != nil {
			n += b.n
			bad += b.bad
			sum += b.sumUS
			h.Merge(b.hist)
		}
	}
	if n < minWindowAnswers {
		return 0, false
	}
	if t.Metric == "errors" {
		return float64(bad) / float64(n), true
	}
	if t.Metric == "mean" {
		return sum / float64(n) / 1000, true
	}
	return float64(h.ValueAtQuantile(quantiles[t.Metric])) / 1000, true
}
