package loadtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Attack runs the attack: it paces payments from the scenario's stream by
// the shape, sends them through the template, writes every result to
// DIR/results.bin in vegeta's encoding and returns the report (not yet
// written: the caller may add invariants). With the template's balance:
// it reads every account the traffic touches before and after and checks
// the end state; an --abort-on threshold stops it early (Report.Fired).
func Attack(ctx context.Context, c Config) (*Report, error) {
	c.setDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Target == "" {
		return nil, errors.New("loadtest: no target")
	}
	nonce := c.Nonce + "-" + fmt.Sprint(c.Shard)
	sc := StreamConfig{
		Scenario: c.Scenario, Target: c.Target, Token: c.Token, Nonce: nonce,
		InvalidShare: c.InvalidShare, Shard: c.Shard, Shards: c.Shards, ReuseWait: c.Timeout,
	}
	st, err := NewStream(sc)
	if err != nil {
		return nil, err
	}
	var f *os.File
	bw := bufio.NewWriterSize(io.Discard, 1<<20)
	if c.Out != "" {
		if err := os.MkdirAll(c.Out, 0o755); err != nil {
			return nil, err
		}
		if f, err = os.Create(filepath.Join(c.Out, "results.bin")); err != nil {
			return nil, err
		}
		defer f.Close()
		bw.Reset(f)
	}
	enc := vegeta.NewEncoder(bw)

	shape := c.Shape.Scaled(1 / float64(c.Shards))
	client := c.Client
	if client == nil {
		// Closed at the end: an idle connection per worker would
		// otherwise hold two file descriptors (in-process) until it times
		// out, and a series of attacks runs out of them.
		client = NewClient(int(min(c.MaxWorkers, 10_000)), c.Timeout)
		defer client.CloseIdleConnections()
	}
	tpl := c.Template

	// The end state before: every account the planned traffic touches.
	var track *tracker
	var balances *balanceReader
	if tpl.Balance != nil {
		// Its own client: a balance read is not part of the load, and a
		// short --timeout meant for the payments must not fail the check.
		bc := NewClient(16, max(c.Timeout, 10*time.Second))
		defer bc.CloseIdleConnections()
		balances = &balanceReader{b: tpl.Balance, client: bc, target: st.base, token: c.Token}
		accts, err := streamAccounts(sc, shape.Planned())
		if err != nil {
			return nil, err
		}
		before, err := balances.readAll(ctx, accts)
		if err != nil {
			return nil, fmt.Errorf("end-state check, before the attack: %w", err)
		}
		track = newTracker(before)
	}

	name := fmt.Sprintf("walletsim-%s-%d/%d", c.Scenario.Name, c.Shard, c.Shards)
	var results <-chan *vegeta.Result
	var stop func()
	began := time.Now()
	if tpl.builtin {
		hc := *client
		hc.Transport = answerHook{base: client.Transport, st: st}
		atk := vegeta.NewAttacker(
			vegeta.Client(&hc),
			vegeta.Workers(64),
			vegeta.MaxWorkers(c.MaxWorkers),
			// Answers are small; a cap keeps results.bin small even when a
			// target misbehaves.
			vegeta.MaxBody(resultBody),
		)
		results = atk.Attack(st.Targeter(), shape, shape.Duration, name)
		stop = func() { atk.Stop() }
	} else {
		ex := &executor{tpl: tpl, forms: templateForms(tpl), stream: st, client: client, name: name,
			workers: 64, maxWork: c.MaxWorkers, track: track}
		results = ex.attack(shape, shape.Duration)
		began = ex.began
		stop = ex.stop
	}
	agg := NewAggregator()
	agg.pace(shape, began)
	win := newWindow(began, c.AbortOn)
	var sent atomic.Int64
	stopProgress := progress(c.Progress, &sent, shape, began)

	// The live end-state check of 'unexplained > 0'.
	var unexplained atomic.Int64
	liveDone := make(chan struct{})
	liveStopped := make(chan struct{})
	liveCtx, liveCancel := context.WithCancel(ctx)
	go func() {
		defer close(liveStopped)
		if track == nil || !hasMetric(c.AbortOn, "unexplained") {
			return
		}
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-liveDone:
				return
			case <-t.C:
				unexplained.Store(int64(track.liveCheck(liveCtx, 32, balances.read)))
			}
		}
	}()

	var encErr error
	stopped := false
	halt := func() {
		if !stopped {
			stop()
			stopped = true
		}
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	judge := func(now time.Time) {
		if stopped || len(c.AbortOn) == 0 {
			return
		}
		for _, th := range c.AbortOn {
			v, ok := 0.0, true
			if th.Metric == "unexplained" {
				v = float64(unexplained.Load())
			} else {
				v, ok = win.value(th, now)
			}
			if ok && th.holds(v) {
				agg.r.Fired = &Fired{Threshold: th.Src, Value: v, AtS: now.Sub(began).Seconds(), StoppedEarly: true}
				halt()
				return
			}
		}
	}
loop:
	for {
		select {
		case res, ok := <-results:
			if !ok {
				break loop
			}
			sent.Add(1)
			if ctx.Err() != nil {
				halt()
			}
			good := agg.add(res)
			win.add(res.End(), res.Latency, good)
			if c.OnResult != nil {
				c.OnResult(int(res.Code), res.Latency)
			}
			if encErr == nil && f != nil {
				encErr = enc.Encode(res)
			}
		case now := <-tick.C:
			judge(now)
			if ctx.Err() != nil {
				halt()
			}
		}
	}
	close(liveDone)
	<-liveStopped
	liveCancel()
	stopProgress()
	if encErr == nil {
		encErr = bw.Flush()
	}
	if encErr != nil {
		return nil, fmt.Errorf("results.bin: %w", encErr)
	}
	fired := agg.r.Fired
	r := agg.Finish()
	r.Fired = fired
	r.Scenario, r.Target, r.Profile, r.Template = c.Scenario.Name, c.Target, c.Shape.Name, tpl.Name
	r.Shards = []string{fmt.Sprintf("%d/%d", c.Shard, c.Shards)}
	r.RequestedRate = float64(shape.Planned()) / shape.Duration.Seconds()

	if track != nil {
		after, err := balances.readAll(context.WithoutCancel(ctx), track.order)
		if err != nil {
			return nil, fmt.Errorf("end-state check, after the attack: %w", err)
		}
		r.EndState = track.check(after)
		for _, th := range c.AbortOn {
			if v := float64(r.EndState.UnexplainedAccounts); th.Metric == "unexplained" && r.Fired == nil && th.holds(v) {
				r.Fired = &Fired{Threshold: th.Src, Value: v, AtS: time.Since(began).Seconds()}
			}
		}
	}
	if f == nil {
		return r, nil
	}
	return r, f.Close()
}

func hasMetric(ts []Threshold, m string) bool {
	for _, t := range ts {
		if t.Metric == m {
			return true
		}
	}
	return false
}

// answerHook tells the built-in path's stream which valid requests have
// their answers (a vegeta Targeter never learns), so that reused keys are
// only those of answered requests.
type answerHook struct {
	base http.RoundTripper
	st   *Stream
}

func (h answerHook) RoundTrip(r *http.Request) (*http.Response, error) {
	base := h.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(r)
	// Answered or failed, the original is done: its reusers may go.
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		h.st.answered(k)
	}
	return resp, err
}
