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

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	// Brokers are the bootstrap host:port addresses.
	Brokers []string

	// ConsumerGroup shared by every Subscribe call of this Subscriber and by
	// other processes using the same name: each message goes to one member.
	// Empty means each Subscribe call joins a fresh group of its own and so
	// reads the whole topic from InitialOffset (fan-out). Those throwaway
	// groups stay listed on the broker until its offsets retention expires.
	ConsumerGroup string

	// Dialer carries SASL/TLS settings for the Reader. Nil means
	// kafka-go's DefaultDialer.
	Dialer *kafka.Dialer

	// Transport carries SASL/TLS settings for the topic admin client.
	Transport kafka.RoundTripper

	// InitialOffset is where a group with no committed offset starts:
	// kafka.FirstOffset (default) or kafka.LastOffset.
	InitialOffset int64

	// MaxWait is how long a fetch waits on the broker for new records. It
	// also bounds Close: kafka-go cannot cancel an in-flight fetch, so a
	// Reader's Close waits for it, which with kafka-go's 10 s default took
	// 9 s per Reader. Default 250 ms.
	MaxWait time.Duration

	// CommitInterval batches offset commits: an Ack queues its offset and
	// kafka-go commits the queue every CommitInterval and on rebalance or
	// Close. A crash redelivers at most that window (at-least-once either
	// way). Default 1 s. See SyncCommit.
	CommitInterval time.Duration

	// SyncCommit commits every Ack before the next message is delivered,
	// trading a broker round trip per message for no redelivery window.
	SyncCommit bool

	// CommitTimeout bounds one synchronous commit. Default 10 s.
	CommitTimeout time.Duration

	// Group membership timings, passed to kafka-go; zero keeps kafka-go's
	// defaults (3 s heartbeat, 30 s session, 30 s rebalance, 5 s join
	// backoff). Shorter values make a crashed member's partitions move
	// sooner.
	HeartbeatInterval time.Duration
	SessionTimeout    time.Duration
	RebalanceTimeout  time.Duration
	JoinGroupBackoff  time.Duration

	// NackResendSleep is slept before a Nacked message is delivered again.
	// Default 0: the Router's Retry middleware is the place for backoff.
	NackResendSleep time.Duration

	// TopicPartitions, ReplicationFactor and DisableTopicCreation apply
	// when Subscribe or SubscribeInitialize creates a missing topic; see
	// PublisherConfig. Creating it here matters because a group Reader on a
	// missing topic gets no partitions and would not notice the topic
	// appearing later.
	TopicPartitions      int
	ReplicationFactor    int
	DisableTopicCreation bool
	AdminTimeout         time.Duration

	// ReaderConfig, when set, is called last on each kafka.ReaderConfig so
	// that settings not exposed here (isolation level, balancers, ...) can
	// still be changed.
	ReaderConfig func(*kafka.ReaderConfig)

	// Logger defaults to watermill.NopLogger.
	Logger watermill.LoggerAdapter
}

func (c *SubscriberConfig) setDefaults() {
	if c.InitialOffset == 0 {
		c.InitialOffset = kafka.FirstOffset
	}
	if c.MaxWait == 0 {
		c.MaxWait = 250 * time.Millisecond
	}
	if c.CommitInterval == 0 {
		c.CommitInterval = time.Second
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = 10 * time.Second
	}
	topicDefaults(&c.TopicPartitions, &c.ReplicationFactor, &c.AdminTimeout)
	if c.Logger == nil {
		c.Logger = watermill.NopLogger{}
	}
}

