package coverage

import (
	"strings"
	"testing"
)

func TestChange(t *testing.T) {
	ids, policy, note, err := Change("walled-garden", "unified-qr")
	if err != nil || len(ids) == 0 || policy != "unified-qr" || !strings.HasPrefix(note, "policy change walled-garden -> unified-qr touches ") {
		t.Fatalf("%v %q %q %v", ids, policy, note, err)
	}
	if ids, _, _, err := Change("unified-qr", "unified-qr"); err != nil || len(ids) != 0 {
		t.Errorf("no change touched %v (%v)", ids, err)
	}
	if _, _, _, err := Change("nope", "unified-qr"); err == nil || !strings.Contains(err.Error(), "OLD") {
		t.Errorf("bad OLD: %v", err)
	}
}
