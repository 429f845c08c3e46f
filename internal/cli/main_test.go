package cli

import (
	"errors"
	"strings"
	"testing"
)

func TestExit(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   int
		stderr string
	}{
		{nil, ExitOK, ""},
		{errors.New("broker down"), ExitFailure, "walletsim: broker down\n"},
		{Usagef("--kills: want 0-10000"), ExitUsage, "walletsim: --kills: want 0-10000\n"},
		{errors.New(`unknown command "nope" for "walletsim"`), ExitUsage, "walletsim: unknown command"},
		{errors.New("accepts 1 arg(s), received 0"), ExitUsage, "walletsim: accepts"},
		{&ExitError{Code: ExitFailure}, ExitFailure, ""},
		{&ExitError{Code: ExitFailure, Err: errors.New("invariants violated")}, ExitFailure, "walletsim: invariants violated\n"},
	} {
		var b strings.Builder
		if got := Exit(&b, "walletsim", tc.err); got != tc.code || !strings.HasPrefix(b.String(), tc.stderr) || (tc.stderr == "") != (b.Len() == 0) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tc.err, got, b.String(), tc.code, tc.stderr)
		}
	}
}
