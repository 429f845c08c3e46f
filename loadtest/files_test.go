package loadtest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSearchResultOutputs(t *testing.T) {
	r := &SearchResult{Best: map[string]float64{"api": 800, "no-op": 1000}}
	var b strings.Builder
	r.WriteSummary(&b, "api")
	if b.String() != "highest sustained: api 800/s, no-op 1000/s (80%)\n" {
		t.Errorf("summary %q", b.String())
	}
	b.Reset()
	(&SearchResult{Best: map[string]float64{"api": 5}}).WriteSummary(&b, "api")
	if !strings.HasSuffix(b.String(), "(0%)\n") {
		t.Errorf("no baseline: %q", b.String())
	}
	dir := filepath.Join(t.TempDir(), "new")
	if err := r.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	var back SearchResult
	if data, err := os.ReadFile(filepath.Join(dir, "search.json")); err != nil || json.Unmarshal(data, &back) != nil || back.Best["api"] != 800 {
		t.Fatalf("search.json: %v %+v", err, back)
	}
}
