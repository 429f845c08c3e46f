// Package wmkafka is a watermill message.Publisher and message.Subscriber
// built on segmentio/kafka-go, the only Kafka client walletsim allows
// (watermill-kafka is Sarama based and would pull in a second client).
//
// Wire format: the message payload is the Kafka record value, the watermill
// UUID travels in the UUIDHeader header and every metadata entry becomes one
// header of the same name. The record key, which picks the partition through
// kafka-go's Hash balancer, is the "partition_key" metadata value when
// present, else the message UUID.
//
// Publishing: one Publisher owns one kafka.Writer; Publish(topic, msgs...)
// is a single synchronous WriteMessages call with acks from all in-sync
// replicas. Missing topics are created with an explicit partition count.
//
// Consuming: each Subscribe call runs one kafka-go group Reader and hands
// out one message at a time, waiting for its Ack or Nack, so order within a
// partition (that is, per key) is kept and nothing overtakes an
// unacknowledged message. Nack sends the same record again. Ack queues the
// offset commit; kafka-go flushes the queue every CommitInterval and when
// the Reader is closed or rebalanced (SyncCommit commits each Ack instead).
// Delivery is at-least-once: consumers dedupe by UUID.
//
// Shutdown cost: kafka-go cannot interrupt a fetch in flight, so closing a
// Reader waits for the broker to answer it, up to MaxWait. kafka-go's 10 s
// default made each Reader.Close take 9 s against the embedded broker;
// MaxWait defaults to 250 ms here and Close shuts subscriptions down
// concurrently.
package wmkafka
