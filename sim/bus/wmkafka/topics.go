package wmkafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// topicCreator creates topics with an explicit partition count. Relying on
// broker auto-creation (Writer.AllowAutoTopicCreation) would leave the count
// to the broker's num.partitions, and the partition count decides ordering
// and parallelism, so it must be ours.
type topicCreator struct {
	client            *kafka.Client
	partitions        int
	replicationFactor int
	timeout           time.Duration

	known sync.Map // topic -> struct{}: created or seen to exist
}

func newTopicCreator(brokers []string, transport kafka.RoundTripper, partitions, replicationFactor int, timeout time.Duration) *topicCreator {
	return &topicCreator{
		client: &kafka.Client{
			Addr:      kafka.TCP(brokers...),
			Transport: transport,
			Timeout:   timeout,
		},
		partitions:        partitions,
		replicationFactor: replicationFactor,
		timeout:           timeout,
	}
}

func (c *topicCreator) ensure(ctx context.Context, topic string) error {
	if _, ok := c.known.Load(topic); ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// kafka-go's Client routes CreateTopics to the controller itself.
	resp, err := c.client.CreateTopics(ctx, &kafka.CreateTopicsRequest{
		Topics: []kafka.TopicConfig{{
			Topic:             topic,
			NumPartitions:     c.partitions,
			ReplicationFactor: c.replicationFactor,
		}},
	})
	if err != nil {
		return fmt.Errorf("create topic %q: %w", topic, err)
	}
	if err := resp.Errors[topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("create topic %q: %w", topic, err)
	}
	c.known.Store(topic, struct{}{})
	return nil
}

// topicDefaults fills the topic-creation settings both configs share:
// 8 partitions, replication factor 1 (the embedded broker has one node),
// a 10 s bound on CreateTopics.
func topicDefaults(partitions, replication *int, adminTimeout *time.Duration) {
	if *partitions == 0 {
		*partitions = 8
	}
	if *replication == 0 {
		*replication = 1
	}
	if *adminTimeout == 0 {
		*adminTimeout = 10 * time.Second
	}
}
