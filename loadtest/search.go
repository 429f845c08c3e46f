package loadtest

import (
	"context"
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

// Search raises the rate step by step (times factor) and attacks every
// target at each rate in turn, so that they share the machine's
// conditions: a rate is sustained when the target answered at least 99%
// of requests as defined, dropped under 1%, kept the rate within 1% and had
// a p99 latency under maxP99. Each step follows a one-second warm-up at
// its rate on the same connections, not counted: the first requests of
// an attack pay for connecting and for the server's first collections.
// A failed rate is tried up to retries more
// times before the target stops (a machine shared with other work has bad
// seconds); the search ends when every target has stopped.
func Search(ctx context.Context, base Options, targets []SearchTarget, start, factor, limit float64, maxP99 time.Duration, retries int, log io.Writer) (*SearchResult, error) {
	res := &SearchResult{MaxP99MS: float64(maxP99) / 1e6, Best: map[string]float64{}}
	done, failed := map[string]bool{}, map[string]int{}
	clients := map[string]*http.Client{}
	for _, tg := range targets {
		clients[tg.Name] = NewClient(int(min(max(base.MaxWorkers, 1), 10_000)), max(base.Timeout, time.Second))
		defer clients[tg.Name].CloseIdleConnections()
	}
	row := "%-12s %9s %11s %8s %8s %8s %8s  %s\n"
	fmt.Fprintf(log, row, "target", "rate/s", "achieved/s", "p50 ms", "p99 ms", "success", "dropped", "sustained")
	for rate := start; rate <= limit && len(done) < len(targets); rate *= factor {
		for _, tg := range targets {
		retry:
			if done[tg.Name] {
				continue
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
			shape, err := ProfileShape("constant", rate, base.Shape.Duration, 1)
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
