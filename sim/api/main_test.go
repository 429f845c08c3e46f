package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// One server for the package's tests: a real embedded broker, the real
// engine, a real HTTP server on 127.0.0.1. Opening even a small population
// takes a moment, so the tests share it; each uses its own wallets where
// balances matter.
var (
	testAPI *Server
	testURL string
)

func testScenario(t testing.TB) *scenario.Compiled {
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	if err := ScalePopulation(&s, 0.05); err != nil {
		t.Fatal(err)
	}
	sc, err = scenarios.Recompile(src, &s)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func startTestServer(t testing.TB, mod func(*Config)) (*Server, *httptest.Server) {
	tab, _, _, err := scenarios.LoadPolicy("unionpay-open-2024")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Scenario: testScenario(t), Policy: tab}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.Ready():
	case <-srv.Done():
		t.Fatalf("engine stopped before ready: %v", srv.Err())
	case <-time.After(2 * time.Minute):
		t.Fatal("wallets not open after 2 minutes")
	}
	return srv, httptest.NewServer(srv.Handler())
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	var hs *httptest.Server
	ok := func() (ok bool) {
		defer func() {
			if r := recover(); r != nil {
				fmt.Fprintln(os.Stderr, "test server:", r)
			}
		}()
		testAPI, hs = startTestServer(&mainTB{}, nil)
		return true
	}()
	if !ok {
		os.Exit(1)
	}
	testURL = hs.URL
	code := m.Run()
	hs.Close()
	// Everything the tests sent, valid or not: money must be conserved and
	// every accepted payment resolved.
	fin, err := testAPI.Close(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "close:", err)
		os.Exit(1)
	}
	a := fin.Audit
	if !a.MoneyConserved || a.UnresolvedCommands != 0 || a.NegativeBalances != 0 || a.DuplicateOutcomes != 0 ||
		a.FXViolations != 0 || a.FeeViolations != 0 || a.LimitViolations != 0 || a.BalanceMismatches != 0 || a.UnbalancedEvents != 0 || a.SequenceGaps != 0 {
		fmt.Fprintf(os.Stderr, "invariants after the tests: %+v\n", a)
		code = 1
	}
	if int64(a.Attempted) != fin.Accepted {
		fmt.Fprintf(os.Stderr, "accepted %d payments, the log holds %d\n", fin.Accepted, a.Attempted)
		code = 1
	}
	os.Exit(code)
}

// mainTB lets TestMain use the helpers that take a testing.TB.
type mainTB struct{ testing.TB }

func (*mainTB) Helper()                   {}
func (*mainTB) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (*mainTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

func needServer(t *testing.T) {
	t.Helper()
	if testAPI == nil {
		t.Skip("needs the embedded broker and engine (not in -short)")
	}
}

// call sends one request and returns the status and the decoded body.
func call(t *testing.T, method, path string, body []byte, hdr map[string]string) (int, map[string]any, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, testURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, raw)
	}
	return resp.StatusCode, m, raw
}
