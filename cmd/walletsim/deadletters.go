package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/spf13/cobra"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/wmkafka"
)

func init() { rootCmd.AddCommand(newDeadLettersCmd()) }

// deadLetterJSON is one dead letter as printed.
type deadLetterJSON struct {
	Reason          string `json:"reason"`
	SourceTopic     string `json:"source_topic"`
	SourcePartition string `json:"source_partition"`
	SourceOffset    string `json:"source_offset"`
	Key             string `json:"key,omitempty"`
	Bytes           int    `json:"bytes"`
	Preview         string `json:"preview_hex"`
}

// The dead-letter topic is low volume and per-message by nature, which is
// what watermill is for: a Router with a handler and middleware (recover
// from a handler panic, retry a failing sink) over our kafka-go
// subscriber. The engine's hot path batches below watermill instead; see
// docs/PERFORMANCE.md for the measurement behind that split.
func newDeadLettersCmd() *cobra.Command {
	var bf busFlags
	var follow bool
	cmd := &cobra.Command{
		Use:   "deadletters --brokers HOST:PORT",
		Short: "Print the records the engine dead-lettered, with their reasons, as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bc, err := bf.external(cmd)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			topic := bf.topics().DeadLetters
			admin, err := bus.NewClient(bc)
			if err != nil {
				return err
			}
			parts, err := admin.Partitions(ctx, topic)
			if err != nil {
				return err
			}
			var total int64
			if parts > 0 {
				first, next, err := admin.Offsets(ctx, topic, parts)
				if err != nil {
					return err
				}
				for p := range next {
					total += next[p] - first[p]
				}
			}
			if total == 0 && !follow {
				return nil
			}
			dialer, err := bc.Dialer()
			if err != nil {
				return err
			}
			sub, err := wmkafka.NewSubscriber(wmkafka.SubscriberConfig{Brokers: bc.Brokers, Dialer: dialer, DisableTopicCreation: true})
			if err != nil {
				return err
			}
			r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 5 * time.Second}, watermill.NopLogger{})
			if err != nil {
				return err
			}
			r.AddMiddleware(middleware.Recoverer, middleware.Retry{MaxRetries: 3, InitialInterval: 50 * time.Millisecond, Logger: watermill.NopLogger{}}.Middleware)
			enc := json.NewEncoder(cmd.OutOrStdout())
			var mu sync.Mutex
			var seen atomic.Int64
			done := make(chan struct{})
			r.AddNoPublisherHandler("deadletters", topic, sub, func(m *message.Message) error {
				d := deadLetterJSON{
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
				if n := seen.Add(1); !follow && n == total {
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
		},
	}
	bf.registerExternal(cmd.Flags())
	cmd.Flags().BoolVar(&follow, "follow", false, "keep printing new dead letters until interrupted")
	return cmd
}

func keyOf(m *message.Message) string {
	k, _ := wmkafka.KeyFromCtx(m.Context())
	return string(k)
}
