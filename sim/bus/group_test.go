package bus_test

import (
	"slices"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/walletsim/walletsim/sim/bus"
)

// TestGroup: a write's records are split by topic and partition in order
// of first appearance, each group's records in the order given (the
// producer's ordering promise rests on it), through the slice for one
// topic and the map for several or an out-of-range partition.
func TestGroup(t *testing.T) {
	m := func(topic string, part int) kafka.Message { return kafka.Message{Topic: topic, Partition: part} }
	for _, tc := range []struct {
		name string
		msgs []kafka.Message
		want []string
	}{
		{"one topic", []kafka.Message{m("c", 3), m("c", 0), m("c", 3), m("c", 1), m("c", 0)},
			[]string{"c/3: [0 2]", "c/0: [1 4]", "c/1: [3]"}},
		{"two topics", []kafka.Message{m("c", 1), m("e", 1), m("c", 1), m("e", 0)},
			[]string{"c/1: [0 2]", "e/1: [1]", "e/0: [3]"}},
		{"partition past the slice", []kafka.Message{m("c", 1<<12), m("c", 0), m("c", 1<<12)},
			[]string{"c/4096: [0 2]", "c/0: [1]"}},
		{"negative partition", []kafka.Message{m("c", -1), m("c", 2)},
			[]string{"c/-1: [0]", "c/2: [1]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bus.Group(tc.msgs); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
