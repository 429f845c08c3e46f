package trace

import (
	"strings"
	"testing"
)

func TestOpenSource(t *testing.T) {
	src, err := OpenSource("testdata/small.trace", "fast")
	if err != nil || src.Payments() == 0 {
		t.Fatalf("%v", err)
	}
	if _, err := OpenSource("testdata/small.trace", "slow"); err == nil || !strings.HasPrefix(err.Error(), "--pace: ") {
		t.Errorf("bad pace: %v", err)
	}
	if _, err := OpenSource("testdata/none.trace", "step"); err == nil {
		t.Error("a missing trace opened")
	}
}
