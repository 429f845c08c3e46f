package main

import (
	"strings"
	"testing"

	"github.com/walletsim/walletsim/internal/cli"
)

// TestBenchScaleBadInput: a wrong --scale is a usage error naming the flag
// and the presets, before any broker starts.
func TestBenchScaleBadInput(t *testing.T) {
	for _, bad := range []string{"huge", "", "LARGE "} {
		out, err := execute(t, "bench", "--scale", bad)
		if code := cli.Code(err); code != cli.ExitUsage {
			t.Fatalf("--scale %q: exit %d (%v), want %d\n%s", bad, code, err, cli.ExitUsage, out)
		}
		if !strings.Contains(err.Error(), "--scale") {
			t.Errorf("--scale %q: error %q does not name the flag", bad, err)
		}
	}
}
