package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/deadletter"
)

// TestDeadLettersCommand reads dead letters in the engine's format (reason
// headers, raw payload) through the watermill router and prints each once.
func TestDeadLettersCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	addr := startBroker(t)
	bc := bus.Config{Brokers: []string{addr}}
	admin, err := bus.NewClient(bc)
	if err != nil {
		t.Fatal(err)
	}
	topic := bus.DefaultTopics("").DeadLetters
	if err := admin.EnsureTopics(context.Background(), 1, topic); err != nil {
		t.Fatal(err)
	}
	w, err := bus.NewWriter(bc)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var msgs []kafka.Message
	for i, reason := range []string{"malformed record: bad tag", "unsupported schema version 9", "wallet 12 belongs to partition 4, not 3"} {
		msgs = append(msgs, kafka.Message{Topic: topic, Partition: 0, Key: []byte("k"), Value: []byte{0xff, byte(i)},
			Headers: []kafka.Header{{Key: "reason", Value: []byte(reason)}, {Key: "source_topic", Value: []byte("walletsim.commands")}}})
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, t.TempDir(), "deadletters", "--brokers", addr)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", len(lines), r.stdout)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var d deadletter.Letter
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		if d.SourceTopic != "walletsim.commands" || d.Bytes != 2 {
			t.Fatalf("bad record %+v", d)
		}
		seen[d.Reason] = true
	}
	if !seen["unsupported schema version 9"] || len(seen) != 3 {
		t.Fatalf("reasons %v", seen)
	}
}
