package api

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

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
