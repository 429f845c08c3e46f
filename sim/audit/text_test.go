package audit

import (
	"strings"
	"testing"
)

func TestReportWriteText(t *testing.T) {
	var r Report
	r.Events, r.Attempted, r.Digest = 7, 3, "sha256:d"
	r.OrphanOutcomes, r.MoneyConserved = 2, true
	var b strings.Builder
	r.WriteText(&b)
	for _, want := range []string{"events 7, wallets 0, payments 3 (0 succeeded, 0 declined)", "digest sha256:d", "money conserved true", "orphan outcomes 2"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}
