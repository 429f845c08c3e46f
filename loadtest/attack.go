package loadtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Options configure one attack.
type Options struct {
	Scenario *scenario.Compiled
	Target   string // base URL of the API
	Token    string
	Shape    *Shape // the whole attack's shape; a shard sends its share
	// InvalidShare of requests are invalid on purpose.
	InvalidShare float64
	Shard        int
	Shards       int
	// Out is the directory for results.bin (created if missing); empty:
	// no results.bin (the steps of a rate search).
	Out string
	// Timeout per request (default 30s); MaxWorkers bounds concurrent
	// requests (default 10,000).
	Timeout    time.Duration
	MaxWorkers uint64
	// Nonce keeps idempotency keys apart from other attacks on the same
	// server (default: the start time).
	Nonce string
	// Progress, if set, gets a line per second.
	Progress io.Writer
	// Client, if set, carries the requests, and its connections outlive
	// the attack (a rate search reuses them); otherwise Attack makes one
	// and closes its connections at the end.
	Client *http.Client
	// OnResult, if set, sees each result's status code (0: transport
	// error) and latency: attack --metrics-addr counts them.
	OnResult func(code int, latency time.Duration)
}

// NewClient is an HTTP client for attacks on one target: keep-alive, up to
// conns connections, and no HTTP/2 (vegeta's defaults, made here so that
// the connections can be closed or reused).
func NewClient(conns int, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, DialContext: d.DialContext,
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: 30 * time.Second,
			TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Attack runs the attack: it paces requests from the scenario's stream by
// the shape, writes every result to DIR/results.bin in vegeta's encoding
// and returns the report (not yet written: the caller may add invariants).
func Attack(ctx context.Context, o Options) (*Report, error) {
	if o.Shards == 0 {
		o.Shards = 1
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxWorkers == 0 {
		o.MaxWorkers = 1000
	}
	if o.Nonce == "" {
		o.Nonce = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if o.Shape == nil {
		return nil, errors.New("loadtest: no shape")
	}
	nonce := o.Nonce + "-" + strconv.Itoa(o.Shard)
	st, err := NewStream(StreamConfig{
		Scenario: o.Scenario, Target: o.Target, Token: o.Token, Nonce: nonce,
		InvalidShare: o.InvalidShare, Shard: o.Shard, Shards: o.Shards,
	})
	if err != nil {
		return nil, err
	}
	var f *os.File
	bw := bufio.NewWriterSize(io.Discard, 1<<20)
	if o.Out != "" {
		if err := os.MkdirAll(o.Out, 0o755); err != nil {
			return nil, err
		}
		if f, err = os.Create(filepath.Join(o.Out, "results.bin")); err != nil {
			return nil, err
		}
		defer f.Close()
		bw.Reset(f)
	}
	enc := vegeta.NewEncoder(bw)

	shape := o.Shape.Scaled(1 / float64(o.Shards))
	client := o.Client
	if client == nil {
		// Closed at the end: an idle connection per worker would
		// otherwise hold two file descriptors (in-process) until it times
		// out, and a series of attacks runs out of them.
		client = NewClient(int(min(o.MaxWorkers, 10_000)), o.Timeout)
		defer client.CloseIdleConnections()
	}
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(64),
		vegeta.MaxWorkers(o.MaxWorkers),
		// Answers are small; a cap keeps results.bin small even when a
		// target misbehaves.
		vegeta.MaxBody(1024),
	)
	agg := NewAggregator()
	began := time.Now()
	agg.pace(shape, began)
	name := fmt.Sprintf("walletsim-%s-%d/%d", o.Scenario.Name, o.Shard, o.Shards)
	results := atk.Attack(st.Targeter(), shape, shape.Duration, name)
	var sent atomic.Int64
	stopProgress := progress(o.Progress, &sent, shape, began)
	var encErr error
	stopped := false
	for res := range results {
		sent.Add(1)
		if !stopped && ctx.Err() != nil {
			atk.Stop()
			stopped = true
		}
		agg.Add(res)
		if o.OnResult != nil {
			o.OnResult(int(res.Code), res.Latency)
		}
		if encErr == nil && f != nil {
			encErr = enc.Encode(res)
		}
	}
	stopProgress()
	if encErr == nil {
		encErr = bw.Flush()
	}
	if encErr != nil {
		return nil, fmt.Errorf("results.bin: %w", encErr)
	}
	r := agg.Finish()
	r.Scenario, r.Target, r.Profile = o.Scenario.Name, o.Target, o.Shape.Name
	r.Shards = []string{fmt.Sprintf("%d/%d", o.Shard, o.Shards)}
	r.RequestedRate = float64(shape.Planned()) / shape.Duration.Seconds()
	if f == nil {
		return r, nil
	}
	return r, f.Close()
}

func progress(w io.Writer, sent *atomic.Int64, shape *Shape, began time.Time) func() {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				el := time.Since(began)
				fmt.Fprintf(w, "attack: %3.0fs  %d answered, %.0f/s asked now\n", el.Seconds(), sent.Load(), shape.Rate(el))
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// NoopHandler answers every request with a small JSON body after reading
// the request's: the baseline the API is measured against, under the same
// attacker in the same run.
func NoopHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 1<<20))
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", "16")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
}
