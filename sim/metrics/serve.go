package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves g in the Prometheus text format. serve mounts it on its
// own mux at /metrics; Serve wraps it in a server of its own.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		// A failed collector should not hide the others: serve what works.
		ErrorHandling: promhttp.ContinueOnError,
		// Scrapes are small; a stuck one must not pile up goroutines.
		Timeout: 10 * time.Second,
	})
}

// Server is a /metrics HTTP server.
type Server struct {
	srv  *http.Server
	addr string
	done chan struct{}
	err  error // written before done closes
}

// Serve listens on addr (host:port; port 0 picks a free one) and serves g
// at /metrics until ctx ends or Close is called. It returns once the
// listener is bound, so Addr is the real address.
func Serve(ctx context.Context, addr string, g prometheus.Gatherer) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler(g))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "walletsim: Prometheus metrics at /metrics")
	})
	s := &Server{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		addr: ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err = err // the socket failed after binding: Close reports it
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
		}
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.addr }

// URL is the scrape URL.
func (s *Server) URL() string { return "http://" + s.addr + "/metrics" }

// Close stops the server, letting a scrape in progress finish (briefly).
// A nil Server (no metrics asked for) closes as nothing.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.done
	return errors.Join(err, s.err)
}
