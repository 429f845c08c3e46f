package broker

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
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
