package calibration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Write is what a run prints: the summary line naming calibration.json,
// or every row and the file's path.
func TestReportWrite(t *testing.T) {
	r := &Report{Scenario: "q", Rows: []Row{{Status: StatusOff, Kind: "generator", Quantity: "operator_share", Key: "x"}}, Off: 1}
	dir := t.TempDir()
	var b strings.Builder
	if err := r.Write(&b, dir, false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "calibration: 0 ok, 0 unresolved, 1 off; see calibration.json\n") || !strings.Contains(b.String(), "operator_share") {
		t.Errorf("summary:\n%s", b.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "calibration.json")); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := r.Write(&b, "", false); err != nil || !strings.Contains(b.String(), "--out DIR for calibration.json") {
		t.Errorf("without a dir: %v\n%s", err, b.String())
	}
	b.Reset()
	if err := r.Write(&b, dir, true); err != nil || !strings.HasSuffix(b.String(), "wrote "+filepath.Join(dir, "calibration.json")+"\n") {
		t.Errorf("table: %v\n%s", err, b.String())
	}
}
