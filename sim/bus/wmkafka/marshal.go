package wmkafka

import (
	"context"
	"fmt"
	"sort"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"
)

const (
	// UUIDHeader is the Kafka header carrying the watermill message UUID. It
	// has the same name watermill-kafka uses, so both can share a topic.
	UUIDHeader = "_watermill_message_uuid"

	// PartitionKeyMetadata is the metadata key whose value becomes the Kafka
	// record key. Messages with the same key land on the same partition and
	// are therefore delivered in publish order.
	PartitionKeyMetadata = "partition_key"
)

// PartitionKeyFunc returns the Kafka record key for msg published on topic.
type PartitionKeyFunc func(topic string, msg *message.Message) (string, error)

// DefaultPartitionKey keys by the "partition_key" metadata, falling back to
// the UUID. The fallback spreads unrelated messages over all partitions
// instead of piling every unkeyed message onto one.
func DefaultPartitionKey(_ string, msg *message.Message) (string, error) {
	if k := msg.Metadata.Get(PartitionKeyMetadata); k != "" {
		return k, nil
	}
	return msg.UUID, nil
}

func marshal(topic string, key PartitionKeyFunc, msg *message.Message) (kafka.Message, error) {
	if _, ok := msg.Metadata[UUIDHeader]; ok {
		// Accepting it would make the UUID ambiguous on the way back.
		return kafka.Message{}, fmt.Errorf("message %s: metadata key %q is reserved for the UUID", msg.UUID, UUIDHeader)
	}
	k, err := key(topic, msg)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("message %s: partition key: %w", msg.UUID, err)
	}
	headers := make([]kafka.Header, 0, len(msg.Metadata)+1)
	headers = append(headers, kafka.Header{Key: UUIDHeader, Value: []byte(msg.UUID)})
	// Sorted so that the same message always produces the same bytes: the
	// event log is digested and compared across runs.
	names := make([]string, 0, len(msg.Metadata))
	for name := range msg.Metadata {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		headers = append(headers, kafka.Header{Key: name, Value: []byte(msg.Metadata[name])})
	}
	return kafka.Message{
		Topic:   topic,
		Key:     []byte(k),
		Value:   msg.Payload,
		Headers: headers,
	}, nil
}

// unmarshal never fails: a record written by a non-watermill producer has no
// UUID header and simply gets an empty UUID, as in watermill-kafka.
func unmarshal(km kafka.Message) *message.Message {
	var uuid string
	md := make(message.Metadata, len(km.Headers))
	for _, h := range km.Headers {
		if h.Key == UUIDHeader {
			uuid = string(h.Value)
			continue
		}
		md[h.Key] = string(h.Value)
	}
	msg := message.NewMessage(uuid, km.Value)
	msg.Metadata = md
	return msg
}

type ctxKey int

const (
	ctxPartition ctxKey = iota
	ctxOffset
	ctxKafkaKey
)

func withKafkaCoordinates(ctx context.Context, km kafka.Message) context.Context {
	ctx = context.WithValue(ctx, ctxPartition, km.Partition)
	ctx = context.WithValue(ctx, ctxOffset, km.Offset)
	return context.WithValue(ctx, ctxKafkaKey, km.Key)
}

// PartitionFromCtx returns the partition a received message was read from.
func PartitionFromCtx(ctx context.Context) (int, bool) {
	p, ok := ctx.Value(ctxPartition).(int)
	return p, ok
}

// OffsetFromCtx returns the offset of a received message, e.g. to log where
// a poison message sits.
func OffsetFromCtx(ctx context.Context) (int64, bool) {
	o, ok := ctx.Value(ctxOffset).(int64)
	return o, ok
}

// KeyFromCtx returns the Kafka record key of a received message.
func KeyFromCtx(ctx context.Context) ([]byte, bool) {
	k, ok := ctx.Value(ctxKafkaKey).([]byte)
	return k, ok
}
