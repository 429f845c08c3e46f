package loadtest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/scenario"
)

func quickstart(t *testing.T) *scenario.Compiled {
	t.Helper()
	sc, _, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func takeTargets(t *testing.T, st *Stream, n int) []vegeta.Target {
	t.Helper()
	tr := st.Targeter()
	out := make([]vegeta.Target, n)
	for i := range out {
		if err := tr(&out[i]); err != nil {
			t.Fatal(err)
		}
		// Each answered before the next is sent (reused keys need answers).
		st.answered(out[i].Header.Get("Idempotency-Key"))
	}
	return out
}

func form(tg vegeta.Target) string { return tg.URL[strings.LastIndexByte(tg.URL, '#')+1:] }

// TestShardsSplitTheStream: n shards together send exactly the requests
// of one unsharded attack, each request once.
func TestShardsSplitTheStream(t *testing.T) {
	sc := quickstart(t)
	cfg := StreamConfig{Scenario: sc, Target: "http://127.0.0.1:1", Nonce: "n", InvalidShare: 0.2, Shards: 1}
	one, err := NewStream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	all := takeTargets(t, one, 3*n)
	for i := 0; i < 3; i++ {
		c := cfg
		c.Shard, c.Shards = i, 3
		sh, err := NewStream(c)
		if err != nil {
			t.Fatal(err)
		}
		for j, tg := range takeTargets(t, sh, n) {
			want := all[3*j+i]
			if form(tg) != form(want) {
				t.Fatalf("shard %d request %d: form %s, unsharded %s", i, j, form(tg), form(want))
			}
			if form(tg) == ReusedKey.String() {
				continue // reuses a key of its own shard's history
			}
			if tg.URL != want.URL || !bytes.Equal(tg.Body, want.Body) || tg.Header.Get("Idempotency-Key") != want.Header.Get("Idempotency-Key") {
				t.Fatalf("shard %d request %d differs:\n%s %s\n%s %s", i, j, tg.URL, tg.Body, want.URL, want.Body)
			}
		}
	}
	if _, err := NewStream(StreamConfig{Scenario: sc, Shard: 2, Shards: 2}); err == nil {
		t.Error("shard 2/2 accepted")
	}
}

// TestStreamForms: valid requests are well-formed JSON for their endpoint;
// every invalid form turns up, and each is wrong in its own way.
func TestStreamForms(t *testing.T) {
	st, err := NewStream(StreamConfig{Scenario: quickstart(t), Target: "http://127.0.0.1:1", Nonce: "n", InvalidShare: 0.5, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	paths := map[string]int{}
	for _, tg := range takeTargets(t, st, 4000) {
		f := form(tg)
		seen[f]++
		var m map[string]any
		jerr := json.Unmarshal(tg.Body, &m)
		switch f {
		case "valid":
			if jerr != nil || m["amount"].(float64) <= 0 {
				t.Fatalf("valid request %s: %v", tg.Body, jerr)
			}
			paths[tg.URL[strings.Index(tg.URL, "/v1"):strings.IndexByte(tg.URL, '#')]]++
		case "malformed_json":
			if jerr == nil {
				t.Fatalf("malformed body parses: %s", tg.Body)
			}
		case "negative_amount":
			if jerr != nil || m["amount"].(float64) >= 0 {
				t.Fatalf("negative_amount: %s", tg.Body)
			}
		case "oversized_body":
			if len(tg.Body) <= 16<<10 || jerr != nil {
				t.Fatalf("oversized body of %d bytes (%v)", len(tg.Body), jerr)
			}
		case "unknown_field":
			if _, ok := m["tip"]; !ok {
				t.Fatalf("unknown_field: %s", tg.Body)
			}
		}
		if tg.Method != "POST" || tg.Header.Get("Content-Type") != "application/json" || tg.Header.Get("Idempotency-Key") == "" {
			t.Fatalf("request %s %s lacks method or headers %v", tg.Method, tg.URL, tg.Header)
		}
	}
	for f := Form(0); f < NumForms; f++ {
		if seen[f.String()] == 0 {
			t.Errorf("form %s never generated in 4000 requests: %v", f, seen)
		}
	}
	for _, p := range []string{"/v1/payments", "/v1/transfers", "/v1/transit/fares", "/v1/topups"} {
		if paths[p] == 0 {
			t.Errorf("no valid request to %s: %v", p, paths)
		}
	}
}

// TestReusedKeysAreAnswered: a request that reuses a key is handed to
// the attacker only once the key's original has its answer; the key is
// chosen by the seed alone, so the stream stays the same.
func TestReusedKeysAreAnswered(t *testing.T) {
	st, err := NewStream(StreamConfig{Scenario: quickstart(t), Target: "http://127.0.0.1:1", Nonce: "n", InvalidShare: 0.5, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	waits := 0
	// Nobody answers but this stand-in for the wait: it answers the
	// original it is asked to wait for.
	st.testAwait = func(done chan struct{}) {
		select {
		case <-done:
			return
		default:
		}
		st.mu.Lock()
		var key string
		for k, ch := range st.pending {
			if ch == done {
				key = k
			}
		}
		st.mu.Unlock()
		if key == "" {
			t.Fatal("waiting for a request that is not pending")
		}
		waits++
		st.answered(key)
	}
	tr := st.Targeter()
	reused := 0
	for i := 0; i < 3000; i++ {
		var tg vegeta.Target
		if err := tr(&tg); err != nil {
			t.Fatal(err)
		}
		if form(tg) == ReusedKey.String() {
			reused++
			st.mu.Lock()
			_, inFlight := st.pending[tg.Header.Get("Idempotency-Key")]
			st.mu.Unlock()
			if inFlight {
				t.Fatalf("request %d reuses %s, whose original has no answer yet", i, tg.Header.Get("Idempotency-Key"))
			}
		}
	}
	if reused == 0 || waits == 0 {
		t.Fatalf("%d keys reused, %d waits", reused, waits)
	}
}
