package wmkafka

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim/bus"
)

// These benchmarks put watermill's per-message path beside batched
// kafka-go on the same broker, with the same 64-byte payloads: the numbers
// behind the engine's hot path batching below watermill (GUIDE.md, and
// docs/PERFORMANCE.md). Run: go test ./sim/bus/wmkafka -bench . -run '^$'

var payload = []byte("0123456789012345678901234567890123456789012345678901234567890123")

func benchTopic(b *testing.B, name string) string {
	return fmt.Sprintf("bench.%s.%d", name, time.Now().UnixNano())
}

func BenchmarkWatermillPublishOneByOne(b *testing.B) {
	pub, err := NewPublisher(PublisherConfig{Brokers: []string{testBroker.Addr()}})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	topic := benchTopic(b, "one")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := pub.Publish(topic, message.NewMessage(strconv.Itoa(i), payload)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkWatermillPublishBatch1000(b *testing.B) {
	pub, err := NewPublisher(PublisherConfig{Brokers: []string{testBroker.Addr()}})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	topic := benchTopic(b, "batch")
	msgs := make([]*message.Message, 0, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; {
		msgs = msgs[:0]
		for ; len(msgs) < 1000 && i < b.N; i++ {
			msgs = append(msgs, message.NewMessage(strconv.Itoa(i), payload))
		}
		if err := pub.Publish(topic, msgs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkWatermillSubscribeAck(b *testing.B) {
	topic := benchTopic(b, "sub")
	w, err := bus.NewWriter(bus.Config{Brokers: []string{testBroker.Addr()}})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	pub, err := NewPublisher(PublisherConfig{Brokers: []string{testBroker.Addr()}})
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([]*message.Message, 0, b.N)
	for i := 0; i < b.N; i++ {
		msgs = append(msgs, message.NewMessage(strconv.Itoa(i), payload))
	}
	for i := 0; i < len(msgs); i += 5000 {
		if err := pub.Publish(topic, msgs[i:min(i+5000, len(msgs))]...); err != nil {
			b.Fatal(err)
		}
	}
	pub.Close()
	sub, err := NewSubscriber(SubscriberConfig{Brokers: []string{testBroker.Addr()}})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ResetTimer()
	ch, err := sub.Subscribe(ctx, topic)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		m := <-ch
		m.Ack()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkKafkaGoBatch5000(b *testing.B) {
	w, err := bus.NewWriter(bus.Config{Brokers: []string{testBroker.Addr()}})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	topic := benchTopic(b, "raw")
	admin, _ := bus.NewClient(bus.Config{Brokers: []string{testBroker.Addr()}})
	if err := admin.EnsureTopics(context.Background(), 8, topic); err != nil {
		b.Fatal(err)
	}
	msgs := make([]kafka.Message, 0, 5000)
	b.ResetTimer()
	for i := 0; i < b.N; {
		msgs = msgs[:0]
		for ; len(msgs) < 5000 && i < b.N; i++ {
			msgs = append(msgs, kafka.Message{Topic: topic, Partition: i % 8, Key: strconv.AppendInt(nil, int64(i), 10), Value: payload})
		}
		if err := w.WriteMessages(context.Background(), msgs...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
