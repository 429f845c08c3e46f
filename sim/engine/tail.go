package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/event"
)

// TailConfig configures Tail.
type TailConfig struct {
	Bus   bus.Config
	Topic string // the events topic
	// Limit stops after that many events (0: all); Wallet, if set, prints
	// only that wallet's events.
	Limit  int64
	Wallet uint64
	Out    io.Writer
}

var errStop = errors.New("stop")

// Tail prints the events topic as JSON lines (EventJSON), partition by
// partition from the start; a record that does not decode is a line with
// its error.
func Tail(ctx context.Context, cfg TailConfig) error {
	bc, topic, limit, wallet := cfg.Bus, cfg.Topic, cfg.Limit, cfg.Wallet
	admin, err := bus.NewClient(bc)
	if err != nil {
		return err
	}
	parts, err := admin.Partitions(ctx, topic)
	if err != nil {
		return err
	}
	first, next, err := admin.Offsets(ctx, topic, parts)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(cfg.Out)
	defer w.Flush()
	enc := json.NewEncoder(w)
	var n int64
	var e event.Event
	for p := 0; p < parts; p++ {
		err := bus.ReadRange(ctx, bc, topic, p, first[p], next[p], func(m kafka.Message) error {
			if limit > 0 && n >= limit {
				return errStop
			}
			j := EventJSON{Partition: m.Partition, Offset: m.Offset}
			if err := event.DecodeEvent(m.Value, &e); err != nil {
				j.Error = err.Error()
			} else {
				if wallet != 0 && e.Wallet != wallet {
					return nil
				}
				j = NewEventJSON(&e, m.Partition, m.Offset)
			}
			n++
			return enc.Encode(j)
		})
		if err == errStop {
			break
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// EventJSON is an event as people and jq read it (walletsim events tail).
type EventJSON struct {
	Type         string        `json:"type"`
	ID           uint64        `json:"id"`
	Wallet       uint64        `json:"wallet"`
	Seq          uint64        `json:"seq"`
	Command      uint64        `json:"command"`
	SimTime      int64         `json:"sim_time_ms"`
	Epoch        uint32        `json:"epoch"`
	Kind         string        `json:"kind"`
	Amount       int64         `json:"amount"`
	Currency     string        `json:"currency"`
	BalanceAfter int64         `json:"balance_after"`
	Counterparty uint64        `json:"counterparty,omitempty"`
	Route        uint16        `json:"route,omitempty"`
	Reason       string        `json:"reason,omitempty"`
	Attempt      uint8         `json:"attempt,omitempty"`
	FXRate       int64         `json:"fx_rate,omitempty"`
	LatencyUS    int64         `json:"route_latency_us,omitempty"`
	GreenGrams   int64         `json:"green_energy_points,omitempty"`
	Provider     string        `json:"provider,omitempty"`
	Region       string        `json:"region,omitempty"`
	Class        string        `json:"class,omitempty"`
	Peer         string        `json:"peer,omitempty"`
	Hops         uint8         `json:"hops,omitempty"`
	Apps         []string      `json:"apps,omitempty"`
	Postings     []PostingJSON `json:"postings,omitempty"`
	Partition    int           `json:"partition"`
	Offset       int64         `json:"offset"`
	Error        string        `json:"error,omitempty"`
}

// PostingJSON is one leg of an event.
type PostingJSON struct {
	Account  string `json:"account"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// NewEventJSON is e as read at partition and offset.
func NewEventJSON(e *event.Event, partition int, offset int64) EventJSON {
	j := EventJSON{
		Type: e.Type.String(), ID: e.ID, Wallet: e.Wallet, Seq: e.Seq, Command: e.Command, SimTime: e.SimTime, Epoch: e.Epoch,
		Kind: e.Kind.String(), Amount: e.Amount, Currency: e.Currency.String(), BalanceAfter: e.BalanceAfter,
		Counterparty: e.Counterparty, Route: e.Route, Attempt: e.Attempt, FXRate: e.FXRate, LatencyUS: e.LatencyUS,
		GreenGrams: e.GreenGrams, Partition: partition, Offset: offset,
	}
	if e.Reason != 0 {
		j.Reason = e.Reason.String()
	}
	if e.Type == event.WalletOpened {
		j.Provider, j.Region, j.Class = e.Provider.String(), e.Region.String(), e.Class.String()
		for _, p := range sim.Providers() {
			if e.Apps&(1<<p) != 0 {
				j.Apps = append(j.Apps, p.String())
			}
		}
	}
	if e.Peer != 0 {
		j.Peer = e.Peer.String()
	}
	j.Hops = e.Hops
	for _, p := range e.Legs() {
		j.Postings = append(j.Postings, PostingJSON{Account: p.Account.String(), Amount: p.Amount, Currency: p.Currency.String()})
	}
	return j
}
