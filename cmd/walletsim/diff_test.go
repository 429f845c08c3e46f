package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestDiffCLI: two runs of quickstart with seed 7 under the same policy
// are identical (exit 0); under another policy diff names the first
// differing event from both logs with the rule that decided it (exit 1,
// as diff(1)); a missing run directory is bad input (exit 2).
func TestDiffCLI(t *testing.T) {
	dir := t.TempDir()
	runs := []struct{ name, policy string }{{"a", ""}, {"b", ""}, {"c", "telco-2023"}}
	for _, r := range runs {
		args := []string{"run", "quickstart", "--seed", "7", "--payments", "5000", "--quiet",
			"--out", filepath.Join(dir, r.name), "--data", filepath.Join(dir, r.name+"-log")}
		if r.policy != "" {
			args = append(args, "--policy", r.policy)
		}
		if res := runBin(t, dir, args...); res.code != 0 {
			t.Fatalf("run %s: exit %d\n%s%s", r.name, res.code, res.stdout, res.stderr)
		}
	}
	same := runBin(t, dir, "diff", "a", "b")
	if same.code != 0 || !strings.HasPrefix(same.stdout, "identical") {
		t.Fatalf("diff of two identical runs: exit %d\n%s%s", same.code, same.stdout, same.stderr)
	}
	d := runBin(t, dir, "diff", "a", "c")
	if d.code != 1 {
		t.Fatalf("diff of runs under two policies: exit %d, want 1\n%s%s", d.code, d.stdout, d.stderr)
	}
	for _, want := range []string{"first divergence: partition", "first differing event: partition", "wallet ", "command ", "rule ", "route ", "unionpay-open-2024", "telco-2023"} {
		if !strings.Contains(d.stdout, want) {
			t.Errorf("diff output lacks %q:\n%s", want, d.stdout)
		}
	}
	// The line that differs is marked; a pointer with no marked field
	// would point at two equal events.
	if !strings.Contains(d.stdout, "<-") {
		t.Errorf("no field marked as differing:\n%s", d.stdout)
	}
	for _, bad := range [][]string{{"diff", "a", "missing"}, {"diff", "a"}, {"diff", "a", "c", "--data-a", "nope"}} {
		if r := runBin(t, dir, bad...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s%s", bad, r.code, r.stdout, r.stderr)
		}
	}

	// gate --same-digest prints the same pointer under a failed digest.
	g := runBin(t, dir, "gate", "c/summary.json", "--baseline", "a/summary.json", "--same-digest")
	if g.code != 1 || !strings.Contains(g.stdout, "first differing event: partition") {
		t.Fatalf("gate --same-digest on differing runs: exit %d\n%s%s", g.code, g.stdout, g.stderr)
	}
	if g := runBin(t, dir, "gate", "b/summary.json", "--baseline", "a/summary.json", "--same-digest"); g.code != 0 {
		t.Fatalf("gate --same-digest on identical runs: exit %d\n%s%s", g.code, g.stdout, g.stderr)
	}
	// Rule coverage: the rules telco-2023 adds fired in c's traffic, but
	// not a million times; a policy change to another policy than the
	// run's is bad input.
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"--require-coverage", "1", "--policy-diff", "transfer-pilot-2022,telco-2023"}, 0},
		{[]string{"--require-coverage", "1000000", "--policy-diff", "transfer-pilot-2022,telco-2023"}, 1},
		{[]string{"--require-coverage", "1", "--policy-diff", "telco-2023,unionpay-open-2024"}, 2},
		{[]string{"--require-coverage", "1", "--policy-diff", "telco-2023"}, 2},
		{[]string{"--require-coverage", "0", "--rule", "rules[1]"}, 2},
		{[]string{"--require-coverage", "1", "--rule", "no-such-rule"}, 1},
	}
	for _, tc := range cases {
		r := runBin(t, dir, append([]string{"gate", "c/summary.json"}, tc.args...)...)
		if r.code != tc.code {
			t.Errorf("gate %v: exit %d, want %d\n%s%s", tc.args, r.code, tc.code, r.stdout, r.stderr)
		}
	}
}
