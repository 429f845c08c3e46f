package main

import (
	"strings"
	"testing"
)

// TestCompareExtraUsage: --seeds below 2 and --attribution with other
// than two policies are bad input (exit 2) before anything runs.
func TestCompareExtraUsage(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"compare", "quickstart", "--policy", "walled-garden", "--policy", "unified-qr", "--seeds", "1"}, "--seeds 1"},
		{[]string{"compare", "quickstart", "--policy", "walled-garden", "--policy", "unified-qr", "--policy", "telco-2023", "--attribution"}, "exactly two"},
	}
	for _, tc := range cases {
		r := runBin(t, dir, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, want 2 naming %q\n%s", tc.args, r.code, tc.want, r.stderr)
		}
	}
}
