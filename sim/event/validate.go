package event

import (
	"fmt"

	"github.com/walletsim/walletsim/sim"
)

// Bounds every command is checked against. They make the ledger's
// arithmetic safe (sim/money.go) and its state small: a wallet ID indexes a
// dense slice, so an ID of 2^62 must never reach it. walletsim.proto and
// sim/api/openapi.json state the same bounds.
const (
	// MaxWalletID bounds wallet, merchant and payee IDs (4.29 billion: more
	// wallets than the regions have people, and below the 56 bits an
	// Account keeps of an ID).
	MaxWalletID = 1<<32 - 1
	// MaxAmount bounds a command's amount and an opening balance, in minor
	// units (2^48, about 2.8e12 in major units).
	MaxAmount = 1 << 48
	// MaxHeld bounds a saga step's held amount: MaxAmount converted at the
	// least rate a policy may set (sim.MinRate) stays under it.
	MaxHeld = 1 << 60
	// MaxCommandBytes bounds an encoded command; the widest real one is
	// under 200 bytes. Larger records are dead-lettered unread.
	MaxCommandBytes = 1024
)

// Validate checks what the wire format cannot: enumerations in range,
// required fields present, amounts sane. A command that fails it is dead-
// lettered with the error as its reason, never processed.
func (c *Command) Validate() error {
	if c.Type == CmdNone || c.Type >= NumCommandTypes {
		return fmt.Errorf("command type %d unknown", c.Type)
	}
	if c.Type == CmdEpochMark {
		if c.Source < -1 {
			return fmt.Errorf("epoch mark source %d invalid", c.Source)
		}
		return nil
	}
	if c.ID == 0 || c.ID > MaxCommandID {
		return fmt.Errorf("command id %d out of range 1..%d", c.ID, uint64(MaxCommandID))
	}
	if c.Wallet == 0 || c.Wallet > MaxWalletID {
		return fmt.Errorf("command %d: wallet id %d out of range 1..%d", c.ID, c.Wallet, uint64(MaxWalletID))
	}
	if c.Counterparty > MaxWalletID {
		return fmt.Errorf("command %d: counterparty %d out of range 0..%d", c.ID, c.Counterparty, uint64(MaxWalletID))
	}
	if c.PayeeSibling > MaxWalletID {
		return fmt.Errorf("command %d: payee sibling wallet %d out of range 0..%d", c.ID, c.PayeeSibling, uint64(MaxWalletID))
	}
	for _, w := range c.Candidates[:min(c.NCandidates, MaxCandidates)] {
		if w == 0 || w > MaxWalletID {
			return fmt.Errorf("command %d: candidate wallet %d out of range 1..%d", c.ID, w, uint64(MaxWalletID))
		}
	}
	switch c.Type {
	case CmdOpenWallet:
		if c.ID < OpenIDBase {
			return fmt.Errorf("open %d: opening ids start at %d", c.ID, uint64(OpenIDBase))
		}
		if !c.Provider.Valid() || !c.Region.Valid() || !c.Class.Valid() {
			return fmt.Errorf("open %d: provider, region or class invalid", c.ID)
		}
		if c.Amount < 0 || c.Amount > MaxAmount {
			return fmt.Errorf("open %d: initial balance %d out of range 0..%d", c.ID, c.Amount, int64(MaxAmount))
		}
		if !c.Card.Valid() || c.Target < 0 || c.Target > 1<<48 || c.QuotaUsed < 0 || c.QuotaUsed > 1<<48 {
			return fmt.Errorf("open %d: card %d, target %d or quota used %d invalid", c.ID, c.Card, c.Target, c.QuotaUsed)
		}
		if c.YearSpent < 0 || c.YearSpent > 1<<48 || c.LifeSpent < 0 || c.LifeSpent > 1<<48 {
			return fmt.Errorf("open %d: spent before the run (year %d, life %d) out of range 0..%d", c.ID, c.YearSpent, c.LifeSpent, int64(1)<<48)
		}
		return nil
	case CmdCredit, CmdCompensate:
		if !c.HeldCurrency.Valid() || c.HeldAmount <= 0 || c.HeldAmount > MaxHeld {
			return fmt.Errorf("%s %d: held amount or currency invalid", c.Type, c.ID)
		}
	}
	if c.ID >= OpenIDBase {
		return fmt.Errorf("command %d: payment ids stay below %d (the openings' range)", c.ID, uint64(OpenIDBase))
	}
	if !c.Kind.IsPayment() {
		return fmt.Errorf("command %d: payment kind %d invalid", c.ID, c.Kind)
	}
	if !c.Currency.Valid() {
		return fmt.Errorf("command %d: currency %d invalid", c.ID, c.Currency)
	}
	if c.Amount <= 0 || c.Amount > MaxAmount {
		return fmt.Errorf("command %d: amount %d out of range 1..%d", c.ID, c.Amount, int64(MaxAmount))
	}
	if c.Attempt >= MaxCandidates || (c.NCandidates > 0 && c.Attempt >= c.NCandidates) {
		return fmt.Errorf("command %d: attempt %d beyond candidates", c.ID, c.Attempt)
	}
	if c.AccRegion >= sim.NumRegions {
		return fmt.Errorf("command %d: acceptor region invalid", c.ID)
	}
	if c.Tier >= sim.NumTiers {
		return fmt.Errorf("command %d: merchant tier %d invalid", c.ID, c.Tier)
	}
	return nil
}

// Validate checks an event read from the log.
func (e *Event) Validate() error {
	if e.Type == TypeNone || e.Type >= NumTypes {
		return fmt.Errorf("event type %d unknown", e.Type)
	}
	if e.Wallet == 0 || e.Seq == 0 {
		return fmt.Errorf("event %d: wallet or seq is 0", e.ID)
	}
	if e.Peer >= sim.NumProviders {
		return fmt.Errorf("event %d: peer provider %d unknown", e.ID, e.Peer)
	}
	for i, p := range e.Legs() {
		if !p.Currency.Valid() || p.Account.Type() == AccNone || p.Account.Type() >= NumAccountTypes {
			return fmt.Errorf("event %d: posting %d invalid", e.ID, i)
		}
		if p.Account.Type() == AccParty {
			if in, r := p.Account.Party(); !in.Valid() || !r.Valid() || p.Account.ID()>>16 != 0 {
				return fmt.Errorf("event %d: posting %d names no institution and role", e.ID, i)
			}
		}
	}
	return nil
}
