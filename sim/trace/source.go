package trace

import (
	"fmt"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
)

// maxPerEpoch keeps payment IDs (epoch<<24 | index, gen.PaymentID) unique.
const maxPerEpoch = 1 << 24

// Pace is how simulated time follows a trace's steps.
type Pace string

// Paces.
const (
	// PaceStep: one epoch per step, a step lasting Header.Step of
	// simulated time (an hour for PaySim); a step's payments are spread
	// evenly over it. Daily limits see the trace's days.
	PaceStep Pace = "step"
	// PaceFast: as fast as possible. Steps are ignored (their order is
	// kept) and the payments are packed into full one-second epochs, so
	// a month of PaySim passes in minutes of simulated time: fewer, larger
	// epochs, and every daily limit sees most of the trace at once.
	PaceFast Pace = "fast"
)

// ParsePace reads a pace name.
func ParsePace(s string) (Pace, error) {
	switch Pace(s) {
	case PaceStep, PaceFast:
		return Pace(s), nil
	}
	return "", fmt.Errorf("unknown pace %q (want step or fast)", s)
}

// FastPerEpoch is how many payments a PaceFast epoch carries: a second of
// simulated time at about the mainland base load (cal:defaults.base-load: 32k/s).
const FastPerEpoch = 32_000

// Source replays a trace: epoch 0 opens the wallets, later epochs carry
// the payments. It implements event.Source; like the generator, an epoch
// comes out the same however often or in whatever order it is asked for.
type Source struct {
	t     *Trace
	pace  Pace
	clock ledger.Clock
	last  uint32
}

// NewSource replays t at pace.
func NewSource(t *Trace, pace Pace) (*Source, error) {
	s := &Source{t: t, pace: pace}
	switch pace {
	case PaceStep:
		s.clock = ledger.Clock{Start: t.StartMS, Length: t.StepMS}
		s.last = t.Steps()
	case PaceFast:
		s.clock = ledger.Clock{Start: t.StartMS, Length: 1000}
		s.last = uint32((len(t.Payments) + FastPerEpoch - 1) / FastPerEpoch)
	default:
		return nil, fmt.Errorf("unknown pace %q", pace)
	}
	return s, nil
}

// Clock is the epoch clock the engine must run with (runner.Options.Clock).
func (s *Source) Clock() ledger.Clock { return s.clock }

// Payments is the number of payments (runner.Options.Total).
func (s *Source) Payments() int64 { return int64(len(s.t.Payments)) }

// LastEpoch is the final epoch.
func (s *Source) LastEpoch() uint32 { return s.last }

// Epoch implements event.Source.
func (s *Source) Epoch(e uint32, buf []event.Command) ([]event.Command, bool) {
	last := e >= s.last
	if e == 0 {
		for i, w := range s.t.Wallets {
			id := uint64(i + 1)
			buf = append(buf, event.Command{
				Type: event.CmdOpenWallet, ID: gen.OpenIDBase + id, Wallet: id, SimTime: s.t.StartMS,
				Kind: sim.Open, Amount: w.Balance, Currency: sim.WalletCurrency(w.Provider, w.Region),
				Provider: w.Provider, Region: w.Region, Class: w.Class,
			})
		}
		return buf, last
	}
	if e > s.last {
		return buf, true
	}
	var pays []Payment
	if s.pace == PaceStep {
		pays = s.t.Step(e)
	} else {
		lo := int(e-1) * FastPerEpoch
		pays = s.t.Payments[lo:min(lo+FastPerEpoch, len(s.t.Payments))]
	}
	start := s.clock.StartOf(e)
	for i := range pays {
		// Evenly spread over the epoch, in file order: the order the
		// source recorded is the order each wallet sees.
		t := start + int64(i)*s.clock.Length/int64(len(pays))
		buf = append(buf, s.command(&pays[i], gen.PaymentID(e, i), e, t))
	}
	return buf, last
}

// command turns a payment record into the engine's command, as the
// generator would have drawn it: the payer's one wallet as the only
// candidate, the code or gate it pays.
func (s *Source) command(p *Payment, id uint64, e uint32, t int64) event.Command {
	payer := s.t.Wallets[p.Wallet-1]
	c := event.Command{
		Type: event.CmdPay, ID: id, Epoch: e, SimTime: t, Kind: p.Kind,
		Wallet: p.Wallet, Amount: p.Amount, Currency: p.Currency, AccRegion: payer.Region,
		NCandidates: 1,
	}
	c.Candidates[0] = p.Wallet
	switch {
	case p.Kind == sim.ScanMPM || p.Kind == sim.ScanCPM:
		m := s.t.Merchants[p.To-1]
		c.Counterparty, c.AccRegion, c.Acceptors = p.To, m.Region, m.Codes
	case p.Kind == sim.Transit:
		c.Counterparty, c.AccRegion, c.Acceptors = p.To, sim.HK, 1<<p.To
	case p.Kind.IsTransfer():
		payee := s.t.Wallets[p.To-1]
		c.Counterparty, c.AccRegion, c.Acceptors = p.To, payee.Region, 1<<payee.Provider
	}
	return c
}

// OpenSource loads the trace file and paces it (ParsePace: step or fast);
// a bad pace names --pace.
func OpenSource(file, pace string) (*Source, error) {
	pc, err := ParsePace(pace)
	if err != nil {
		return nil, fmt.Errorf("--pace: %w", err)
	}
	t, err := LoadFile(file)
	if err != nil {
		return nil, err
	}
	return NewSource(t, pc)
}
