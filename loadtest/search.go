package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// SearchTarget is one server a rate search attacks.
type SearchTarget struct {
	Name string
	URL  string
}

// SearchStep is one rate tried on one target.
type SearchStep struct {
	Target    string  `json:"target"`
	Rate      float64 `json:"rate"`
	Achieved  float64 `json:"achieved"`
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
	Success   float64 `json:"success_ratio"`
	Dropped   int64   `json:"dropped"`
	Sustained bool    `json:"sustained"`
}

// SearchResult is the highest rate each target sustained.
type SearchResult struct {
	MaxP99MS float64            `json:"max_p99_ms"`
	Steps    []SearchStep       `json:"steps"`
	Best     map[string]float64 `json:"best"` // target -> highest sustained rate
}

// SearchConfig configures a rate search.
type SearchConfig struct {
	// Attack is the attack every step runs (its Target, Out, Progress,
	// Client and Shape are set per step).
	Attack  Config
	Targets []SearchTarget
	// Start is the first rate tried; each next is Factor times the last,
	// up to Limit. Defaults: 1000/s, x1.25, 200,000/s.
	Start, Factor, Limit float64
	// MaxP99 is the p99 latency a sustained rate stays under (default
	// 25ms); StepDuration the length of each step (default 10s).
	MaxP99       time.Duration
	StepDuration time.Duration
	// Retries: tries of a failed rate before a target stops (default 0).
	Retries int
	// Log gets a line per step (default: discarded).
	Log io.Writer
}

func (c *SearchConfig) setDefaults() {
	if c.Start == 0 {
		c.Start = 1000
	}
	if c.Factor == 0 {
		c.Factor = 1.25
	}
	if c.Limit == 0 {
		c.Limit = 200_000
	}
	if c.MaxP99 == 0 {
		c.MaxP99 = 25 * time.Millisecond
	}
	if c.StepDuration == 0 {
		c.StepDuration = 10 * time.Second
		if c.Attack.Shape != nil {
			c.StepDuration = c.Attack.Shape.Duration
		}
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Validate checks the search after defaults.
func (c *SearchConfig) Validate() error {
	var errs []error
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("search: no targets"))
	}
	if !(c.Start > 0) || !(c.Factor > 1) || !(c.Limit >= c.Start) {
		errs = append(errs, fmt.Errorf("search: start %v, factor %v, limit %v: want start > 0, factor > 1, limit >= start", c.Start, c.Factor, c.Limit))
	}
	if c.MaxP99 <= 0 || c.StepDuration <= 0 || c.Retries < 0 {
		errs = append(errs, fmt.Errorf("search: max p99 %s, step %s, retries %d: want positive durations and retries >= 0", c.MaxP99, c.StepDuration, c.Retries))
	}
	for _, tg := range c.Targets {
		if tg.Name == "" || tg.URL == "" {
			errs = append(errs, fmt.Errorf("search: target %+v needs a name and a URL", tg))
		}
	}
	return errors.Join(errs...)
}

// Search raises the rate step by step (times Factor) and attacks every
// target at each rate in turn, so that they share the machine's
// conditions: a rate is sustained when the target answered at least 99%
// of requests as defined, dropped under 1%, kept the rate within 1% and had
// a p99 latency under MaxP99. Each step follows a one-second warm-up at
// its rate on the same connections, not counted: the first requests of
// an attack pay for connecting and for the server's first collections.
// A failed rate is tried up to Retries more
// times before the target stops (a machine shared with other work has bad
// seconds); the search ends when every target has stopped.
func Search(ctx context.Context, c SearchConfig) (*SearchResult, error) {
	c.setDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	base, targets, maxP99, retries, log := c.Attack, c.Targets, c.MaxP99, c.Retries, c.Log
	res := &SearchResult{MaxP99MS: float64(maxP99) / 1e6, Best: map[string]float64{}}
	done, failed := map[string]bool{}, map[string]int{}
	clients := map[string]*http.Client{}
	for _, tg := range targets {
		clients[tg.Name] = NewClient(int(min(max(base.MaxWorkers, 1), 10_000)), max(base.Timeout, time.Second))
		defer clients[tg.Name].CloseIdleConnections()
	}
	row := "%-12s %9s %11s %8s %8s %8s %8s  %s\n"
	fmt.Fprintf(log, row, "target", "rate/s", "achieved/s", "p50 ms", "p99 ms", "success", "dropped", "sustained")
	for rate := c.Start; rate <= c.Limit && len(done) < len(targets); rate *= c.Factor {
		for _, tg := range targets {
		retry:
			if done[tg.Name] {
				continue
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
			shape, err := ProfileShape("constant", rate, c.StepDuration, 1)
			if err != nil {
				return res, err
			}
			o := base
			o.Target, o.Out, o.Progress, o.Client = tg.URL, "", nil, clients[tg.Name]
			if o.Shape, err = ProfileShape("constant", rate, time.Second, 1); err != nil {
				return res, err
			}
			if _, err := Attack(ctx, o); err != nil {
				return res, err
			}
			o.Shape = shape
			r, err := Attack(ctx, o)
			if err != nil {
				return res, err
			}
			st := SearchStep{
				Target: tg.Name, Rate: rate, Achieved: r.Rate, P50MS: r.LatencyMS.P50, P99MS: r.LatencyMS.P99,
				Success: r.SuccessRatio, Dropped: r.Dropped,
			}
			st.Sustained = r.SuccessRatio >= 0.99 && float64(r.Dropped) <= 0.01*float64(r.Planned) &&
				r.Rate >= 0.99*rate && r.LatencyMS.P99 < res.MaxP99MS
			res.Steps = append(res.Steps, st)
			fmt.Fprintf(log, row, st.Target, fmt.Sprintf("%.0f", st.Rate), fmt.Sprintf("%.0f", st.Achieved), fmt.Sprintf("%.2f", st.P50MS),
				fmt.Sprintf("%.2f", st.P99MS), fmt.Sprintf("%.4f", st.Success), fmt.Sprint(st.Dropped), fmt.Sprint(st.Sustained))
			switch {
			case st.Sustained:
				res.Best[tg.Name] = rate
				delete(failed, tg.Name)
			case failed[tg.Name] < retries:
				failed[tg.Name]++
				goto retry
			default:
				done[tg.Name] = true
			}
		}
	}
	return res, nil
}
