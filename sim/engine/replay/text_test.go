package replay

import (
	"strings"
	"testing"
)

func TestResultCheckAndText(t *testing.T) {
	r := &Result{Events: 10, Digest: "sha256:a", StateDigest: "sha256:s"}
	for _, tc := range []struct {
		digest, state string
		violations    int64
		want          string
	}{
		{"", "", 0, ""},
		{"sha256:a", "sha256:s", 0, ""},
		{"sha256:b", "", 0, "digest sha256:a, expected sha256:b"},
		{"", "sha256:t", 0, "state digest sha256:s, expected sha256:t"},
		{"sha256:a", "", 2, "2 events do not apply cleanly"},
	} {
		r.Violations = tc.violations
		err := r.Check(tc.digest, tc.state)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%q, %q) with %d violations: %v, want %q", tc.digest, tc.state, tc.violations, err, tc.want)
		}
	}
	r.FirstErrors = []string{"wallet 3 seq 2: gap"}
	var b strings.Builder
	r.WriteText(&b)
	if !strings.Contains(b.String(), "replayed 10 events") || !strings.Contains(b.String(), "violations 2\n   wallet 3 seq 2: gap") {
		t.Errorf("WriteText:\n%s", b.String())
	}
}
