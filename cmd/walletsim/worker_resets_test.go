package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/netfault"
)

// TestWorkersUnderResets: two `walletsim worker` processes and
// `run --workers external`, every connection of all three to a
// `walletsim broker` reset every 3 s all run (netfault's proxy in front
// of the broker): the group re-forms after each reset and the log is the
// single-process run's, digest for digest.
//
// Not every 250 ms, as the local run (TestStandaloneBrokerResetsAllRun):
// kafka-go's consumer group ends a generation at the first failed
// heartbeat, and a JoinGroup waits for every member to rejoin, so under
// resets several times a second the group never forms a generation
// (measured: none in 6 minutes). Riding through that needs a group client
// that keeps a generation through a reconnect within the session timeout.
func TestWorkersUnderResets(t *testing.T) {
	const payments = 30_000
	digest := embeddedDigest(t, strconv.Itoa(payments))
	addr := startBroker(t)
	px, err := netfault.Start("", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	// Every 3 s, as before, and once the log has 10,000 events if that
	// comes first: a run that finishes within one interval would
	// otherwise see no reset at all.
	go func() {
		defer close(done)
		admin, err := bus.NewClient(bus.Config{Brokers: []string{addr}})
		if err != nil {
			return
		}
		defer admin.Close()
		events := bus.DefaultTopics("").Events
		first := true
		lastAt := time.Now()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			var n int64
			if _, next, err := admin.Offsets(context.Background(), events, 8); err == nil {
				for _, o := range next {
					n += o
				}
			}
			if (first && n >= 10_000) || time.Since(lastAt) >= 3*time.Second {
				px.Reset()
				first, lastAt = false, time.Now()
			}
		}
	}()
	defer func() { close(stop); <-done }()
	w1 := startProc(t, "w1", "worker", "quickstart", "--brokers", px.Addr(), "--partitions", "8", "--name", "w1")
	w2 := startProc(t, "w2", "worker", "quickstart", "--brokers", px.Addr(), "--partitions", "8", "--name", "w2")
	dir := t.TempDir()
	r := runBin(t, dir, "run", "quickstart", "--payments", strconv.Itoa(payments), "--partitions", "8",
		"--brokers", px.Addr(), "--workers", "external", "--quiet", "--out", dir)
	if r.code != 0 {
		t.Logf("w1:\n%s\nw2:\n%s", w1.output(), w2.output())
	}
	checkRun(t, r, dir, payments, digest)
	if px.Resets() == 0 {
		t.Fatal("no connection was reset: the test did not test")
	}
	t.Logf("%d connections reset; digest %s", px.Resets(), digest)
}
