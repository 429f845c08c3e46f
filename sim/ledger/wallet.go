// Package ledger holds wallet aggregates and the rules that decide every
// command: acceptance through the policy's route table, FX, fees, limits and
// funds. A command becomes events; events are the only way state changes
// (Apply), both live and when a processor rebuilds from the log.
//
// Determinism: a wallet's events depend only on its own commands, in
// (simulated time, ID) order, and on saga messages from earlier epochs.
// Nothing here reads a clock, a map iteration order or another partition.
package ledger

import (
	"fmt"
	"time"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
)

// Wallet is one aggregate's state: 80 bytes, no pointers, so a partition's
// wallets are one flat slice the garbage collector never scans.
type Wallet struct {
	Balance   int64
	DaySpent  int64 // balance payments today (account-class limits)
	StaticDay int64 // static-code payments today, however funded
	YearSpent int64
	LifeSpent int64
	Seq       uint64
	// Target is the float the holder keeps: rebalancing top-ups move the
	// balance back to it (0: none). Withdrawn is the lifetime amount
	// withdrawn to the bank (the free withdrawal quota counts it).
	Target    int64
	Withdrawn int64
	// The small fields below are ordered by size, so a wallet is 80
	// bytes, not 88 (TestWalletSize): ten million of them at xlarge.
	Day  int32 // simulated day of DaySpent and StaticDay
	Year int16 // simulated year of YearSpent
	// Apps is the holder's installed wallet apps (bit = provider), from the
	// opening; 0 = not recorded.
	Apps          uint16
	GreenToday    uint8 // green-energy payments credited today (cap 10)
	ReceiptsToday uint8 // e-receipts credited today (cap 5)
	Provider      sim.Provider
	Region        sim.Region
	Currency      sim.Currency
	Class         sim.Class
	Open          bool
	// Card is the holder's linked bank card (for bank apps and QuickPass:
	// the kind of their own account).
	Card sim.Card
}

// SimDay is the simulated calendar day (China Standard Time) of t.
func SimDay(t int64) int32 { return int32((t + 8*3600*1000) / 86_400_000) }

// SimYear is the simulated calendar year (China Standard Time) of t.
func SimYear(t int64) int16 { return int16(time.UnixMilli(t + 8*3600*1000).UTC().Year()) }

// YearDay is how many days of its civil year (China Standard Time) have
// passed at t: 0 on 1 January.
func YearDay(t int64) int {
	return time.UnixMilli(t+8*3600*1000).UTC().YearDay() - 1
}

// Flag bits on events: recorded so Apply needs nothing but the event.
const (
	// FlagStatic marks a payment through a static merchant code.
	FlagStatic = 1
	// FlagCard marks a payment or transfer funded by the linked card: its
	// first posting debits the holder's bank (AccExternal), not the
	// wallet, and it does not count against the account-class limits.
	FlagCard = 2
)

// Apply applies one event to its wallet, counting days on the civil
// calendar. It checks the sequence number and the balance the event
// claims, so replaying a corrupt or reordered log fails loudly instead of
// building wrong state.
func (w *Wallet) Apply(e *event.Event) error { return w.ApplyOn(e, Clock{}) }

// ApplyOn is Apply with the clock whose days and years the limits count.
func (w *Wallet) ApplyOn(e *event.Event, clk Clock) error {
	if e.Seq != w.Seq+1 {
		return fmt.Errorf("wallet %d: event %d has seq %d, want %d", e.Wallet, e.ID, e.Seq, w.Seq+1)
	}
	if e.Type == event.WalletOpened {
		if w.Open {
			return fmt.Errorf("wallet %d: opened twice", e.Wallet)
		}
		*w = Wallet{Provider: e.Provider, Region: e.Region, Currency: sim.WalletCurrency(e.Provider, e.Region), Class: e.Class, Open: true, Apps: e.Apps,
			Card: e.Card, Target: e.Target, Withdrawn: e.QuotaUsed,
			// What was spent before the run counts in the day and year the
			// wallet opens in, so the first payment does not roll it away.
			YearSpent: e.YearSpent, LifeSpent: e.LifeSpent, Day: clk.Day(e.SimTime), Year: clk.Year(e.SimTime)}
	} else if !w.Open {
		return fmt.Errorf("wallet %d: event %d before the wallet was opened", e.Wallet, e.ID)
	}
	delta := int64(0)
	if e.NPostings > 0 && e.Postings[0].Account == event.Acct(event.AccWallet, e.Wallet) {
		delta = e.Postings[0].Amount
	}
	switch e.Type {
	case event.PaymentSettled, event.TransferDebited:
		if e.Flags&FlagCard != 0 {
			// Card-funded: only the static-code limit (a barcode rule,
			// whatever the funding) counts it.
			var debit int64
			if e.NPostings > 0 && e.Postings[0].Account.Type() == event.AccExternal {
				debit = -e.Postings[0].Amount
			}
			w.roll(e.SimTime, clk)
			if e.Flags&FlagStatic != 0 {
				w.StaticDay += debit
			}
		} else {
			w.spend(e.SimTime, clk, -delta, e.Flags&FlagStatic != 0)
		}
		if e.GreenGrams > 0 && e.Kind != sim.Transit {
			w.GreenToday++
		}
		if e.ReceiptGrams > 0 {
			w.ReceiptsToday++
		}
	case event.Withdrawn:
		w.Withdrawn += -delta
	}
	w.Balance += delta
	w.Seq = e.Seq
	if w.Balance != e.BalanceAfter {
		return fmt.Errorf("wallet %d: event %d claims balance %d, replay gives %d", e.Wallet, e.ID, e.BalanceAfter, w.Balance)
	}
	return nil
}

// roll resets the day and year counters when simulated time moves on.
func (w *Wallet) roll(t int64, clk Clock) {
	if d := clk.Day(t); d != w.Day {
		w.Day, w.DaySpent, w.StaticDay, w.GreenToday, w.ReceiptsToday = d, 0, 0, 0, 0
		if y := clk.Year(t); y != w.Year {
			w.Year, w.YearSpent = y, 0
		}
	}
}

func (w *Wallet) spend(t int64, clk Clock, amount int64, static bool) {
	w.roll(t, clk)
	// Saturating: a counter that wrapped negative would lift its limit.
	w.DaySpent = sim.AddSat(w.DaySpent, amount)
	w.YearSpent = sim.AddSat(w.YearSpent, amount)
	w.LifeSpent = sim.AddSat(w.LifeSpent, amount)
	if static {
		w.StaticDay = sim.AddSat(w.StaticDay, amount)
	}
}
