package run

import (
	"context"
	"testing"

	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/faults"
)

// TestDeterminismAcrossPartitions is GUIDE.md's last invariant: the same
// scenario, seed and policy give the same events, in the same order per
// wallet, whatever the partition count, and with broker faults injected.
// The digest is over each wallet's events, so equal digests mean equal
// logs wallet by wallet. Payments between partitions (sagas on the
// transfers topic) are what could differ: with 12 partitions most
// transfers cross one.
func TestDeterminismAcrossPartitions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine four times")
	}
	run := func(parts int, f faults.Config) *Summary {
		t.Helper()
		o := shortEpochs(t, 20_000, parts)
		var in *faults.Injector
		if f.Enabled() {
			o.OnBroker = func(b *embedded.Broker) (err error) {
				in, err = faults.Inject(b, f, faults.Options{})
				return err
			}
		}
		res, err := Run(context.Background(), o)
		if err != nil {
			t.Fatalf("%d partitions: %v", parts, err)
		}
		if !res.Summary.Invariants.OK() {
			t.Fatalf("%d partitions: invariants %+v", parts, res.Summary.Invariants)
		}
		if in != nil && in.Report().ProduceErrors == 0 {
			t.Fatalf("%d partitions: no faults injected: %+v", parts, in.Report())
		}
		return res.Summary
	}
	one := run(1, faults.Config{})
	for _, tc := range []struct {
		name  string
		parts int
		f     faults.Config
	}{
		{"4 partitions", 4, faults.Config{}},
		{"12 partitions", 12, faults.Config{}},
		{"12 partitions under faults", 12, faults.Config{ProduceErrorRate: 0.05, FetchErrorRate: 0.05, Seed: 9}},
	} {
		s := run(tc.parts, tc.f)
		if s.Events.Digest != one.Events.Digest || s.Events.Written != one.Events.Written {
			t.Errorf("%s: %d events, digest %s; 1 partition: %d events, %s", tc.name, s.Events.Written, s.Events.Digest, one.Events.Written, one.Events.Digest)
		}
	}
}
