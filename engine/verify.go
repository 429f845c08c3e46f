package engine

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/kafkabus"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/event"
)

// Verify replays the commands and events topics through an auditor: it
// checks every invariant and computes the digest from the log alone.
func Verify(ctx context.Context, bus kafkabus.Config, topics kafkabus.Topics) (*audit.Auditor, audit.Report, error) {
	admin, err := kafkabus.NewClient(bus)
	if err != nil {
		return nil, audit.Report{}, err
	}
	parts, err := admin.Partitions(ctx, topics.Events)
	if err != nil {
		return nil, audit.Report{}, err
	}
	if parts == 0 {
		return nil, audit.Report{}, fmt.Errorf("topic %s does not exist on %v: nothing to verify", topics.Events, bus.Brokers)
	}
	a := audit.New()
	var c event.Command
	if err := scan(ctx, admin, bus, topics.Commands, func(m kafka.Message) error {
		if event.DecodeCommand(m.Value, &c) == nil && c.Validate() == nil {
			a.Command(&c)
		}
		return nil
	}); err != nil {
		return nil, audit.Report{}, err
	}
	var e event.Event
	if err := scan(ctx, admin, bus, topics.Events, func(m kafka.Message) error {
		if err := event.DecodeEvent(m.Value, &e); err != nil {
			e = event.Event{} // counted as a bad event
		}
		a.Event(&e, m.Value)
		return nil
	}); err != nil {
		return nil, audit.Report{}, err
	}
	return a, a.Finish(), nil
}

func scan(ctx context.Context, admin *kafkabus.Client, bus kafkabus.Config, topic string, fn func(kafka.Message) error) error {
	parts, err := admin.Partitions(ctx, topic)
	if err != nil {
		return err
	}
	first, next, err := admin.Offsets(ctx, topic, parts)
	if err != nil {
		return err
	}
	for p := 0; p < parts; p++ {
		if err := kafkabus.ReadRange(ctx, bus, topic, p, first[p], next[p], fn); err != nil {
			return err
		}
	}
	return nil
}
