package api

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walletsim/walletsim/scenarios"
)

// Listen serves the API on a real listener, through the wrapper, until
// Close, which drains the engine and audits the log.
func TestListenAndClose(t *testing.T) {
	tab, _, _, err := scenarios.LoadPolicy("unionpay-open-2024")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	wrap := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen.Add(1); h.ServeHTTP(w, r) })
	}
	srv, err := Listen(context.Background(), Config{Scenario: testScenario(t), Policy: tab}, ln, wrap)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.Ready():
	case <-srv.Done():
		t.Fatalf("engine stopped before ready: %v", srv.Err())
	}
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || seen.Load() != 1 {
		t.Fatalf("healthz: %d, wrapper saw %d requests", resp.StatusCode, seen.Load())
	}
	fin, err := srv.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !fin.Audit.OK() {
		t.Errorf("audit after close: %v", fin.Audit.Violations())
	}
	var b strings.Builder
	fin.WriteText(&b)
	if !strings.Contains(b.String(), "invariants        OK") {
		t.Errorf("WriteText:\n%s", b.String())
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("still serving after Close")
	}
}

// Serve runs until its context ends, naming the server, its readiness and
// the drain, and returns the audit.
func TestServe(t *testing.T) {
	tab, _, _, err := scenarios.LoadPolicy("unionpay-open-2024")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	var fin *Final
	go func() {
		var err error
		fin, err = Serve(ctx, Config{Scenario: testScenario(t), Policy: tab, Token: "s3cret"}, ln, nil, out)
		done <- err
	}()
	for !strings.Contains(out.String(), "walletsim serve: ready") {
		select {
		case err := <-done:
			t.Fatalf("Serve returned before ready: %v\n%s", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "bearer token required") || strings.Contains(s, "s3cret") || !strings.HasSuffix(s, "walletsim serve: draining\n") || !fin.Audit.OK() {
		t.Errorf("output:\n%s\naudit %v", s, fin.Audit.Violations())
	}
}

// syncBuffer is an io.Writer read while Serve writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
