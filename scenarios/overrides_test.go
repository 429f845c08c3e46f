package scenarios

import (
	"reflect"
	"strings"
	"testing"
)

func TestOverrides(t *testing.T) {
	n, zero, seed, parts, tooMany := int64(5000), int64(0), int64(9), 4, 2000
	for _, tc := range []struct {
		name string
		o    Overrides
		err  string
		args []string
	}{
		{"none", Overrides{}, "", nil},
		{"all", Overrides{Payments: &n, Seed: &seed, Partitions: &parts, Policy: "unified-qr"}, "",
			[]string{"--payments", "5000", "--seed", "9", "--partitions", "4", "--policy", "unified-qr"}},
		{"zero payments", Overrides{Payments: &zero}, "--payments: must be positive, got 0", nil},
		{"too many partitions", Overrides{Partitions: &tooMany}, "--partitions: want 1-1024, got 2000", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, err := ReadScenario("quickstart")
			if err != nil {
				t.Fatal(err)
			}
			before := *s
			err = tc.o.Apply(s)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.o.Args(); !reflect.DeepEqual(got, tc.args) {
				t.Fatalf("Args() = %q, want %q", got, tc.args)
			}
			if tc.o.Payments == nil && (s.Payments != before.Payments || s.Seed != before.Seed || s.Partitions != before.Partitions) {
				t.Fatal("unset overrides changed the scenario")
			}
			if tc.o.Payments != nil && (s.Payments != n || s.Duration != "" || s.Seed != seed || s.Partitions != parts || s.Policy != "unified-qr") {
				t.Fatalf("overrides not applied: %+v", s)
			}
			if s.Policy == "" {
				t.Fatal("no policy: want DefaultPolicy")
			}
		})
	}
}
