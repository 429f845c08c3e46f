package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChaos is `walletsim chaos` as a user runs it: a child process killed
// with SIGKILL several times, restarted, and a log that is exactly the log
// of a run that was never killed.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	out := t.TempDir()
	// quickstart in 100 ms epochs: ten epochs of payments, so the kills
	// land between and inside epochs, not only around one big one.
	q, err := os.ReadFile("../../scenarios/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc := filepath.Join(out, "short-epochs.yaml")
	if err := os.WriteFile(sc, []byte(strings.Replace(string(q), "\nepoch: 1s", "\nepoch: 100ms", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, out, "chaos", sc, "--payments", "30000", "--kills", "6", "--kill-seed", "3", "--out", out, "--quiet")
	if r.code != 0 {
		t.Fatalf("chaos exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	sum := readSummary(t, out)
	if got := field(sum, "chaos.kills"); got != float64(6) {
		t.Fatalf("chaos.kills = %v, want 6", got)
	}
	if field(sum, "chaos.digest_match") != true || field(sum, "chaos.verify_ok") != true {
		t.Fatalf("chaos: digest_match %v verify_ok %v", field(sum, "chaos.digest_match"), field(sum, "chaos.verify_ok"))
	}
	if field(sum, "events.digest") != field(sum, "chaos.reference_digest") {
		t.Fatalf("events.digest %v != reference %v", field(sum, "events.digest"), field(sum, "chaos.reference_digest"))
	}
	if field(sum, "payments.attempted") != float64(30000) || field(sum, "invariants.unresolved_commands") != float64(0) ||
		field(sum, "invariants.money_conserved") != true || field(sum, "invariants.duplicate_events") != float64(0) {
		t.Fatalf("summary after kills: payments %v, invariants %v", field(sum, "payments"), field(sum, "invariants"))
	}
	if !strings.Contains(r.stdout, "chaos: OK") {
		t.Fatalf("no verdict on stdout:\n%s", r.stdout)
	}
}

func TestChaosBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"chaos", "nope"}, "built-ins"},
		{[]string{"chaos", "quickstart", "--kills", "-1"}, "--kills"},
		{[]string{"chaos", "quickstart", "--payments", "0"}, "--payments"},
		{[]string{"chaos", "quickstart", "--policy", "nope"}, "nope"},
		{[]string{"chaos"}, "arg"},
	} {
		r := runBin(t, dir, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line naming %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
