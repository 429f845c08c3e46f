// Package deadletter reads the engine's dead-letter topic. The topic is
// low volume and per-message by nature, which is what watermill is for: a
// Router with a handler and middleware (recover from a handler panic,
// retry a failing sink) over our kafka-go subscriber. The engine's hot
// path batches below watermill instead; docs/PERFORMANCE.md has the
// measurement behind that split.
package deadletter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/wmkafka"
)

// Letter is one dead letter as printed: why the engine refused the record
// and where it came from.
type Letter struct {
	Reason          string `json:"reason"`
	SourceTopic     string `json:"source_topic"`
	SourcePartition string `json:"source_partition"`
	SourceOffset    string `json:"source_offset"`
	Key             string `json:"key,omitempty"`
	Bytes           int    `json:"bytes"`
	Preview         string `json:"preview_hex"`
}

// Config says which topic to read and where to print.
type Config struct {
	Bus   bus.Config
	Topic string
	// Follow keeps printing new dead letters until ctx ends; otherwise
	// Print returns once every letter present at the start is printed.
	Follow bool
	// Out receives one JSON object per line.
	Out io.Writer
}

func (c *Config) setDefaults() {
	if c.Topic == "" {
		c.Topic = bus.DefaultTopics("").DeadLetters
	}
}

// Validate reports a config Print cannot use.
func (c *Config) Validate() error {
	switch {
	case len(c.Bus.Brokers) == 0:
		return errors.New("deadletter: no brokers")
	case c.Out == nil:
		return errors.New("deadletter: no output")
	}
	return nil
}

// Print writes the topic's dead letters to c.Out as JSON lines.
func Print(ctx context.Context, c Config) error {
	c.setDefaults()
	if err := c.Validate(); err != nil {
		return err
	}
	admin, err := bus.NewClient(c.Bus)
	if err != nil {
		return err
	}
	parts, err := admin.Partitions(ctx, c.Topic)
	if err != nil {
		return err
	}
	var total int64
	if parts > 0 {
		first, next, err := admin.Offsets(ctx, c.Topic, parts)
		if err != nil {
			return err
		}
		for p := range next {
			total += next[p] - first[p]
		}
	}
	if total == 0 && !c.Follow {
		return nil
	}
	dialer, err := c.Bus.Dialer()
	if err != nil {
		return err
	}
	sub, err := wmkafka.NewSubscriber(wmkafka.SubscriberConfig{Brokers: c.Bus.Brokers, Dialer: dialer, DisableTopicCreation: true})
	if err != nil {
		return err
	}
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 5 * time.Second}, watermill.NopLogger{})
	if err != nil {
		return err
	}
	r.AddMiddleware(middleware.Recoverer, middleware.Retry{MaxRetries: 3, InitialInterval: 50 * time.Millisecond, Logger: watermill.NopLogger{}}.Middleware)
	enc := json.NewEncoder(c.Out)
	var mu sync.Mutex
	var seen atomic.Int64
	done := make(chan struct{})
	r.AddNoPublisherHandler("deadletters", c.Topic, sub, func(m *message.Message) error {
		d := Letter{
			Reason: m.Metadata.Get("reason"), SourceTopic: m.Metadata.Get("source_topic"),
			SourcePartition: m.Metadata.Get("source_partition"), SourceOffset: m.Metadata.Get("source_offset"),
			Key: keyOf(m), Bytes: len(m.Payload), Preview: fmt.Sprintf("%x", m.Payload[:min(len(m.Payload), 16)]),
		}
		mu.Lock()
		err := enc.Encode(d)
		mu.Unlock()
		if err != nil {
			return err
		}
		if n := seen.Add(1); !c.Follow && n == total {
			close(done)
		}
		return nil
	})
	go func() {
		select {
		case <-done:
		case <-ctx.Done():
		}
		_ = r.Close()
	}()
	if err := r.Run(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return sub.Close()
}

func keyOf(m *message.Message) string {
	k, _ := wmkafka.KeyFromCtx(m.Context())
	return string(k)
}
