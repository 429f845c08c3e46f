package wmkafka

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"
)

func TestMarshalRoundTrip(t *testing.T) {
	msg := message.NewMessage(watermill.NewUUID(), []byte(`{"amount":100}`))
	msg.Metadata.Set("z", "last")
	msg.Metadata.Set("a", "first")
	msg.Metadata.Set("empty", "")
	msg.Metadata.Set("unicode", "钱包 ✓")
	msg.Metadata.Set(PartitionKeyMetadata, "wallet-42")

	km, err := marshal("t", DefaultPartitionKey, msg)
	if err != nil {
		t.Fatal(err)
	}
	if string(km.Key) != "wallet-42" {
		t.Errorf("key = %q, want the partition_key metadata", km.Key)
	}
	var names []string
	for _, h := range km.Headers {
		names = append(names, h.Key)
	}
	if got, want := strings.Join(names, ","), UUIDHeader+",a,empty,partition_key,unicode,z"; got != want {
		t.Errorf("headers %s, want %s (UUID first, then sorted, for stable bytes)", got, want)
	}
	back := unmarshal(km)
	if !back.Equals(msg) {
		t.Errorf("round trip changed the message:\n got %s %q %v\nwant %s %q %v",
			back.UUID, back.Payload, back.Metadata, msg.UUID, msg.Payload, msg.Metadata)
	}

	plain := message.NewMessage(watermill.NewUUID(), nil)
	km, err = marshal("t", DefaultPartitionKey, plain)
	if err != nil {
		t.Fatal(err)
	}
	if string(km.Key) != plain.UUID {
		t.Errorf("key = %q, want the UUID when there is no partition_key", km.Key)
	}
	if back := unmarshal(km); !back.Equals(plain) || len(back.Metadata) != 0 {
		t.Errorf("round trip of a bare message gave %s %v", back.UUID, back.Metadata)
	}
}

func TestMarshalRejectsReservedMetadata(t *testing.T) {
	msg := message.NewMessage("id", nil)
	msg.Metadata.Set(UUIDHeader, "other-id")
	if _, err := marshal("t", DefaultPartitionKey, msg); err == nil || !strings.Contains(err.Error(), UUIDHeader) {
		t.Fatalf("err = %v, want one naming %s", err, UUIDHeader)
	}
}

func TestUnmarshalForeignRecord(t *testing.T) {
	// Written by a non-watermill producer: no UUID header.
	msg := unmarshal(kafka.Message{Value: []byte("v"), Headers: []kafka.Header{{Key: "k", Value: []byte("x")}}})
	if msg.UUID != "" || msg.Metadata.Get("k") != "x" || string(msg.Payload) != "v" {
		t.Fatalf("got %q %v %q", msg.UUID, msg.Metadata, msg.Payload)
	}
}

