package engine_test

import (
	"context"
	"testing"

	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/run"
)

// TestVerifyFollowing: an audit started on an empty log that grows under
// it (the second half written after it has caught up with the first)
// reaches the verdict, counts and digest of an audit of the finished log.
// An audit that read only what was there when it started would see half.
func TestVerifyFollowing(t *testing.T) {
	b, err := embedded.Start(embedded.Config{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	o := quickstart(t, 8_000, 4)
	o.Bus, o.Topics, o.Fresh = bc, bus.DefaultTopics("whole"), true
	res, err := run.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	_, want, err := engine.Verify(context.Background(), bc, o.Topics)
	if err != nil {
		t.Fatal(err)
	}
	if !want.OK() || want.Events != res.Summary.Events.Written {
		t.Fatalf("reference audit: %v, %d events of %d", want.Violations(), want.Events, res.Summary.Events.Written)
	}

	grow := bus.DefaultTopics("growing")
	firstHalf := func(topic string, part, i, n int) bool { return i >= n/2 }
	secondHalf := func(topic string, part, i, n int) bool { return i < n/2 }
	copyLog(t, bc, o.Topics, grow, 4, firstHalf)
	done := make(chan struct{})
	type verdict struct {
		events int64
		digest string
		ok     bool
		err    error
	}
	got := make(chan verdict, 1)
	go func() {
		_, r, err := engine.VerifyWith(context.Background(), bc, grow, engine.VerifyConfig{Done: done})
		got <- verdict{r.Events, r.Digest, r.OK(), err}
	}()
	copyLog(t, bc, o.Topics, grow, 4, secondHalf)
	close(done)
	v := <-got
	if v.err != nil {
		t.Fatal(v.err)
	}
	if v.events != want.Events || v.digest != want.Digest || !v.ok {
		t.Fatalf("following audit: %d events, digest %s, ok %v; the finished log's audit: %d, %s", v.events, v.digest, v.ok, want.Events, want.Digest)
	}
}
