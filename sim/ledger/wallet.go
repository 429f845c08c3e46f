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

// Wallet is one aggregate's state: 64 bytes, no pointers, so a partition's
// wallets are one flat slice the garbage collector never scans.
type Wallet struct {
	Balance       int64
	DaySpent      int64
	StaticDay     int64
	YearSpent     int64
	LifeSpent     int64
	Seq           uint64
	Day           int32 // simulated day of DaySpent and StaticDay
	Year          int16 // simulated year of YearSpent
	GreenToday    uint8 // green-energy payments credited today (cap 10)
	ReceiptsToday uint8 // e-receipts credited today (cap 5)
	Provider      sim.Provider
	Region        sim.Region
	Currency      sim.Currency
	Class         sim.Class
	Open          bool
	// Apps is the holder's installed wallet apps (bit = provider), from the
	// opening; 0 = not recorded.
	Apps uint16
}

// SimDay is the simulated calendar day (China Standard Time) of t.
func SimDay(t int64) int32 { return int32((t + 8*3600*1000) / 86_400_000) }

// SimYear is the simulated calendar year (China Standard Time) of t.
func SimYear(t int64) int16 { return int16(time.UnixMilli(t + 8*3600*1000).UTC().Year()) }

// Flag bits on events: recorded so Apply needs nothing but the event.
const (
	// FlagStatic marks a payment through a static merchant code.
	FlagStatic = 1
)

// Apply applies one event to its wallet. It checks the sequence number and
// the balance the event claims, so replaying a corrupt or reordered log
// fails loudly instead of building wrong state.
func (w *Wallet) Apply(e *event.Event) error {
	if e.Seq != w.Seq+1 {
		return fmt.Errorf("wallet %d: event %d has seq %d, want %d", e.Wallet, e.ID, e.Seq, w.Seq+1)
	}
	if e.Type == event.WalletOpened {
		if w.Open {
			return fmt.Errorf("wallet %d: opened twice", e.Wallet)
		}
		*w = Wallet{Provider: e.Provider, Region: e.Region, Currency: sim.WalletCurrency(e.Provider, e.Region), Class: e.Class, Open: true, Apps: e.Apps}
	} else if !w.Open {
		return fmt.Errorf("wallet %d: event %d before the wallet was opened", e.Wallet, e.ID)
	}
	delta := int64(0)
	if e.NPostings > 0 && e.Postings[0].Account == event.Acct(event.AccWallet, e.Wallet) {
		delta = e.Postings[0].Amount
	}
	switch e.Type {
	case event.PaymentSettled, event.TransferDebited:
		w.spend(e.SimTime, -delta, e.Flags&FlagStatic != 0)
		if e.GreenGrams > 0 && e.Kind != sim.Transit {
			w.GreenToday++
		}
		if e.ReceiptGrams > 0 {
			w.ReceiptsToday++
		}
	}
	w.Balance += delta
	w.Seq = e.Seq
	if w.Balance != e.BalanceAfter {
		return fmt.Errorf("wallet %d: event %d claims balance %d, replay gives %d", e.Wallet, e.ID, e.BalanceAfter, w.Balance)
	}
	return nil
}

// roll resets the day and year counters when simulated time moves on.
func (w *Wallet) roll(t int64) {
	if d := SimDay(t); d != w.Day {
		w.Day, w.DaySpent, w.StaticDay, w.GreenToday, w.ReceiptsToday = d, 0, 0, 0, 0
		if y := SimYear(t); y != w.Year {
			w.Year, w.YearSpent = y, 0
		}
	}
}

func (w *Wallet) spend(t int64, amount int64, static bool) {
	w.roll(t)
	// Saturating: a counter that wrapped negative would lift its limit.
	w.DaySpent = sim.AddSat(w.DaySpent, amount)
	w.YearSpent = sim.AddSat(w.YearSpent, amount)
	w.LifeSpent = sim.AddSat(w.LifeSpent, amount)
	if static {
		w.StaticDay = sim.AddSat(w.StaticDay, amount)
	}
}
