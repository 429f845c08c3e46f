package api

import (
	"sync"
	"sync/atomic"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
)

// Status is where a payment stands.
type Status uint8

// Statuses.
const (
	StatusPending Status = iota
	StatusSettled
	StatusDeclined
)

func (s Status) String() string {
	switch s {
	case StatusSettled:
		return "settled"
	case StatusDeclined:
		return "declined"
	}
	return "pending"
}

// Outcome is what the API knows of one accepted payment: the request, then
// what the engine's events said.
type Outcome struct {
	ID       uint64
	Kind     sim.Kind
	Status   Status
	Reason   sim.Reason
	Amount   int64
	Currency sim.Currency
	// Payer is the wallet that paid: after a fallback, not the one asked.
	Payer        uint64
	Payee        uint64 // transfers
	BalanceAfter int64  // the payer's balance after the payment (or refund)
	Attempts     uint8
}

// flight is an accepted payment whose outcome has not arrived yet.
type flight struct {
	o    Outcome
	done chan struct{}
}

const shards = 64

type shard struct {
	mu       sync.Mutex
	inflight map[uint64]*flight
	// Finished outcomes in two generations: when the newer holds its share
	// of the retention, the older is dropped. Memory stays bounded on a
	// long-running server and a lookup costs two map reads.
	done, old map[uint64]Outcome
}

// tracker matches the engine's events to accepted payments. It is sharded
// by payment ID so that HTTP goroutines and the engine's processors rarely
// wait on the same lock.
type tracker struct {
	sh          [shards]shard
	outstanding atomic.Int64
	perGen      int // finished outcomes per shard and generation
}

// newTracker keeps at least retain finished outcomes (and at most twice
// as many) for GET /v1/payments/{id}.
func newTracker(retain int) *tracker {
	t := &tracker{perGen: max(retain/shards, 1)}
	for i := range t.sh {
		t.sh[i].inflight = map[uint64]*flight{}
		t.sh[i].done = map[uint64]Outcome{}
	}
	return t
}

func (t *tracker) shard(id uint64) *shard { return &t.sh[id%shards] }

// register records an accepted payment before its command can reach the
// engine.
func (t *tracker) register(o Outcome) *flight {
	f := &flight{o: o, done: make(chan struct{})}
	s := t.shard(o.ID)
	s.mu.Lock()
	s.inflight[o.ID] = f
	s.mu.Unlock()
	t.outstanding.Add(1)
	return f
}

// observe applies one of the engine's events; outcomes complete a flight.
func (t *tracker) observe(e *event.Event) {
	s := t.shard(e.Command)
	s.mu.Lock()
	f := s.inflight[e.Command]
	if f == nil {
		s.mu.Unlock()
		return
	}
	o := &f.o
	o.Attempts = max(o.Attempts, e.Attempt+1)
	switch e.Type {
	case event.PaymentSettled, event.ToppedUp, event.Withdrawn:
		o.Status, o.Payer, o.BalanceAfter = StatusSettled, e.Wallet, e.BalanceAfter
	case event.PaymentDeclined:
		o.Status, o.Reason, o.Payer, o.BalanceAfter = StatusDeclined, e.Reason, e.Wallet, e.BalanceAfter
	case event.TransferDebited:
		o.Payer, o.BalanceAfter = e.Wallet, e.BalanceAfter
	case event.TransferCredited:
		o.Status = StatusSettled
	case event.TransferCompensated:
		o.Status, o.Reason, o.Payer, o.BalanceAfter = StatusDeclined, e.Reason, e.Wallet, e.BalanceAfter
	case event.AttemptDeclined:
		o.Payer, o.BalanceAfter = e.Wallet, e.BalanceAfter
	}
	if o.Status == StatusPending {
		s.mu.Unlock()
		return
	}
	delete(s.inflight, e.Command)
	if len(s.done) >= t.perGen {
		s.old, s.done = s.done, make(map[uint64]Outcome, t.perGen)
	}
	s.done[e.Command] = *o
	s.mu.Unlock()
	t.outstanding.Add(-1)
	close(f.done)
}

// lookup returns a payment's outcome so far, and its flight if pending.
func (t *tracker) lookup(id uint64) (Outcome, *flight, bool) {
	s := t.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.inflight[id]; f != nil {
		return f.o, f, true
	}
	if o, ok := s.done[id]; ok {
		return o, nil, true
	}
	o, ok := s.old[id]
	return o, nil, ok
}

// result is a flight's outcome once done is closed.
func (t *tracker) result(id uint64) Outcome {
	o, _, _ := t.lookup(id)
	return o
}
