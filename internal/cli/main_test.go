package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// libInput is a library's bad-input error, as run.InputError is.
type libInput struct{ msg string }

func (e *libInput) Error() string  { return e.msg }
func (e *libInput) BadInput() bool { return true }

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
		{&libInput{"scenario: no such file"}, ExitUsage, "walletsim: scenario: no such file\n"},
		{fmt.Errorf("run: %w", &libInput{"log of another run"}), ExitUsage, "walletsim: run: log of another run\n"},
		{&ExitError{Code: ExitFailure}, ExitFailure, ""},
		{&ExitError{Code: ExitFailure, Err: errors.New("invariants violated")}, ExitFailure, "walletsim: invariants violated\n"},
	} {
		var b strings.Builder
		if got := Exit(&b, "walletsim", tc.err); got != tc.code || !strings.HasPrefix(b.String(), tc.stderr) || (tc.stderr == "") != (b.Len() == 0) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tc.err, got, b.String(), tc.code, tc.stderr)
		}
	}
}
