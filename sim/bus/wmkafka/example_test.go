package wmkafka_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/wmkafka"
)

// Publish a batch through watermill onto Kafka (here the embedded broker)
// and read it back with a Subscriber. One Publish call is one
// WriteMessages: the batch is acknowledged by every in-sync replica before
// it returns.
func ExamplePublisher() {
	b, err := embedded.Start(embedded.Config{Partitions: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	pub, err := wmkafka.NewPublisher(wmkafka.PublisherConfig{Brokers: []string{b.Addr()}, TopicPartitions: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pub.Close()
	msgs := []*message.Message{
		message.NewMessage(watermill.NewUUID(), []byte("wallet-17 paid merchant-3 CNY 60.00")),
		message.NewMessage(watermill.NewUUID(), []byte("wallet-42 topped up HKD 200.00")),
	}
	if err := pub.Publish("example.payments", msgs...); err != nil {
		fmt.Println(err)
		return
	}

	sub, err := wmkafka.NewSubscriber(wmkafka.SubscriberConfig{Brokers: []string{b.Addr()}, ConsumerGroup: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sub.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in, err := sub.Subscribe(ctx, "example.payments")
	if err != nil {
		fmt.Println(err)
		return
	}
	for range msgs {
		m := <-in
		fmt.Println(string(m.Payload))
		m.Ack()
	}
	// Output:
	// wallet-17 paid merchant-3 CNY 60.00
	// wallet-42 topped up HKD 200.00
}
