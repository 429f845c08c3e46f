package metrics

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Listen makes a registry with walletsim's metrics (New) and serves it at
// http://addr/metrics (Serve): what --metrics-addr starts.
func Listen(ctx context.Context, addr string, o Options) (*Metrics, *Server, error) {
	reg := NewRegistry()
	m, err := New(reg, o)
	if err != nil {
		return nil, nil, err
	}
	srv, err := Serve(ctx, addr, reg)
	if err != nil {
		return nil, nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	return m, srv, nil
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

// Middleware counts every payment request (a POST under /v1) that h
// answers, by status and latency (ObserveHTTP); a nil m returns h.
func (m *Metrics) Middleware(h http.Handler) http.Handler {
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
