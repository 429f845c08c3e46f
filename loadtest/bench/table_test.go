package bench

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// The table, bench.json and the verdict, from a result filled by hand (no
// benchmark runs in tests).
func TestResultOutputs(t *testing.T) {
	res := &Result{Partitions: 8}
	res.Ceiling.ProduceConsumeMsgsPerS = 400_000
	res.Pipeline.PaymentsPerS, res.Pipeline.RatioToCeiling, res.Pipeline.InvariantsOK = 100_000, 0.25, true
	res.Rebuild.DigestMatches, res.Rebuild.StateMatches = true, true
	res.Pipeline.EquivalentWithAudit, res.Pipeline.RatioToEquivalentWithAudit, res.Pipeline.AuditReadPerPayment = 300_000, 0.33, 1.25
	var b strings.Builder
	res.WriteTable(&b)
	for _, want := range []string{"ceiling produce+consume  400000 msgs/s", "pipeline (run)", "ratio 0.25 of produce+consume", "same work + audit reads  300000 payments/s  ratio 0.33 (and 1.25 records", "memory"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	p, err := res.WriteJSON(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if data, err := os.ReadFile(p); err != nil || json.Unmarshal(data, &back) != nil || back.Pipeline.PaymentsPerS != 100_000 {
		t.Fatalf("bench.json: %v %+v", err, back)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	// A log kept in RAM is in the memory figure, and the table says so.
	res.PipelinePeakRSSMiB, res.LogInRAM = 900, true
	b.Reset()
	res.WriteTable(&b)
	if !strings.Contains(b.String(), "the broker's log in RAM included") {
		t.Errorf("table does not say the log was in RAM:\n%s", b.String())
	}
	res.LogInRAM = false
	b.Reset()
	res.WriteTable(&b)
	if strings.Contains(b.String(), "in RAM") {
		t.Errorf("table says the log was in RAM when it was on disk:\n%s", b.String())
	}
	res.Rebuild.StateMatches = false
	if res.Err() == nil {
		t.Error("a replay that missed the state passed")
	}
	res.Rebuild.StateMatches, res.Pipeline.InvariantsOK = true, false
	if res.Err() == nil {
		t.Error("a broken invariant passed")
	}
}
