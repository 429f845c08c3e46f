package compare

import (
	"strings"
	"testing"
)

func TestLoadPolicies(t *testing.T) {
	pols, err := LoadPolicies([]string{"walled-garden", "unified-qr"})
	if err != nil || len(pols) != 2 || pols[0].Name != "walled-garden" || pols[1].Table == nil {
		t.Fatalf("%+v, %v", pols, err)
	}
	if _, err := LoadPolicies([]string{"unified-qr", "walled-garden", "unified-qr"}); err == nil || !strings.Contains(err.Error(), "already compared") {
		t.Errorf("a policy twice: %v", err)
	}
	if _, err := LoadPolicies([]string{"walled-garden", "nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("an unknown policy: %v", err)
	}
}
