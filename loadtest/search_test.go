package loadtest

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestSearch: every target is attacked at every rate in turn until it
// fails or the limit is reached, and the best rate is the last sustained.
func TestSearch(t *testing.T) {
	a := httptest.NewServer(NoopHandler())
	defer a.Close()
	b := httptest.NewServer(NoopHandler())
	defer b.Close()
	shape, err := ProfileShape("constant", 1, 300*time.Millisecond, 1)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	// A p99 bound no loopback no-op misses: the test checks the walk, not
	// the machine.
	res, err := Search(t.Context(), SearchConfig{
		Attack: Config{Scenario: quickstart(t), Shape: shape}, Targets: []SearchTarget{{"a", a.URL}, {"b", b.URL}},
		Start: 50, Factor: 2, Limit: 200, MaxP99: time.Minute, Retries: 1, Log: &log,
	})
	if err != nil {
		t.Fatal(err)
	}
	// A step the machine's load made miss its rate is retried once
	// (Retries: 1): the walk is what counts, one sustained step per target
	// and rate in order, each failed attempt followed by its retry.
	var walk []SearchStep
	for i, st := range res.Steps {
		if !st.Sustained {
			if i+1 >= len(res.Steps) || res.Steps[i+1].Target != st.Target || res.Steps[i+1].Rate != st.Rate {
				t.Fatalf("step %d failed and was not retried:\n%s", i, log.String())
			}
			continue
		}
		walk = append(walk, st)
	}
	if len(walk) != 6 {
		t.Fatalf("%d sustained steps, want 2 targets x 3 rates (50, 100, 200):\n%s", len(walk), log.String())
	}
	for i, st := range walk {
		if want := []string{"a", "b"}[i%2]; st.Target != want || st.Rate != []float64{50, 100, 200}[i/2] {
			t.Errorf("step %d: %+v", i, st)
		}
	}
	if res.Best["a"] != 200 || res.Best["b"] != 200 {
		t.Errorf("best %v", res.Best)
	}
	if !strings.Contains(log.String(), "sustained") {
		t.Errorf("no table:\n%s", log.String())
	}
}
