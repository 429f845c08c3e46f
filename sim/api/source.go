package api

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
)

// IDBase is the first command ID serve hands out. Generated payments use
// epoch<<24|i (far below), wallet openings gen.OpenIDBase (2^59) and up:
// the ranges never meet, and every ID stays under event.MaxCommandID.
const IDBase = 1 << 58

// liveSource is an event.Source fed by HTTP requests. Epoch 0 opens the
// population's wallets; each later epoch is a short wall-clock window
// holding the requests that arrived in it. While the engine is busy, the
// producer does not ask for the next epoch, requests pile up, and the next
// epoch carries them all: the batch grows with the load (group commit).
type liveSource struct {
	pop    *gen.Population
	clock  ledger.Clock
	length time.Duration
	// busy reports whether accepted commands still await their outcome:
	// sagas need further epochs even when no request arrives.
	busy func() bool
	// done is the last epoch every processor has finished.
	done func() int64

	mu      sync.Mutex
	pending []event.Command
	next    uint64
	closed  bool
	wake    chan struct{} // a request arrived, or the source closed
	last    time.Time     // when the previous epoch closed
	// stop ends the wait of an engine that will never take another epoch
	// (its processors failed, or the server was cancelled).
	stop <-chan struct{}
	// resume is the first epoch after a restart (0: none). It carries no
	// request: commands the previous session wrote into it before the
	// crash may already have been processed with it.
	resume uint32
	// Durability: the last command ID of each epoch handed out, and the
	// highest ID in a committed epoch (durable); committed is closed and
	// replaced at each commit.
	epochMax  map[uint32]uint64
	durable   atomic.Uint64
	committed chan struct{}
}

func newLiveSource(pop *gen.Population, clock ledger.Clock, length time.Duration, busy func() bool, done func() int64) *liveSource {
	return &liveSource{pop: pop, clock: clock, length: length, busy: busy, done: done, next: IDBase, wake: make(chan struct{}, 1),
		epochMax: map[uint32]uint64{}, committed: make(chan struct{})}
}

// lead is how many epochs ahead of the slowest processor an epoch may
// close: epoch e closes once e-1 is processed. Closing further ahead only
// queues requests inside the engine, where they wait for every epoch
// before them; held here instead, they join the next epoch and go through
// in one step. Measured: lead 2 kept twice the epochs in flight, spent
// about a fifth more CPU per request on broker round trips, and sustained
// 9.8k req/s against 12-15k for lead 1 (docs/PERFORMANCE.md).
const lead = 1

// add appends a command to the open epoch and returns its ID. fn runs
// under the lock with the ID, before the command can reach the engine, so
// a waiter registered there cannot miss its outcome.
func (s *liveSource) add(c event.Command, fn func(id uint64)) (uint64, bool) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, false
	}
	s.next++
	c.ID = s.next
	fn(c.ID)
	s.pending = append(s.pending, c)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return c.ID, true
}

func (s *liveSource) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// close makes the next epoch the last: nothing is accepted after it.
func (s *liveSource) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Epoch implements event.Source.
func (s *liveSource) Epoch(e uint32, buf []event.Command) ([]event.Command, bool) {
	if e == 0 {
		buf, _, last := s.EpochPart(0, 0, len(s.pop.Wallets), buf)
		return buf, last
	}
	return s.epoch(e, buf)
}

// EpochPart implements event.PartSource: the openings of a big
// population (serve --scale) in parts; live epochs come whole.
func (s *liveSource) EpochPart(e uint32, i, n int, buf []event.Command) ([]event.Command, int, bool) {
	if e != 0 {
		if i > 0 {
			return buf, -1, false
		}
		buf, last := s.epoch(e, buf)
		return buf, -1, last
	}
	start := s.clock.StartOf(0)
	end := min(i+n, len(s.pop.Wallets))
	for k := max(i, 0); k < end; k++ {
		w := s.pop.Wallets[k]
		id := uint64(k + 1)
		buf = append(buf, event.Command{
			Type: event.CmdOpenWallet, ID: gen.OpenIDBase + id, Wallet: id, SimTime: start,
			Kind: sim.Open, Amount: w.Initial, Currency: sim.WalletCurrency(w.Provider, w.Region),
			Provider: w.Provider, Region: w.Region, Class: w.Class,
			// Linked cards as the scenario draws them; no float target:
			// a top-up over HTTP loads exactly what it asks.
			Card: w.Card, QuotaUsed: int64(w.QuotaUsed),
		})
	}
	if end < len(s.pop.Wallets) {
		return buf, end, false
	}
	s.last = time.Now()
	return buf, -1, false
}

// Wallets implements event.Sized.
func (s *liveSource) Wallets() int64 { return int64(len(s.pop.Wallets)) }

// epoch closes live epoch e (> 0).
func (s *liveSource) epoch(e uint32, buf []event.Command) ([]event.Command, bool) {
	if e == s.resume && e > 0 {
		s.last = time.Now()
		return buf, false
	}
	for {
		if d := s.length - time.Since(s.last); d > 0 {
			time.Sleep(d)
		}
		for int64(e)-s.done() > lead && !s.isClosed() {
			select {
			case <-s.stop:
				return buf, true
			case <-time.After(200 * time.Microsecond):
			}
		}
		s.mu.Lock()
		if len(s.pending) > 0 || s.closed || s.busy() {
			break // s.mu held
		}
		s.mu.Unlock()
		// Idle: nothing to carry and nothing in flight, so no epoch is
		// needed; sleep until a request (or shutdown) arrives.
		select {
		case <-s.wake:
		case <-s.stop:
			return buf, true
		}
	}
	closed := s.closed
	// Every command of an epoch takes the epoch's first millisecond: the
	// processors order them by ID, which is arrival order, and a saga step
	// of this epoch (same time, sorted first) stays ahead of them.
	t := s.clock.StartOf(e)
	for i := range s.pending {
		s.pending[i].Epoch, s.pending[i].SimTime = e, t
	}
	buf = append(buf, s.pending...)
	s.pending = s.pending[:0]
	s.epochMax[e] = s.next
	s.mu.Unlock()
	s.last = time.Now()
	return buf, closed
}

// Committed implements engine.Committer: epoch e's commands are in the
// log, and a restart resumes after them.
func (s *liveSource) Committed(e uint32) {
	s.mu.Lock()
	id, ok := s.epochMax[e]
	delete(s.epochMax, e)
	ch := s.committed
	if ok {
		if id > s.durable.Load() {
			s.durable.Store(id)
		}
		s.committed = make(chan struct{})
	}
	s.mu.Unlock()
	if ok {
		close(ch)
	}
}

// waitDurable blocks until command id is in a committed epoch.
func (s *liveSource) waitDurable(ctx context.Context, id uint64) *Error {
	for {
		if s.durable.Load() >= id {
			return nil
		}
		s.mu.Lock()
		ch := s.committed
		s.mu.Unlock()
		if s.durable.Load() >= id {
			return nil
		}
		select {
		case <-ch:
		case <-s.stop:
			return errf(http.StatusServiceUnavailable, CodeShuttingDown, "the engine stopped before the payment was written")
		case <-ctx.Done():
			return errf(http.StatusServiceUnavailable, CodeShuttingDown, "the request ended before the payment was written")
		}
	}
}
