package main

import (
	"strings"
	"testing"
)

// TestForkUsage: a fork without its run, time or policy is bad input
// (exit 2), named in the message.
func TestForkUsage(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "quickstart", "--fork-at", "12h", "--policy", "telco-2023"}, "--from RUN"},
		{[]string{"run", "quickstart", "--from", "nope", "--policy", "telco-2023"}, "--fork-at TIME"},
		{[]string{"run", "quickstart", "--fork-at", "12h", "--from", "nope"}, "--policy"},
		{[]string{"run", "quickstart", "--fork-at", "12h", "--from", "nope", "--policy", "telco-2023"}, "nope"},
	}
	for _, tc := range cases {
		r := runBin(t, dir, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, want 2 naming %q\n%s", tc.args, r.code, tc.want, r.stderr)
		}
	}
}
