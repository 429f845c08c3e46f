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

func TestParseForkTime(t *testing.T) {
	start := int64(1_721_750_400_000) // 2024-07-24T00:00:00+08:00
	for in, want := range map[string]int64{"12h": start + 12*3600_000, "2024-07-24T12:00:00+08:00": start + 12*3600_000, "0s": start} {
		got, err := parseForkTime(in, start)
		if err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"noon", "-1h", ""} {
		if _, err := parseForkTime(bad, start); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
