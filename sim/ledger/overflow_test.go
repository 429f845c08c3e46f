package ledger_test

import (
	"math"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/ledger"
)

// TestHugeFXPaymentDeclined: a CN wallet holding RMB 100 pays an HKD
// price of 2^48 cents (the most the API and the engine accept) at a Hong
// Kong merchant. SourceFor's int64 product overflowed here, the wallet
// was credited RMB 77.6 billion and the payment "settled". Now the debit
// is exact, the payment is declined for funds and the balance stays.
func TestHugeFXPaymentDeclined(t *testing.T) {
	table, _, _, err := scenarios.LoadPolicy("unionpay-open-2024")
	if err != nil {
		t.Fatal(err)
	}
	for _, amount := range []int64{1 << 48, 9_300_000_000_000, 1_000_000_000_000_000 / 100} {
		if amount > event.MaxAmount {
			continue
		}
		c := scan(1, 1<<sim.Alipay, amount, 1)
		c.Currency, c.AccRegion = sim.HKD, sim.HK
		if err := c.Validate(); err != nil {
			t.Fatalf("the command must be one the engine accepts: %v", err)
		}
		evs, rep := run(t, table, 1, []walletSpec{{provider: sim.Alipay, balance: 10_000}}, c)
		o := outcome(t, evs, 1)
		if o.Type != event.PaymentDeclined || (o.Reason != sim.InsufficientFunds && o.Reason != sim.LimitExceeded) || o.BalanceAfter != 10_000 {
			t.Fatalf("amount %d: outcome %s %s balance %d, want declined (funds or limit) at 10000", amount, o.Type, o.Reason, o.BalanceAfter)
		}
		if rep.FXViolations != 0 {
			t.Fatalf("amount %d: %d FX violations", amount, rep.FXViolations)
		}
	}
}

// TestBalanceHardCap: a class without a balance cap (CN class III) still
// cannot be topped up past sim.MaxBalance, so no balance nor any sum of
// them nears int64's range.
func TestBalanceHardCap(t *testing.T) {
	table := testPolicy(t)
	top := func(id uint64, amount int64) event.Command {
		c := event.Command{Type: event.CmdPay, ID: 1<<24 | id, Wallet: 1, SimTime: t0 + int64(id), Epoch: 1,
			Kind: sim.TopUp, Amount: amount, Currency: sim.CNY, AccRegion: sim.CN}
		c.Candidates[0], c.NCandidates = 1, 1
		return c
	}
	evs, _ := run(t, table, 1, []walletSpec{{provider: sim.Alipay, balance: sim.MaxBalance - 100}}, top(1, 101), top(2, 100))
	if o := outcome(t, evs, 1); o.Type != event.PaymentDeclined || o.Reason != sim.BalanceCapExceeded {
		t.Fatalf("a top-up past the hard cap: %s %s", o.Type, o.Reason)
	}
	if o := outcome(t, evs, 2); o.Type != event.ToppedUp || o.BalanceAfter != sim.MaxBalance {
		t.Fatalf("a top-up to the hard cap: %s %s %d", o.Type, o.Reason, o.BalanceAfter)
	}
	// Wallet.Apply saturates: counters never wrap.
	w := ledger.Wallet{Open: true, DaySpent: math.MaxInt64 - 1, YearSpent: math.MaxInt64, LifeSpent: math.MaxInt64, Seq: 1, Balance: 1 << 48, Day: ledger.SimDay(t0)}
	e := event.Event{Type: event.PaymentSettled, Wallet: 1, Seq: 2, SimTime: t0, BalanceAfter: 0}
	e.Post(event.Acct(event.AccWallet, 1), -1<<48, sim.CNY)
	if err := w.Apply(&e); err != nil {
		t.Fatal(err)
	}
	if w.DaySpent != math.MaxInt64 || w.YearSpent != math.MaxInt64 || w.LifeSpent != math.MaxInt64 {
		t.Fatalf("counters wrapped: %+v", w)
	}
}
