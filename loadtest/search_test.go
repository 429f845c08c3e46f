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
	if len(res.Steps) != 6 {
		t.Fatalf("%d steps, want 2 targets x 3 rates (50, 100, 200):\n%s", len(res.Steps), log.String())
	}
	for i, st := range res.Steps {
		if want := []string{"a", "b"}[i%2]; st.Target != want || !st.Sustained {
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
