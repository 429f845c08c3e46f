package wmkafka

import (
	"log/slog"
	"os"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
)

// Errors only: the suite creates hundreds of subscribers, and info logs
// would bury a failure.
var testLogger = watermill.NewSlogLogger(slog.New(slog.NewTextHandler(os.Stderr,
	&slog.HandlerOptions{Level: slog.LevelError})))

func newPubSub(t *testing.T, group string, key PartitionKeyFunc) (message.Publisher, message.Subscriber) {
	t.Helper()
	pub, err := NewPublisher(PublisherConfig{
		Brokers:      []string{testBroker.Addr()},
		PartitionKey: key,
		Logger:       testLogger,
	})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := NewSubscriber(SubscriberConfig{
		Brokers:       []string{testBroker.Addr()},
		ConsumerGroup: group,
		Logger:        testLogger,
	})
	if err != nil {
		t.Fatal(err)
	}
	return pub, sub
}

// features are what this Pub/Sub really guarantees; each false flag skips
// the suite tests that need it.
var features = tests.Features{
	ConsumerGroups: true,
	// kafka-go has neither an idempotent producer nor transactions, and a
	// Nack or a crash before the batched commit redelivers: at-least-once.
	ExactlyOnceDelivery: false,
	// Kafka orders per partition, i.e. per key. The suite's messages carry
	// no partition_key, so the default key (the UUID) spreads them over 8
	// partitions and the topic as a whole is unordered. TestPubSubOrdered
	// proves the per-key guarantee (and TestNoAck) with keyed messages.
	GuaranteedOrder: false,
	Persistent:      true,
	// An empty ConsumerGroup gives each Subscribe a fresh group starting at
	// the first offset, so a new subscriber reads the topic's history.
	NewSubscriberReceivesOldMessages: true,
	// RestartServiceCommand stays empty, which skips TestReconnect: the
	// broker runs inside this test process, and the suite can only restart
	// a broker by running an external command.
}

func TestPubSub(t *testing.T) {
	tests.TestPubSub(t, features,
		func(t *testing.T) (message.Publisher, message.Subscriber) {
			return newPubSub(t, "", nil)
		},
		func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
			return newPubSub(t, group, nil)
		},
	)
}

// TestPubSubOrdered runs the suite's ordering tests with messages keyed by
// payload. TestPublishSubscribeInOrder publishes 16 interleaved "types"
// (the payload) and checks that each type arrives in publish order: that
// is exactly Kafka's per-key guarantee, here across 8 partitions and 10
// concurrent subscribers. TestNoAck checks that nothing overtakes an
// unacknowledged message.
func TestPubSubOrdered(t *testing.T) {
	ordered := features
	ordered.GuaranteedOrder = true
	byPayload := func(_ string, msg *message.Message) (string, error) {
		return string(msg.Payload), nil
	}
	constructor := func(t *testing.T) (message.Publisher, message.Subscriber) {
		return newPubSub(t, "", byPayload)
	}
	for name, test := range map[string]func(*testing.T, tests.TestContext, tests.PubSubConstructor){
		"TestPublishSubscribeInOrder": tests.TestPublishSubscribeInOrder,
		"TestNoAck":                   tests.TestNoAck,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, tests.TestContext{TestID: tests.NewTestID(), Features: ordered}, constructor)
		})
	}
}
