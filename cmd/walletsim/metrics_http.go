package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/internal/manifest"
	"github.com/walletsim/walletsim/sim/metrics"
)

// serveMetrics serves walletsim's Prometheus metrics at addr for serve and
// attack (--metrics-addr); no addr, no metrics (nil, and a no-op stop).
func serveMetrics(ctx context.Context, addr, role, policy string, stderr io.Writer) (*metrics.Metrics, func(), error) {
	if addr == "" {
		return nil, func() {}, nil
	}
	reg := metrics.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{Role: role, Policy: policy, Version: manifest.Version})
	if err != nil {
		return nil, nil, err
	}
	srv, err := metrics.Serve(ctx, addr, reg)
	if err != nil {
		return nil, nil, cli.Usage(fmt.Errorf("--metrics-addr: %w", err))
	}
	fmt.Fprintf(stderr, "metrics: serving %s\n", srv.URL())
	return m, func() { srv.Close() }, nil
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// observeHTTP counts every payment request (a POST under /v1) by status
// and latency; nil m: h unchanged.
func observeHTTP(h http.Handler, m *metrics.Metrics) http.Handler {
	if m == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/v1/") {
			h.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		m.ObserveHTTP(sw.code, time.Since(start))
	})
}