// Validate reports the first thing wrong with the configuration.
func (c SubscriberConfig) Validate() error {
	if err := validateBrokers(c.Brokers); err != nil {
		return err
	}
	if c.InitialOffset != kafka.FirstOffset && c.InitialOffset != kafka.LastOffset {
		return fmt.Errorf("wmkafka subscriber: InitialOffset %d must be kafka.FirstOffset (%d) or kafka.LastOffset (%d)",
			c.InitialOffset, kafka.FirstOffset, kafka.LastOffset)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"MaxWait", c.MaxWait}, {"CommitInterval", c.CommitInterval}, {"CommitTimeout", c.CommitTimeout},
		{"HeartbeatInterval", c.HeartbeatInterval}, {"SessionTimeout", c.SessionTimeout},
		{"RebalanceTimeout", c.RebalanceTimeout}, {"JoinGroupBackoff", c.JoinGroupBackoff},
		{"NackResendSleep", c.NackResendSleep},
	} {
		if d.v < 0 {
			return fmt.Errorf("wmkafka subscriber: %s %v must not be negative", d.name, d.v)
		}
	}
	if c.HeartbeatInterval > 0 && c.SessionTimeout > 0 && c.HeartbeatInterval >= c.SessionTimeout {
		return fmt.Errorf("wmkafka subscriber: HeartbeatInterval %v must be shorter than SessionTimeout %v",
			c.HeartbeatInterval, c.SessionTimeout)
	}
	return validateTopicSettings("subscriber", c.TopicPartitions, c.ReplicationFactor, c.AdminTimeout)
}

// Subscriber consumes topics through kafka-go group Readers, one Reader per
// Subscribe call.
type Subscriber struct {
	cfg    SubscriberConfig
	topics *topicCreator
	logger watermill.LoggerAdapter

	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	subs    sync.WaitGroup
}

// NewSubscriber validates cfg and returns a Subscriber.
func NewSubscriber(cfg SubscriberConfig) (*Subscriber, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Subscriber{
		cfg:     cfg,
		topics:  newTopicCreator(cfg.Brokers, cfg.Transport, cfg.TopicPartitions, cfg.ReplicationFactor, cfg.AdminTimeout),
		logger:  cfg.Logger.With(watermill.LogFields{"component": "wmkafka.Subscriber"}),
		closing: make(chan struct{}),
	}, nil
}

// ErrSubscriberClosed is returned by Subscribe after Close.
var ErrSubscriberClosed = errors.New("wmkafka: subscriber closed")

// SubscribeInitialize creates topic if it is missing, even when
// DisableTopicCreation is set: the caller asked for it explicitly.
func (s *Subscriber) SubscribeInitialize(topic string) error {
	return s.topics.ensure(context.Background(), topic)
}

// Subscribe starts a group Reader on topic and returns the channel it
// delivers to. Messages are delivered one at a time: the next one is not
// sent until the previous one is Acked (which queues its offset commit) or
// Nacked (which sends the same message again). That keeps per-partition
// order and means no message overtakes an unacknowledged one. The channel
// is closed when ctx is cancelled or the Subscriber is closed.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic == "" {
		return nil, errors.New("wmkafka: subscribe: empty topic")
	}
	// Outside the lock: a slow CreateTopics must not hold up Close or
	// other Subscribe calls.
	if !s.cfg.DisableTopicCreation {
		if err := s.topics.ensure(ctx, topic); err != nil {
			return nil, fmt.Errorf("wmkafka: subscribe: %w", err)
		}
	}

	group := s.cfg.ConsumerGroup
	if group == "" {
		group = "wmkafka-" + watermill.NewUUID()
	}
	rc := kafka.ReaderConfig{
		Brokers:           s.cfg.Brokers,
		GroupID:           group,
		Topic:             topic,
		Dialer:            s.cfg.Dialer,
		StartOffset:       s.cfg.InitialOffset,
		MaxWait:           s.cfg.MaxWait,
		HeartbeatInterval: s.cfg.HeartbeatInterval,
		SessionTimeout:    s.cfg.SessionTimeout,
		RebalanceTimeout:  s.cfg.RebalanceTimeout,
		JoinGroupBackoff:  s.cfg.JoinGroupBackoff,
	}
	if !s.cfg.SyncCommit {
		rc.CommitInterval = s.cfg.CommitInterval
	}
	if s.cfg.ReaderConfig != nil {
		s.cfg.ReaderConfig(&rc)
	}

	if err := rc.Validate(); err != nil {
		return nil, fmt.Errorf("wmkafka: subscribe to %q: %w", topic, err)
	}

	// Under the lock so that Close either sees this subscription in its
	// WaitGroup or makes Subscribe fail: never a Reader left running.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrSubscriberClosed
	}
	subCtx, cancel := context.WithCancel(ctx)
	if rc.ErrorLogger == nil {
		rc.ErrorLogger = kafkaLogger{l: s.cfg.Logger, stopping: func() bool { return subCtx.Err() != nil }}
	}
	sub := &subscription{
		s:      s,
		topic:  topic,
		reader: kafka.NewReader(rc),
		out:    make(chan *message.Message),
		logger: s.logger.With(watermill.LogFields{"topic": topic, "consumer_group": group}),
	}
	s.subs.Add(1)
	go func() {
		defer s.subs.Done()
		select {
		case <-s.closing:
			cancel()
		case <-subCtx.Done():
		}
	}()
	s.subs.Add(1)
	go func() {
		defer s.subs.Done()
		defer cancel()
		sub.run(subCtx)
	}()
	return sub.out, nil
}

