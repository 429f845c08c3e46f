package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// execute runs one command line on a fresh tree, in process.
func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root, _ := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// Each newRootCmd is a fresh tree: the flags of an earlier Execute in the
// same process do not carry over (no global state to reset).
func TestNewRootCmdIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine")
	}
	dir := t.TempDir()
	out, err := execute(t, "run", "quickstart", "--payments", "500", "--quiet", "--calibration=table", "--coverage", "--out", filepath.Join(dir, "a"))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "operator_share") || !strings.Contains(out, "report.html") {
		t.Fatalf("first run: no calibration table or report:\n%s", out)
	}
	out, err = execute(t, "run", "quickstart", "--payments", "500", "--quiet")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if strings.Contains(out, "operator_share") || strings.Contains(out, "wrote") || !strings.Contains(out, "calibration: ") {
		t.Errorf("second run inherited the first's flags:\n%s", out)
	}
}
