package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/signal"

	"github.com/segmentio/kafka-go"
	"github.com/spf13/cobra"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/event"
)

func newEventsCmd() *cobra.Command {
	events := &cobra.Command{Use: "events", Short: "Inspect the event log"}
	events.AddCommand(newEventsTailCmd())
	return events
}

// eventJSON is an event as people and jq read it.
type eventJSON struct {
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
	Postings     []postingJSON `json:"postings,omitempty"`
	Partition    int           `json:"partition"`
	Offset       int64         `json:"offset"`
	Error        string        `json:"error,omitempty"`
}

type postingJSON struct {
	Account  string `json:"account"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func toJSON(e *event.Event, m kafka.Message) eventJSON {
	j := eventJSON{
		Type: e.Type.String(), ID: e.ID, Wallet: e.Wallet, Seq: e.Seq, Command: e.Command, SimTime: e.SimTime, Epoch: e.Epoch,
		Kind: e.Kind.String(), Amount: e.Amount, Currency: e.Currency.String(), BalanceAfter: e.BalanceAfter,
		Counterparty: e.Counterparty, Route: e.Route, Attempt: e.Attempt, FXRate: e.FXRate, LatencyUS: e.LatencyUS,
		GreenGrams: e.GreenGrams, Partition: m.Partition, Offset: m.Offset,
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
		j.Postings = append(j.Postings, postingJSON{Account: p.Account.String(), Amount: p.Amount, Currency: p.Currency.String()})
	}
	return j
}

func newEventsTailCmd() *cobra.Command {
	var bf busFlags
	var limit int64
	var wallet uint64
	cmd := &cobra.Command{
		Use:   "tail --brokers HOST:PORT",
		Short: "Print events as JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bc, err := bf.external(cmd)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
			defer stop()
			admin, err := bus.NewClient(bc)
			if err != nil {
				return err
			}
			topic := bf.topics().Events
			parts, err := admin.Partitions(ctx, topic)
			if err != nil {
				return err
			}
			first, next, err := admin.Offsets(ctx, topic, parts)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			defer w.Flush()
			enc := json.NewEncoder(w)
			var n int64
			var e event.Event
			for p := 0; p < parts; p++ {
				err := bus.ReadRange(ctx, bc, topic, p, first[p], next[p], func(m kafka.Message) error {
					if limit > 0 && n >= limit {
						return errStop
					}
					j := eventJSON{Partition: m.Partition, Offset: m.Offset}
					if err := event.DecodeEvent(m.Value, &e); err != nil {
						j.Error = err.Error()
					} else {
						if wallet != 0 && e.Wallet != wallet {
							return nil
						}
						j = toJSON(&e, m)
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
		},
	}
	bf.registerExternal(cmd.Flags())
	cmd.Flags().Int64Var(&limit, "limit", 0, "stop after N events (0: all)")
	cmd.Flags().Uint64Var(&wallet, "wallet", 0, "only this wallet's events")
	return cmd
}

type stopErr struct{}

func (stopErr) Error() string { return "stop" }

var errStop error = stopErr{}