func TestValidate(t *testing.T) {
	pub := func(mod func(*PublisherConfig)) error {
		c := PublisherConfig{Brokers: []string{"127.0.0.1:9092"}}
		mod(&c)
		c.setDefaults()
		return c.Validate()
	}
	sub := func(mod func(*SubscriberConfig)) error {
		c := SubscriberConfig{Brokers: []string{"127.0.0.1:9092"}}
		mod(&c)
		c.setDefaults()
		return c.Validate()
	}
	for _, tc := range []struct {
		name string
		err  error
		want string // substring naming the bad field; "" means valid
	}{
		{"publisher defaults", pub(func(*PublisherConfig) {}), ""},
		{"publisher no brokers", pub(func(c *PublisherConfig) { c.Brokers = nil }), "Brokers is empty"},
		{"publisher blank broker", pub(func(c *PublisherConfig) { c.Brokers = []string{"a:1", ""} }), "Brokers[1]"},
		{"publisher partitions", pub(func(c *PublisherConfig) { c.TopicPartitions = -1 }), "TopicPartitions -1"},
		{"publisher replication", pub(func(c *PublisherConfig) { c.ReplicationFactor = -3 }), "ReplicationFactor -3"},
		{"publisher batch timeout", pub(func(c *PublisherConfig) { c.BatchTimeout = -time.Second }), "BatchTimeout"},
		{"publisher batch size", pub(func(c *PublisherConfig) { c.BatchSize = -1 }), "BatchSize"},
		{"subscriber defaults", sub(func(*SubscriberConfig) {}), ""},
		{"subscriber no brokers", sub(func(c *SubscriberConfig) { c.Brokers = []string{} }), "Brokers is empty"},
		{"subscriber offset", sub(func(c *SubscriberConfig) { c.InitialOffset = 5 }), "InitialOffset 5"},
		{"subscriber max wait", sub(func(c *SubscriberConfig) { c.MaxWait = -1 }), "MaxWait"},
		{"subscriber nack sleep", sub(func(c *SubscriberConfig) { c.NackResendSleep = -1 }), "NackResendSleep"},
		{"subscriber heartbeat", sub(func(c *SubscriberConfig) {
			c.HeartbeatInterval, c.SessionTimeout = 10*time.Second, 6*time.Second
		}), "HeartbeatInterval 10s must be shorter than SessionTimeout 6s"},
		{"subscriber partitions", sub(func(c *SubscriberConfig) { c.TopicPartitions = -2 }), "TopicPartitions -2"},
	} {
		switch {
		case tc.want == "" && tc.err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, tc.err)
		case tc.want != "" && (tc.err == nil || !strings.Contains(tc.err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}

	if _, err := NewPublisher(PublisherConfig{}); err == nil {
		t.Error("NewPublisher accepted a config without brokers")
	}
	if _, err := NewSubscriber(SubscriberConfig{}); err == nil {
		t.Error("NewSubscriber accepted a config without brokers")
	}
}

func newTestPublisher(t *testing.T, mod func(*PublisherConfig)) *Publisher {
	t.Helper()
	cfg := PublisherConfig{Brokers: []string{testBroker.Addr()}, Logger: testLogger}
	if mod != nil {
		mod(&cfg)
	}
	p, err := NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func newTestSubscriber(t *testing.T, mod func(*SubscriberConfig)) *Subscriber {
	t.Helper()
	cfg := SubscriberConfig{Brokers: []string{testBroker.Addr()}, Logger: testLogger}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewSubscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func receive(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case msg, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return msg
	case <-time.After(15 * time.Second):
		t.Fatal("no message within 15s")
	}
	return nil
}

func TestRoundTripThroughBroker(t *testing.T) {
	topic := "roundtrip-" + watermill.NewShortUUID()
	pub := newTestPublisher(t, nil)
	sub := newTestSubscriber(t, nil)

	var sent []*message.Message
	for i, payload := range []string{"first", "", "third"} {
		msg := message.NewMessage(watermill.NewUUID(), []byte(payload))
		msg.Metadata.Set("i", string(rune('0'+i)))
		msg.Metadata.Set(PartitionKeyMetadata, "same-wallet")
		sent = append(sent, msg)
	}
	if err := pub.Publish(topic, sent...); err != nil {
		t.Fatal(err)
	}
	ch, err := sub.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	partition := -1
	for i, want := range sent {
		got := receive(t, ch)
		// One key, one partition: they also come back in publish order.
		if !got.Equals(want) {
			t.Errorf("message %d: got %s %q %v, want %s %q %v",
				i, got.UUID, got.Payload, got.Metadata, want.UUID, want.Payload, want.Metadata)
		}
		p, ok := PartitionFromCtx(got.Context())
		if !ok {
			t.Error("no partition in the message context")
		}
		if partition != -1 && p != partition {
			t.Errorf("message %d on partition %d, the first on %d: same key must mean same partition", i, p, partition)
		}
		partition = p
		if off, ok := OffsetFromCtx(got.Context()); !ok || off != int64(i) {
			t.Errorf("message %d: offset %d (%v), want %d", i, off, ok, i)
		}
		got.Ack()
	}
}

func TestTopicPartitionsConfigurable(t *testing.T) {
	topic := "partitions-" + watermill.NewShortUUID()
	pub := newTestPublisher(t, func(c *PublisherConfig) { c.TopicPartitions = 3 })
	if err := pub.Publish(topic, message.NewMessage(watermill.NewUUID(), []byte("x"))); err != nil {
		t.Fatal(err)
	}
	conn, err := kafka.Dial("tcp", testBroker.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions(topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 {
		t.Fatalf("topic has %d partitions, want 3", len(parts))
	}
}

// TestAckCommitsNackRedelivers checks the consumer-group contract the suite
// does not: an Ack is remembered across subscribers of the same group, a
// Nack is not.
func TestAckCommitsNackRedelivers(t *testing.T) {
	for _, syncCommit := range []bool{false, true} {
		name := "batched commits"
		if syncCommit {
			name = "sync commits"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			topic := "commit-" + watermill.NewShortUUID()
			group := "group-" + watermill.NewShortUUID()
			pub := newTestPublisher(t, nil)
			var sent []*message.Message
			for range 10 {
				msg := message.NewMessage(watermill.NewUUID(), []byte("x"))
				msg.Metadata.Set(PartitionKeyMetadata, "one-partition-keeps-order")
				sent = append(sent, msg)
			}
			if err := pub.Publish(topic, sent...); err != nil {
				t.Fatal(err)
			}
			cfg := func(c *SubscriberConfig) { c.ConsumerGroup = group; c.SyncCommit = syncCommit }

			first := newTestSubscriber(t, cfg)
			ch, err := first.Subscribe(context.Background(), topic)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				msg := receive(t, ch)
				if msg.UUID != sent[i].UUID {
					t.Fatalf("message %d is %s, want %s", i, msg.UUID, sent[i].UUID)
				}
				msg.Nack()
				again := receive(t, ch)
				if again.UUID != msg.UUID {
					t.Fatalf("after Nack of %s got %s, want the same message again", msg.UUID, again.UUID)
				}
				again.Ack()
			}
			// The fifth is delivered but never acked: it must come again.
			if msg := receive(t, ch); msg.UUID != sent[4].UUID {
				t.Fatalf("fifth message is %s, want %s", msg.UUID, sent[4].UUID)
			}
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			if _, ok := <-ch; ok {
				t.Fatal("channel still open after Close")
			}

			second := newTestSubscriber(t, cfg)
			ch, err = second.Subscribe(context.Background(), topic)
			if err != nil {
				t.Fatal(err)
			}
			for i := 4; i < len(sent); i++ {
				msg := receive(t, ch)
				if msg.UUID != sent[i].UUID {
					t.Fatalf("resumed at %s, want message %d %s (acked ones committed, unacked one not)",
						msg.UUID, i, sent[i].UUID)
				}
				msg.Ack()
			}
		})
	}
}

func TestCloseIsIdempotentAndFinal(t *testing.T) {
	topic := "close-" + watermill.NewShortUUID()
	pub := newTestPublisher(t, nil)
	sub := newTestSubscriber(t, nil)
	ch1, err := sub.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	ch2, err := sub.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := sub.Close(); err != nil {
			t.Fatal(err)
		}
		if err := pub.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for i, ch := range []<-chan *message.Message{ch1, ch2} {
		select {
		case _, ok := <-ch:
			if ok {
				t.Errorf("subscription %d delivered after Close", i)
			}
		default:
			t.Errorf("subscription %d channel still open when Close returned", i)
		}
	}
	if _, err := sub.Subscribe(context.Background(), topic); !errors.Is(err, ErrSubscriberClosed) {
		t.Errorf("Subscribe after Close: %v, want ErrSubscriberClosed", err)
	}
	if err := pub.Publish(topic, message.NewMessage("id", nil)); !errors.Is(err, ErrPublisherClosed) {
		t.Errorf("Publish after Close: %v, want ErrPublisherClosed", err)
	}
}
