package netfault

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
)

func start(t *testing.T) (*embedded.Broker, *Proxy, bus.Config) {
	t.Helper()
	b, err := embedded.Start(embedded.Config{Partitions: 1, Topics: []string{"t"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	px, err := Start("", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	return b, px, bus.Config{Brokers: []string{px.Addr()}}
}

func write(t *testing.T, bc bus.Config, vals ...string) {
	t.Helper()
	w, err := bus.NewWriter(bc)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	msgs := make([]kafka.Message, len(vals))
	for i, v := range vals {
		msgs[i] = kafka.Message{Topic: "t", Partition: 0, Value: []byte(v)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

func values(t *testing.T, bc bus.Config) []string {
	t.Helper()
	c, err := bus.NewClient(bc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, next, err := c.Offsets(ctx, "t", 1)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = bus.Scan(ctx, bc, "t", 0, first[0], next[0], func(_ int64, v []byte) error {
		out = append(out, string(v))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLostResponseLandsTwice is the fault the proxy exists for: the broker
// appends the produce, the answer is lost with the connection, kafka-go
// resends, and the record is in the log twice. Every client connection
// (metadata rewritten to the proxy) goes through it.
func TestLostResponseLandsTwice(t *testing.T) {
	b, px, bc := start(t)
	write(t, bc, "warm-up") // metadata, connections
	px.LoseResponses(1)
	write(t, bc, "a", "b")
	got := values(t, bc)
	want := []string{"warm-up", "a", "b", "a", "b"}
	if len(got) != len(want) {
		t.Fatalf("log %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("log %q, want %q", got, want)
		}
	}
	if px.Lost() != 1 || b.Records("t") != 5 {
		t.Fatalf("lost %d, records %d", px.Lost(), b.Records("t"))
	}
}

// TestResetMidRun: resetting every connection makes the client redial,
// through the proxy again (the broker's address it learns is the
// proxy's), and a write after the reset lands once.
func TestResetMidRun(t *testing.T) {
	_, px, bc := start(t)
	write(t, bc, "x")
	if px.Conns() == 0 {
		t.Fatal("no connection through the proxy")
	}
	if n := px.Reset(); n == 0 {
		t.Fatal("reset found no connection")
	}
	write(t, bc, "y")
	if got := values(t, bc); len(got) != 2 || got[1] != "y" {
		t.Fatalf("log %q", got)
	}
	if px.Resets() == 0 {
		t.Fatal("resets not counted")
	}
}

// TestPlanSeeded: the same seed spreads the same faults; Validate names
// what is wrong.
func TestPlanValidate(t *testing.T) {
	for _, bad := range []Plan{{Resets: -1}, {LostResponses: 3}, {Every: -time.Second}} {
		if bad.Validate() == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	if (Plan{Resets: 2, Over: time.Second}).Validate() != nil {
		t.Error("a good plan refused")
	}
}
