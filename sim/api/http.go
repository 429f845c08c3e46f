package api

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"
)

// HTTPServer is the API served over HTTP: the engine (Server) and the HTTP
// server on its listener, started and stopped together.
type HTTPServer struct {
	*Server
	hs     *http.Server
	served chan struct{} // closes when the HTTP server's Serve returns
}

// Listen starts the engine (Start) and serves its handler on ln, wrapped by
// wrap (metrics) when given, until Close. ln is closed on error.
func Listen(ctx context.Context, cfg Config, ln net.Listener, wrap func(http.Handler) http.Handler) (*HTTPServer, error) {
	s, err := Start(ctx, cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	h := &HTTPServer{Server: s, served: make(chan struct{}), hs: &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.cfg.SyncTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}}
	if wrap != nil {
		h.hs.Handler = wrap(h.hs.Handler)
	}
	go func() {
		defer close(h.served)
		_ = h.hs.Serve(ln) // ErrServerClosed after Close
	}()
	return h, nil
}

// Close stops the HTTP server (waiting for handlers, which wait for their
// outcomes), then drains the engine and audits the log.
func (h *HTTPServer) Close() (*Final, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.hs.Shutdown(ctx); err != nil {
		h.hs.Close()
	}
	<-h.served
	return h.Server.Close(ctx)
}

// WriteText prints what the log holds after a session and the verdict.
func (f *Final) WriteText(w io.Writer) {
	r := f.Audit
	verdict := "OK"
	if !r.OK() {
		verdict = "VIOLATED"
	}
	fmt.Fprintf(w, "accepted          %d payments (%d settled, %d declined in the log; %d by earlier sessions)\n", f.Accepted, r.Succeeded, r.Declined, f.Restored)
	fmt.Fprintf(w, "invariants        %s: money conserved %v, negative balances %d, duplicate events %d, unresolved commands %d\n",
		verdict, r.MoneyConserved, r.NegativeBalances, r.DuplicateEvents, r.UnresolvedCommands)
}

// WaitReady waits until the population's wallets are open; an engine
// that stops first, or ctx ending, is an error.
func (h *HTTPServer) WaitReady(ctx context.Context) error {
	select {
	case <-h.Ready():
		return nil
	case <-h.Done():
		return fmt.Errorf("in-process server stopped: %v", h.Err())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Serve is `walletsim serve`'s lifetime: the API on ln (Listen) until ctx
// ends or the engine stops, then drained and audited (Close). It names
// the server, its readiness and the drain on out.
func Serve(ctx context.Context, cfg Config, ln net.Listener, wrap func(http.Handler) http.Handler, out io.Writer) (*Final, error) {
	addr := ln.Addr()
	h, err := Listen(ctx, cfg, ln, wrap)
	if err != nil {
		return nil, err
	}
	auth := "no auth"
	if cfg.Token != "" {
		auth = "bearer token required" // never the token itself
	}
	fmt.Fprintf(out, "walletsim serve: http://%s (%d wallets, %s, %s)\n", addr, h.Wallets(), cfg.Scenario.Name, auth)
	select {
	case <-h.Ready():
		fmt.Fprintln(out, "walletsim serve: ready")
	case <-ctx.Done():
	case <-h.Done():
	}
	select {
	case <-ctx.Done():
	case <-h.Done():
	}
	fmt.Fprintln(out, "walletsim serve: draining")
	return h.Close()
}

// Local serves the API in-process on a loopback port for a client in the
// same process (attack's default target), without a token since nobody
// else can reach it, and returns its base URL once every wallet is open.
// progress (nil: none) gets a line while they open.
func Local(ctx context.Context, cfg Config, progress io.Writer) (*HTTPServer, string, error) {
	cfg.Token = ""
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	url := "http://" + ln.Addr().String()
	h, err := Listen(ctx, cfg, ln, nil)
	if err != nil {
		return nil, "", err
	}
	if progress != nil {
		fmt.Fprintf(progress, "attack: serving %s in-process at %s (%d wallets); opening wallets\n", cfg.Scenario.Name, url, h.Wallets())
	}
	if err := h.WaitReady(ctx); err != nil {
		h.Close()
		return nil, "", err
	}
	return h, url, nil
}

// LessGC trades memory for latency unless GOGC or GOMEMLIMIT say
// otherwise. Most of the live heap is the embedded broker's log, which
// every collection marks again, and a mark phase on two cores shows as a
// latency spike of tens of milliseconds: collecting at 10x the live heap
// makes them rare, and a 4 GiB soft limit keeps a long in-memory run from
// growing without bound.
func LessGC() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(1000)
		debug.SetMemoryLimit(4 << 30)
	}
}
