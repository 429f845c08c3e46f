package embedded

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
)

func TestBrokerSpeaksKafka(t *testing.T) {
	dir := t.TempDir()
	b, err := Start(Config{DataDir: dir, Partitions: 2, Topics: []string{"t"}})
	if err != nil {
		t.Fatal(err)
	}
	w := &kafka.Writer{Addr: kafka.TCP(b.Addr()), Topic: "t", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	if err := w.WriteMessages(context.Background(), kafka.Message{Key: []byte("k"), Value: []byte("hello")}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	b.Close()

	// The log survives a restart from the same data dir.
	b, err = Start(Config{DataDir: dir, Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	c, err := kafka.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	parts, err := c.ReadPartitions("t")
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0)
	for _, p := range parts {
		pc, err := kafka.DialLeader(context.Background(), "tcp", b.Addr(), "t", p.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, last, err := pc.ReadOffsets()
		pc.Close()
		if err != nil {
			t.Fatal(err)
		}
		total += last
	}
	if total != 1 {
		t.Fatalf("records after restart = %d, want 1", total)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, addr := range []string{"nope", "127.0.0.1:99999", "example.com:9092"} {
		if _, err := Start(Config{Addr: addr}); err == nil {
			t.Errorf("Start(%q) succeeded, want error", addr)
		}
	}
}

// TestRestart: a restart keeps the address and every acknowledged record,
// clients reconnect on their own, and OnCluster hooks run on the new
// cluster.
func TestRestart(t *testing.T) {
	b, err := Start(Config{DataDir: t.TempDir(), Partitions: 1, Topics: []string{"t"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	hooks := 0
	b.OnCluster(func(*kfake.Cluster) { hooks++ })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w := &kafka.Writer{Addr: kafka.TCP(b.Addr()), Topic: "t", RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond,
		MaxAttempts: 20, WriteBackoffMin: 50 * time.Millisecond, WriteBackoffMax: 500 * time.Millisecond}
	defer w.Close()
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("before")}); err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	if b.Addr() != addr {
		t.Fatalf("address changed across restart: %s -> %s", addr, b.Addr())
	}
	if hooks != 2 {
		t.Fatalf("OnCluster hook ran %d times, want 2 (start and restart)", hooks)
	}
	if err := w.WriteMessages(ctx, kafka.Message{Value: []byte("after")}); err != nil {
		t.Fatalf("write after restart: %v", err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{b.Addr()}, Topic: "t", Partition: 0, MaxWait: 50 * time.Millisecond})
	defer r.Close()
	var got []string
	for len(got) < 2 {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(m.Value))
	}
	if got[0] != "before" || got[1] != "after" {
		t.Fatalf("log after restart = %q, want [before after]", got)
	}
}

func TestRestartNeedsDataDir(t *testing.T) {
	b, err := Start(Config{Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Restart(); err == nil {
		t.Fatal("restart of a RAM broker succeeded; it would have lost the log")
	}
}
