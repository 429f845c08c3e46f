package diff_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/event"
)

// TestStreamsIgnoreRedeliveries: events appended to the log a second time
// (a producer retry whose first write landed) change no stream hash, so a
// run that suffered redeliveries compares as identical to a clean one.
func TestStreamsIgnoreRedeliveries(t *testing.T) {
	dir := t.TempDir()
	clean := runAt(t, dir, "unionpay-open-2024")
	b, err := embedded.Start(embedded.Config{DataDir: filepath.Join(dir, "log")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	bc.SetDefaults()
	topics := bus.DefaultTopics("")
	ctx := context.Background()
	// Re-append the first 40 events of partition 1 at its end.
	var dups []kafka.Message
	err = bus.Scan(ctx, bc, topics.Events, 1, 0, 40, func(_ int64, v []byte) error {
		dups = append(dups, kafka.Message{Partition: 1, Value: append([]byte(nil), v...)})
		return nil
	})
	if err != nil || len(dups) != 40 {
		t.Fatalf("read %d events: %v", len(dups), err)
	}
	w, err := bus.NewWriter(bc)
	if err != nil {
		t.Fatal(err)
	}
	w.Topic = topics.Events
	if err := w.WriteMessages(ctx, dups...); err != nil {
		t.Fatal(err)
	}
	w.Close()
	streams := audit.NewStreams(4, 256)
	_, rep, err := engine.VerifyWith(ctx, bc, topics, engine.VerifyConfig{
		OnEvent: func(p int, off int64, _ *event.Event, raw []byte) { streams.Add(p, off, raw) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Redelivered != 40 || rep.DuplicateEvents != 0 || rep.Digest != clean.Events.Digest {
		t.Fatalf("audit: %d redelivered, %d duplicates, digest %s (clean %s)", rep.Redelivered, rep.DuplicateEvents, rep.Digest, clean.Events.Digest)
	}
	got := streams.Summary()
	want := *clean.Streams
	want.Log = nil
	if !reflect.DeepEqual(got, &want) {
		d, _ := audit.FirstDivergence(got, &want)
		t.Fatalf("stream hashes changed by redelivered events: %+v", d)
	}
}
