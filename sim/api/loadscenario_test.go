package api

import (
	"strings"
	"testing"
)

func TestLoadScenario(t *testing.T) {
	base, _, err := LoadScenario("quickstart", "", 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	sc, table, err := LoadScenario("quickstart", "walled-garden", 2, 3)
	if err != nil || table == nil {
		t.Fatal(err)
	}
	if sc.Partitions != 3 || sc.Policy != "walled-garden" || consumers(sc.Population.Consumers) <= consumers(base.Population.Consumers) {
		t.Errorf("partitions %d, policy %q, consumers %d (base %d)", sc.Partitions, sc.Policy, consumers(sc.Population.Consumers), consumers(base.Population.Consumers))
	}
	for _, tc := range []struct {
		policy     string
		scale      float64
		partitions int
		want       string
	}{
		{"", 1, 2000, "--partitions: want 1-1024"},
		{"", -1, 0, "--scale"},
		{"nope", 1, 0, "nope"},
	} {
		if _, _, err := LoadScenario("quickstart", tc.policy, tc.scale, tc.partitions); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v", tc, err)
		}
	}
}

func consumers(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}
