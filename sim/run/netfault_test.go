package run

import (
	"context"
	"testing"
	"time"

	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/netfault"
)

// TestNetworkFaults: connection resets and lost produce responses (the
// broker appended, the client never heard and wrote again) between the
// engine and the embedded broker leave every invariant intact and the
// digest equal to a fault-free run's. The resent records are in the log
// twice; the audit counts them as redeliveries, not duplicates.
func TestNetworkFaults(t *testing.T) {
	ref, err := Run(context.Background(), load(t, 60_000, 11))
	if err != nil {
		t.Fatal(err)
	}
	o := load(t, 60_000, 11)
	o.Topics = bus.DefaultTopics("faulted")
	span := time.Duration(max(ref.Summary.DurationS, 0.5) * float64(time.Second))
	o.NetFaults = netfault.Plan{Resets: 15, LostResponses: 25, Over: span, Seed: 3, LoseTopic: o.Topics.Events}
	var px *netfault.Proxy
	o.OnProxy = func(p *netfault.Proxy) { px = p }
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	t.Logf("resets %d, lost responses %d, redelivered %d, retries %d", px.Resets(), px.Lost(), s.Events.Redelivered, s.Retries)
	if px.Lost() == 0 || s.Events.Redelivered == 0 {
		t.Fatalf("lost %d responses, %d events redelivered: the test did not test", px.Lost(), s.Events.Redelivered)
	}
	if !s.Invariants.OK() {
		t.Fatalf("invariants under network faults: %+v", s.Invariants)
	}
	if s.Events.Digest != ref.Summary.Events.Digest {
		t.Fatalf("digest %s differs from the fault-free run's %s", s.Events.Digest, ref.Summary.Events.Digest)
	}
	if s.Events.Written != ref.Summary.Events.Written {
		t.Fatalf("events %d, fault-free %d", s.Events.Written, ref.Summary.Events.Written)
	}
}
