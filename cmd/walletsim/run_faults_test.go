package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunFaults: a scenario with a faults key runs against a broker that
// fails 5% of produce and fetch requests; the run retries, conserves
// money and writes the log a fault-free run writes.
func TestRunFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine twice")
	}
	dir := t.TempDir()
	q, err := os.ReadFile("../../scenarios/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// 100 ms epochs: many epochs, so faults land all through the run.
	base := strings.Replace(string(q), "\nepoch: 1s", "\nepoch: 100ms", 1)
	clean := filepath.Join(dir, "clean.yaml")
	faulty := filepath.Join(dir, "faulty.yaml")
	if err := os.WriteFile(clean, []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(faulty, []byte(base+"\nfaults: {produce_error_rate: 0.05, fetch_error_rate: 0.05, seed: 3}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(sc string) map[string]any {
		out := filepath.Join(dir, filepath.Base(sc)+".out")
		r := runBin(t, dir, "run", sc, "--payments", "30000", "--out", out, "--quiet")
		if r.code != 0 {
			t.Fatalf("run %s: exit %d\n%s\n%s", sc, r.code, r.stdout, r.stderr)
		}
		return readSummary(t, out)
	}
	want, got := run(clean), run(faulty)
	if field(got, "invariants.money_conserved") != true || field(got, "invariants.unresolved_commands") != float64(0) ||
		field(got, "invariants.duplicate_events") != float64(0) {
		t.Fatalf("invariants under faults: %v", field(got, "invariants"))
	}
	if g, w := field(got, "events.digest"), field(want, "events.digest"); g != w {
		t.Fatalf("digest under faults %v, fault-free %v", g, w)
	}
	if n, _ := field(got, "faults.produce_errors").(float64); n == 0 {
		t.Fatalf("no produce errors injected: %v", field(got, "faults"))
	}
	if n, _ := field(got, "faults.fetch_errors").(float64); n == 0 {
		t.Fatalf("no fetch errors injected: %v", field(got, "faults"))
	}
	if n, _ := field(got, "retries").(float64); n == 0 {
		t.Fatal("summary.retries = 0 under produce errors")
	}
	if field(want, "faults") != nil {
		t.Fatalf("fault-free run reports faults: %v", field(want, "faults"))
	}

	// Faults drive the embedded broker: with --brokers they are a usage
	// error, as they are for chaos.
	for _, args := range [][]string{{"run", faulty, "--brokers", "127.0.0.1:1"}, {"chaos", faulty}} {
		r := runBin(t, dir, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "fault") {
			t.Fatalf("%v: exit %d, stderr %q; want 2 naming the faults", args, r.code, r.stderr)
		}
	}
}