// Close stops every subscription, waits until their channels are closed and
// their Readers have left the group, and is safe to call more than once.
// Subscriptions shut down concurrently, so Close costs about one MaxWait
// however many there are.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	s.mu.Unlock()
	s.subs.Wait()
	return nil
}

type subscription struct {
	s      *Subscriber
	topic  string
	reader *kafka.Reader
	out    chan *message.Message
	logger watermill.LoggerAdapter
}

func (sub *subscription) run(ctx context.Context) {
	defer func() {
		// The channel is closed before the Reader: consumers see the end at
		// once, while leaving the group (up to MaxWait) finishes behind.
		close(sub.out)
		if err := sub.reader.Close(); err != nil {
			sub.logger.Error("closing reader", err, nil)
		}
	}()
	for {
		km, err := sub.reader.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() == nil {
				// FetchMessage only fails for good (the Reader is
				// closed or broken); retrying would spin.
				sub.logger.Error("fetch failed, subscription ends", err, nil)
			}
			return
		}
		if !sub.deliver(ctx, km) {
			return
		}
	}
}

// deliver sends km until it is Acked and reports whether to go on.
func (sub *subscription) deliver(ctx context.Context, km kafka.Message) bool {
	for {
		msg := unmarshal(km)
		// Cancelled on Ack, Nack or shutdown, so a handler can tell that its
		// message is no longer in play.
		msgCtx, cancel := context.WithCancel(withKafkaCoordinates(ctx, km))
		msg.SetContext(msgCtx)
		select {
		case sub.out <- msg:
		case <-ctx.Done():
			cancel()
			return false
		}
		select {
		case <-msg.Acked():
			cancel()
			sub.commit(km)
			return true
		case <-msg.Nacked():
			cancel()
			if d := sub.s.cfg.NackResendSleep; d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					return false
				}
			}
		case <-ctx.Done():
			cancel()
			return false
		}
	}
}

func (sub *subscription) commit(km kafka.Message) {
	// Not ctx: an Ack that races with Close must still reach the commit
	// queue, or the message would be redelivered for nothing.
	ctx, cancel := context.WithTimeout(context.Background(), sub.s.cfg.CommitTimeout)
	defer cancel()
	if err := sub.reader.CommitMessages(ctx, km); err != nil {
		// The message was processed; failing to commit only means it may
		// be delivered again, which at-least-once consumers tolerate.
		sub.logger.Error("commit failed", err, watermill.LogFields{
			"partition": km.Partition, "offset": km.Offset,
		})
	}
}
