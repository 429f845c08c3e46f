package ledger

import (
	"errors"
	"fmt"
	"slices"

	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/route"
)

// Memory runs books without Kafka: the reference the engine must agree
// with, and the fast path for property tests over whole policies. It
// applies the engine's order within an epoch (simulated time, saga steps
// before commands, then ID, type, attempt) and delivers saga steps the
// epoch after they were sent, so its events are the engine's events.
type Memory struct {
	Routes *route.Table
	// Parts is the partition count; the events do not depend on it.
	Parts int
	Seed  uint64
	Clock Clock
	// OnCommand, if set, sees every generated command (not saga steps).
	OnCommand func(c *event.Command)
	// OnEvent, if set, sees every event once, already applied; the
	// pointer is valid only during the call.
	OnEvent func(e *event.Event)
	// Books are the partitions' books after Run.
	Books []*Book
	// Resume, if set, continues a run instead of starting one: Books
	// already hold the state at the start of epoch From (rebuilt from a
	// log), Pending are the saga steps due in From, and the source is
	// asked for epochs From onwards (a fork from a point in time).
	Resume *Resume
	// Switch, if set, changes every book's policy at the start of an
	// epoch (a fork recomputed from the start).
	Switch *Switch
}

// Switch is a change of policy at an epoch.
type Switch struct {
	At     uint32
	Routes *route.Table
}

// Resume is where a resumed memory run starts.
type Resume struct {
	From    uint32
	Books   []*Book
	Pending []event.Command
}

type memSink struct {
	m    *Memory
	next *[]event.Command
}

func (s memSink) Event(e *event.Event) {
	if s.m.OnEvent != nil {
		s.m.OnEvent(e)
	}
}

func (s memSink) Send(c *event.Command) { *s.next = append(*s.next, *c) }

// maxMemoryEpochs stops a run whose saga steps never settle (a ledger bug)
// instead of looping forever.
const maxMemoryEpochs = 1 << 24

// Run drives src to completion: every command handled, every saga step
// delivered. An error means a command could not be attributed to a wallet
// (the engine would dead-letter it).
func (m *Memory) Run(src event.Source) error {
	if m.Routes == nil {
		return errors.New("ledger: memory run needs a route table")
	}
	if m.Parts <= 0 {
		m.Parts = 1
	}
	first := uint32(0)
	var pending []event.Command // saga steps due next epoch
	if r := m.Resume; r != nil {
		if len(r.Books) != m.Parts {
			return fmt.Errorf("ledger: resume with %d books for %d partitions", len(r.Books), m.Parts)
		}
		m.Books, first, pending = r.Books, r.From, append(pending, r.Pending...)
		for _, b := range m.Books {
			b.routes = m.Routes
			b.SetClock(m.Clock)
		}
	} else {
		m.Books = make([]*Book, m.Parts)
		for p := range m.Books {
			m.Books[p] = NewBook(p, m.Parts, m.Routes, nil, m.Seed)
			m.Books[p].SetClock(m.Clock)
		}
	}
	type item struct {
		cmd  event.Command
		saga bool
	}
	var (
		buf     []event.Command
		parts   = make([][]item, m.Parts)
		genDone bool
	)
	for e := first; ; e++ {
		if e-first >= maxMemoryEpochs {
			return fmt.Errorf("ledger: saga steps still in flight after %d epochs", e)
		}
		if sw := m.Switch; sw != nil && e == sw.At {
			for _, b := range m.Books {
				b.routes = sw.Routes
			}
		}
		for p := range parts {
			parts[p] = parts[p][:0]
		}
		for i := range pending {
			p := Partition(pending[i].Wallet, m.Parts)
			parts[p] = append(parts[p], item{cmd: pending[i], saga: true})
		}
		pending = pending[:0]
		if !genDone {
			buf, genDone = src.Epoch(e, buf[:0])
			for i := range buf {
				if m.OnCommand != nil {
					m.OnCommand(&buf[i])
				}
				p := Partition(buf[i].Wallet, m.Parts)
				parts[p] = append(parts[p], item{cmd: buf[i]})
			}
		}
		empty := true
		for p, items := range parts {
			if len(items) == 0 {
				continue
			}
			empty = false
			slices.SortStableFunc(items, func(a, b item) int { return Order(&a.cmd, a.saga, &b.cmd, b.saga) })
			sink := memSink{m: m, next: &pending}
			for i := range items {
				if err := m.Books[p].Handle(&items[i].cmd, sink); err != nil {
					return fmt.Errorf("epoch %d: %w", e, err)
				}
			}
		}
		if genDone && empty && len(pending) == 0 {
			return nil
		}
	}
}
