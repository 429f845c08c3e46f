package fork_test

import (
	"testing"

	"github.com/walletsim/walletsim/sim/run/fork"
)

func TestParseForkTime(t *testing.T) {
	start := int64(1_721_750_400_000) // 2024-07-24T00:00:00+08:00
	for in, want := range map[string]int64{"12h": start + 12*3600_000, "2024-07-24T12:00:00+08:00": start + 12*3600_000, "0s": start} {
		got, err := fork.ParseTime(in, start)
		if err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"noon", "-1h", ""} {
		if _, err := fork.ParseTime(bad, start); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
