package audit_test

import (
	"fmt"
	"testing"

	"github.com/walletsim/walletsim/sim/audit"
)

// record hashes n events of one partition, event i being "e<i>" unless
// changed says otherwise.
func record(n int, every int, changed map[int]string) *audit.StreamHashes {
	s := audit.NewStreams(2, every)
	for i := 1; i <= n; i++ {
		v := fmt.Sprintf("e%d", i)
		if c, ok := changed[i]; ok {
			v = c
		}
		s.Add(1, int64(i-1), []byte(v))
		if i <= 10 {
			s.Add(0, int64(i-1), []byte("same"))
		}
	}
	return s.Summary()
}

// TestFirstDivergence: the windows bound the first differing event from
// both sides, whatever the window sizes of the two runs.
func TestFirstDivergence(t *testing.T) {
	cases := []struct {
		name          string
		a, b          *audit.StreamHashes
		want          bool
		after, before int64
	}{
		{"identical", record(1000, 100, nil), record(1000, 100, nil), false, 0, 0},
		{"one event changed", record(1000, 100, nil), record(1000, 100, map[int]string{457: "x"}), true, 400, 500},
		{"first event", record(1000, 100, nil), record(1000, 100, map[int]string{1: "x"}), true, 0, 100},
		{"after the last window", record(1050, 100, nil), record(1050, 100, map[int]string{1040: "x"}), true, 1000, 0},
		{"one stream longer", record(1000, 100, nil), record(1001, 100, nil), true, 1000, 0},
		{"different windows", record(1000, 100, nil), record(1000, 200, map[int]string{457: "x"}), true, 400, 600},
		// Boundaries split events: "e1" "0" must not hash as "e10".
		{"boundaries", record(10, 5, nil), record(10, 5, map[int]string{3: "e3e", 4: "4"}), true, 0, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := audit.FirstDivergence(tc.a, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if (d != nil) != tc.want {
				t.Fatalf("divergence %+v, want one: %v", d, tc.want)
			}
			if d == nil {
				return
			}
			if d.Partition != 1 || d.After != tc.after || d.Before != tc.before {
				t.Fatalf("got partition %d after %d before %d, want 1, %d, %d", d.Partition, d.After, d.Before, tc.after, tc.before)
			}
			if d.After > 0 && d.OffsetA != d.After-1 {
				t.Fatalf("offset %d of the last shared event, want %d", d.OffsetA, d.After-1)
			}
		})
	}
	if _, err := audit.FirstDivergence(record(10, 5, nil), audit.NewStreams(3, 5).Summary()); err == nil {
		t.Fatal("different partition counts compared")
	}
	if _, err := audit.FirstDivergence(nil, record(10, 5, nil)); err == nil {
		t.Fatal("a missing recording compared")
	}
}
