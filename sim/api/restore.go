package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
)

// serve keeps one log across restarts: a crash, a SIGKILL or compose's
// restart policy must not lose a payment it accepted. On start (without
// Config.Fresh) it resumes the topics it finds and rebuilds, from the log
// alone, what it answers from: balances, the payments it accepted and
// their outcomes, and the idempotency keys (their hashes travel in the
// commands, event.Command.Idem).

var errStop = errors.New("stop")

// logStart returns the epoch clock's start of the log in the topics (the
// opening commands' simulated time) and whether there is a log at all.
func logStart(ctx context.Context, bc bus.Config, topics bus.Topics) (int64, bool, error) {
	admin, err := bus.NewClient(bc)
	if err != nil {
		return 0, false, err
	}
	n, err := admin.Partitions(ctx, topics.Commands)
	if err != nil || n == 0 {
		return 0, false, nil // no topics yet: a first start
	}
	first, next, err := admin.Offsets(ctx, topics.Commands, n)
	if err != nil {
		return 0, false, err
	}
	for p := 0; p < n; p++ {
		var start int64
		found := false
		err := bus.Scan(ctx, bc, topics.Commands, p, first[p], next[p], func(_ int64, v []byte) error {
			var c event.Command
			if event.DecodeCommand(v, &c) == nil && c.Type == event.CmdOpenWallet {
				start, found = c.SimTime, true
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return 0, false, err
		}
		if found {
			return start, true, nil
		}
	}
	return 0, false, nil
}

// requestOf is the request a command of serve's was built from.
func requestOf(c *event.Command) Request {
	r := Request{Kind: c.Kind, Wallet: c.Wallet, Counterparty: c.Counterparty, Amount: c.Amount, Currency: c.Currency}
	switch c.Kind {
	case sim.ScanMPM, sim.ScanCPM:
		r.Endpoint = EndpointPayments
	case sim.P2P, sim.RedPacket, sim.CrossTransfer:
		r.Endpoint = EndpointTransfers
	case sim.Transit:
		r.Endpoint = EndpointTransit
	case sim.TopUp:
		r.Endpoint = EndpointTopups
	}
	return r
}

// restore rebuilds the server's state from the log: every payment it
// accepted (pending until its outcome event), their outcomes, balances
// and idempotency keys. It returns the number of payments restored.
func (s *Server) restore(ctx context.Context) (int64, error) {
	admin, err := bus.NewClient(s.cfg.Bus)
	if err != nil {
		return 0, err
	}
	topics := s.cfg.Topics
	n, err := admin.Partitions(ctx, topics.Commands)
	if err != nil {
		return 0, err
	}
	first, next, err := admin.Offsets(ctx, topics.Commands, n)
	if err != nil {
		return 0, err
	}
	var restored int64
	maxID := uint64(IDBase)
	for p := 0; p < n; p++ {
		err := bus.Scan(ctx, s.cfg.Bus, topics.Commands, p, first[p], next[p], func(_ int64, v []byte) error {
			var c event.Command
			if event.DecodeCommand(v, &c) != nil || c.Type != event.CmdPay || c.ID <= IDBase || c.ID >= gen.OpenIDBase {
				return nil
			}
			maxID = max(maxID, c.ID)
			if _, _, known := s.tr.lookup(c.ID); known {
				return nil // a producer retry wrote it twice
			}
			req := requestOf(&c)
			o := Outcome{ID: c.ID, Kind: c.Kind, Amount: c.Amount, Currency: c.Currency, Payer: c.Wallet}
			if c.Kind.IsTransfer() {
				o.Payee = c.Counterparty
			}
			s.tr.register(o)
			restored++
			if c.Idem != ([16]byte{}) {
				sh := s.idem.shard(c.Idem)
				sh.mu.Lock()
				sh.put(c.Idem, idemEntry{req: req, id: c.ID}, s.idem.perGen)
				sh.mu.Unlock()
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("restore %s[%d]: %w", topics.Commands, p, err)
		}
	}
	ne, err := admin.Partitions(ctx, topics.Events)
	if err != nil {
		return 0, err
	}
	first, next, err = admin.Offsets(ctx, topics.Events, ne)
	if err != nil {
		return 0, err
	}
	opened := int64(0)
	for p := 0; p < ne; p++ {
		err := bus.Scan(ctx, s.cfg.Bus, topics.Events, p, first[p], next[p], func(_ int64, v []byte) error {
			var e event.Event
			if event.DecodeEvent(v, &e) != nil {
				return nil
			}
			if e.Wallet < uint64(len(s.bal)) {
				s.bal[e.Wallet].Store(e.BalanceAfter)
			}
			if e.Type == event.WalletOpened {
				opened++
			} else if e.Command > IDBase && e.Command < gen.OpenIDBase {
				s.tr.observe(&e)
			}
			return nil
		})
		if err != nil {
			return 0, fmt.Errorf("restore %s[%d]: %w", topics.Events, p, err)
		}
	}
	s.opened.Store(opened)
	if opened >= int64(len(s.pop.Wallets)) {
		s.readyMu.Do(func() { close(s.ready) })
	}
	s.src.next = maxID
	s.src.durable.Store(maxID)
	return restored, nil
}
