package wmkafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"
)

// PublisherConfig configures a Publisher.
type PublisherConfig struct {
	// Brokers are the bootstrap host:port addresses.
	Brokers []string

	// Transport carries SASL/TLS settings to the Writer and the topic admin
	// client. Nil means kafka-go's DefaultTransport (plain TCP).
	Transport kafka.RoundTripper

	// PartitionKey picks the record key. Default DefaultPartitionKey.
	PartitionKey PartitionKeyFunc

	// BatchTimeout bounds how long a partial batch waits before it is sent.
	// kafka-go's default of 1 s would make every lone synchronous Publish
	// take a second. Default 2 ms.
	BatchTimeout time.Duration

	// BatchSize is the most messages per partition per produce request.
	// Default 1000, so one Publish of a large batch costs few round trips.
	BatchSize int

	// WriteTimeout bounds a produce request. Default 10 s.
	WriteTimeout time.Duration

	// TopicPartitions is the partition count of topics this publisher
	// creates. Default 8.
	TopicPartitions int

	// ReplicationFactor of created topics. Default 1 (the embedded broker
	// has one node); set 3 on a production cluster.
	ReplicationFactor int

	// DisableTopicCreation leaves topic creation to someone else, e.g. an
	// operator who manages partition counts by hand.
	DisableTopicCreation bool

	// AdminTimeout bounds a CreateTopics call. Default 10 s.
	AdminTimeout time.Duration

	// Logger defaults to watermill.NopLogger.
	Logger watermill.LoggerAdapter
}

func (c *PublisherConfig) setDefaults() {
	if c.PartitionKey == nil {
		c.PartitionKey = DefaultPartitionKey
	}
	if c.BatchTimeout == 0 {
		c.BatchTimeout = 2 * time.Millisecond
	}
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 10 * time.Second
	}
	topicDefaults(&c.TopicPartitions, &c.ReplicationFactor, &c.AdminTimeout)
	if c.Logger == nil {
		c.Logger = watermill.NopLogger{}
	}
}

// Validate reports the first thing wrong with the configuration.
func (c PublisherConfig) Validate() error {
	if err := validateBrokers(c.Brokers); err != nil {
		return err
	}
	if c.BatchTimeout < 0 {
		return fmt.Errorf("wmkafka publisher: BatchTimeout %v must not be negative", c.BatchTimeout)
	}
	if c.BatchSize < 0 {
		return fmt.Errorf("wmkafka publisher: BatchSize %d must not be negative", c.BatchSize)
	}
	if c.WriteTimeout < 0 {
		return fmt.Errorf("wmkafka publisher: WriteTimeout %v must not be negative", c.WriteTimeout)
	}
	return validateTopicSettings("publisher", c.TopicPartitions, c.ReplicationFactor, c.AdminTimeout)
}

func validateBrokers(brokers []string) error {
	if len(brokers) == 0 {
		return errors.New("wmkafka: Brokers is empty: need at least one host:port")
	}
	for i, b := range brokers {
		if b == "" {
			return fmt.Errorf("wmkafka: Brokers[%d] is empty", i)
		}
	}
	return nil
}

func validateTopicSettings(who string, partitions, replication int, adminTimeout time.Duration) error {
	if partitions < 1 {
		return fmt.Errorf("wmkafka %s: TopicPartitions %d must be at least 1", who, partitions)
	}
	if replication < 1 {
		return fmt.Errorf("wmkafka %s: ReplicationFactor %d must be at least 1", who, replication)
	}
	if adminTimeout < 0 {
		return fmt.Errorf("wmkafka %s: AdminTimeout %v must not be negative", who, adminTimeout)
	}
	return nil
}

// Publisher publishes watermill messages with one kafka.Writer.
type Publisher struct {
	cfg    PublisherConfig
	writer *kafka.Writer
	topics *topicCreator
	logger watermill.LoggerAdapter

	mu     sync.RWMutex // held for reading by Publish, for writing by Close
	closed bool
}

// NewPublisher validates cfg and returns a Publisher. It does not dial: the
// first Publish does.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &kafka.Writer{
		Addr:      kafka.TCP(cfg.Brokers...),
		Transport: cfg.Transport,
		// Topic stays empty: it is set per message, so one Writer serves
		// every topic.
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: cfg.BatchTimeout,
		BatchSize:    cfg.BatchSize,
		WriteTimeout: cfg.WriteTimeout,
		ErrorLogger:  kafkaLogger{l: cfg.Logger},
	}
	return &Publisher{
		cfg:    cfg,
		writer: w,
		topics: newTopicCreator(cfg.Brokers, cfg.Transport, cfg.TopicPartitions, cfg.ReplicationFactor, cfg.AdminTimeout),
		logger: cfg.Logger.With(watermill.LogFields{"component": "wmkafka.Publisher"}),
	}, nil
}

// ErrPublisherClosed is returned by Publish after Close.
var ErrPublisherClosed = errors.New("wmkafka: publisher closed")

// Publish writes msgs to topic in one WriteMessages call and returns once
// every message is acknowledged by all in-sync replicas, or with the first
// error. kafka-go has no idempotent producer: a retried batch can be written
// twice, so consumers dedupe by UUID.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrPublisherClosed
	}
	if topic == "" {
		return errors.New("wmkafka: publish: empty topic")
	}
	if len(msgs) == 0 {
		return nil
	}
	kms := make([]kafka.Message, len(msgs))
	for i, msg := range msgs {
		km, err := marshal(topic, p.cfg.PartitionKey, msg)
		if err != nil {
			return fmt.Errorf("wmkafka: publish to %q: %w", topic, err)
		}
		kms[i] = km
	}
	ctx := context.Background()
	if !p.cfg.DisableTopicCreation {
		if err := p.topics.ensure(ctx, topic); err != nil {
			return fmt.Errorf("wmkafka: publish: %w", err)
		}
	}
	if err := p.writer.WriteMessages(ctx, kms...); err != nil {
		return fmt.Errorf("wmkafka: publish %d messages to %q: %w", len(kms), topic, err)
	}
	p.logger.Trace("published", watermill.LogFields{"topic": topic, "messages": len(kms)})
	return nil
}

// Close waits for in-flight Publish calls, then closes the Writer. It is
// safe to call more than once.
func (p *Publisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	return p.writer.Close()
}

// kafkaLogger routes kafka-go's internal error log into watermill's logger.
type kafkaLogger struct {
	l watermill.LoggerAdapter
	// stopping, when it returns true, demotes errors to debug: a Reader
	// being closed reports every interrupted fetch and join as an error.
	stopping func() bool
}

func (k kafkaLogger) Printf(format string, args ...any) {
	err := fmt.Errorf(format, args...)
	if k.stopping != nil && k.stopping() {
		k.l.Debug("kafka-go while stopping", watermill.LogFields{"error": err})
		return
	}
	k.l.Error("kafka-go", err, nil)
}
