package replay

import (
	"fmt"
	"io"
)

// WriteText prints the result as `walletsim replay` does.
func (r *Result) WriteText(w io.Writer) {
	fmt.Fprintf(w, "replayed %d events (%d from snapshots, %d duplicates skipped) of %d wallets in %.2fs: %.0f events/s\n",
		r.Events, r.Resumed, r.Duplicates, r.Wallets, r.DurationS, r.EventsPerS)
	fmt.Fprintf(w, "digest %s\nstate  %s\nviolations %d\n", r.Digest, r.StateDigest, r.Violations)
	for _, e := range r.FirstErrors {
		fmt.Fprintln(w, "  ", e)
	}
}

// Check is the verdict: every event applied cleanly, and the digests are
// the expected ones where given (empty: not checked).
func (r *Result) Check(digest, state string) error {
	switch {
	case r.Violations > 0:
		return fmt.Errorf("replay: %d events do not apply cleanly", r.Violations)
	case digest != "" && digest != r.Digest:
		return fmt.Errorf("replay: digest %s, expected %s", r.Digest, digest)
	case state != "" && state != r.StateDigest:
		return fmt.Errorf("replay: state digest %s, expected %s", r.StateDigest, state)
	}
	return nil
}
