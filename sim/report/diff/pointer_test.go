package diff

import (
	"context"
	"strings"
	"testing"
)

func TestPointerWithoutBaseline(t *testing.T) {
	var b strings.Builder
	Pointer(context.Background(), &b, "", "base.json")
	if !strings.Contains(b.String(), "give --baseline RUN/summary.json") {
		t.Errorf("%q", b.String())
	}
}
