package ledger_test

import (
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/route"
	simrun "github.com/walletsim/walletsim/sim/run"
)

// holder is a wallet to open with its own provider, region and class.
type holder struct {
	provider sim.Provider
	region   sim.Region
	class    sim.Class
	balance  int64
}

func builtin(t *testing.T, name string) *route.Table {
	t.Helper()
	table, _, _, err := scenarios.LoadPolicy(name)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// runHolders opens the wallets (1..n) in epoch 0, runs the payments in
// epoch 1 and returns the events and their audit.
func runHolders(t *testing.T, table *route.Table, hs []holder, pays ...event.Command) ([]event.Event, audit.Report) {
	t.Helper()
	var open []event.Command
	for i, h := range hs {
		id := uint64(i + 1)
		open = append(open, event.Command{Type: event.CmdOpenWallet, ID: 1<<59 | id, Wallet: id, SimTime: t0, Kind: sim.Open,
			Amount: h.balance, Currency: sim.WalletCurrency(h.provider, h.region), Provider: h.provider, Region: h.region, Class: h.class})
	}
	var evs []event.Event
	a := audit.New()
	m := &ledger.Memory{Routes: table, Parts: 2, Seed: 1, Clock: ledger.Clock{Start: t0, Length: 1000},
		OnCommand: func(c *event.Command) { a.Command(c) },
		OnEvent: func(e *event.Event) {
			evs = append(evs, *e)
			a.Event(e, event.AppendEvent(nil, e))
		}}
	if err := m.Run(epochs{open, pays}); err != nil {
		t.Fatal(err)
	}
	rep := a.Finish()
	if !rep.MoneyConserved || rep.UnresolvedCommands != 0 || rep.NegativeBalances != 0 || rep.UnbalancedEvents != 0 || rep.FXViolations != 0 {
		t.Fatalf("invariants broken: %+v", rep)
	}
	return evs, rep
}

func pay(id, wallet uint64, kind sim.Kind, counterparty uint64, acceptors uint16, region sim.Region, cur sim.Currency, amount int64) event.Command {
	c := event.Command{Type: event.CmdPay, ID: 1<<24 | id, Wallet: wallet, SimTime: t0 + int64(id), Epoch: 1, Kind: kind,
		Amount: amount, Currency: cur, Counterparty: counterparty, Acceptors: acceptors, AccRegion: region}
	c.Candidates[0], c.NCandidates = wallet, 1
	return c
}

// TestHKECNYLimitsInRMB: the HK phone-number e-CNY wallet is held in CNY
// and lives under its RMB limits (cal:limits.ecny-hk: RMB 2,000 a
// payment), whatever the payment is worth in HKD: RMB 1,999 (about
// HK$2,187) pays; RMB 2,000.01 is declined limit_exceeded.
func TestHKECNYLimitsInRMB(t *testing.T) {
	table := builtin(t, "unionpay-open-2024")
	hs := []holder{{sim.ECNY, sim.HK, sim.ECNYHK, 9_000_00}}
	code := uint16(1 << sim.ECNY)
	evs, _ := runHolders(t, table, hs,
		pay(1, 1, sim.ScanMPM, 7, code, sim.CN, sim.CNY, 1_999_00),
		pay(2, 1, sim.ScanMPM, 7, code, sim.CN, sim.CNY, 2_000_01))
	ok, over := outcome(t, evs, 1), outcome(t, evs, 2)
	if ok.Type != event.PaymentSettled || ok.FXRate != 0 || ok.BalanceAfter != 9_000_00-1_999_00 {
		t.Fatalf("RMB 1,999: %s, rate %d, balance %d: want settled in CNY with no conversion", ok.Type, ok.FXRate, ok.BalanceAfter)
	}
	if over.Type != event.PaymentDeclined || over.Reason != sim.LimitExceeded {
		t.Fatalf("RMB 2,000.01: %s %s, want payment_declined limit_exceeded", over.Type, over.Reason)
	}
	if sim.WalletCurrency(sim.ECNY, sim.HK) != sim.CNY || sim.WalletCurrency(sim.Weixin, sim.HK) != sim.CNY || sim.WalletCurrency(sim.WeChatPayHK, sim.HK) != sim.HKD {
		t.Fatal("wallet currencies must follow the licence: mainland and e-CNY wallets in CNY, HK wallets in HKD")
	}
}

// TestForeignCardWallet: a visitor's mainland wallet linked to a foreign
// card (cal:fees.foreign-card) pays CNY prices from USD at payment time:
// no surcharge up to RMB 200, 3% above, going to the wallet provider; USD
// 5,000 a payment at most.
func TestForeignCardWallet(t *testing.T) {
	table := builtin(t, "unionpay-open-2024")
	hs := []holder{{sim.Alipay, sim.INTL, sim.ForeignCard, 20_000_00}}
	code := uint16(1 << sim.Alipay)
	evs, rep := runHolders(t, table, hs,
		pay(1, 1, sim.ScanMPM, 7, code, sim.CN, sim.CNY, 200_00),
		pay(2, 1, sim.ScanMPM, 8, code, sim.CN, sim.CNY, 300_00),
		pay(3, 1, sim.ScanMPM, 9, code, sim.CN, sim.CNY, 40_000_00))
	small, big, huge := outcome(t, evs, 1), outcome(t, evs, 2), outcome(t, evs, 3)
	surcharge := func(e event.Event) int64 {
		var s int64
		for _, p := range e.Legs() {
			if p.Account == event.PartyAcct(sim.InstitutionOf(sim.Alipay), sim.RoleWallet) && p.Currency == sim.CNY {
				s += p.Amount
			}
		}
		return s
	}
	// The wallet provider's own income (its merchants' discounts go to it
	// as acquirer, a separate account): only the surcharge.
	if small.Type != event.PaymentSettled || small.FXRate == 0 || surcharge(small) != 0 {
		t.Fatalf("RMB 200: %s rate %d provider income %d, want settled from USD with no surcharge", small.Type, small.FXRate, surcharge(small))
	}
	if big.Type != event.PaymentSettled || surcharge(big) != 9_00 {
		t.Fatalf("RMB 300: wallet provider's income %d, want a 3%% surcharge of RMB 9", surcharge(big))
	}
	if huge.Type != event.PaymentDeclined || huge.Reason != sim.LimitExceeded {
		t.Fatalf("RMB 40,000 (about USD 5,600): %s %s, want limit_exceeded (USD 5,000 a payment)", huge.Type, huge.Reason)
	}
	if rep.FXVolume["USD"] == 0 {
		t.Fatalf("no USD converted: %v", rep.FXVolume)
	}
}

// TestDeclinedRideCountsByTheCounterfactual: under walled-garden an MTR
// ride is declined at the QR gate, yet the rider still takes it, paying
// with Octopus. The points credited drop by exactly the ride's 52
// (cal:carbon.ant-forest: metro ride), and the counterfactual and the
// policy's points do not move: only what the policy changes counts.
func TestDeclinedRideCountsByTheCounterfactual(t *testing.T) {
	hs := []holder{{sim.AlipayHK, sim.HK, sim.HKSVF, 1_000_00}}
	ride := pay(1, 1, sim.Transit, uint64(sim.MTR), 1<<sim.MTR, sim.HK, sim.HKD, 11_00)
	shop := pay(2, 1, sim.ScanMPM, 3, 1<<sim.AlipayHK, sim.HK, sim.HKD, 50_00)
	carbon := map[string]simrun.Carbon{}
	for _, name := range []string{"walled-garden", "mutual-scan-2021"} {
		evs, rep := runHolders(t, builtin(t, name), hs, ride, shop)
		want := map[string]event.Type{"walled-garden": event.PaymentDeclined, "mutual-scan-2021": event.PaymentSettled}[name]
		if o := outcome(t, evs, 1); o.Type != want {
			t.Fatalf("%s: the ride %s, want %s", name, o.Type, want)
		}
		carbon[name] = simrun.NewCarbon(rep.CarbonGrams, rep.RidePoints, rep.RidesElsewhere, rep.CarbonByKind)
	}
	wg, ms := carbon["walled-garden"], carbon["mutual-scan-2021"]
	metro := sim.DefaultFares[sim.MTR].GreenGrams
	if ms.Points-wg.Points != metro || wg.RidesPaidOtherwise != metro || ms.RidesPaidOtherwise != 0 {
		t.Fatalf("credited %d vs %d, rides paid otherwise %d vs %d: want the declined ride's %d points to move only there", wg.Points, ms.Points, wg.RidesPaidOtherwise, ms.RidesPaidOtherwise, metro)
	}
	if wg.CounterfactualPoints != ms.CounterfactualPoints || wg.PolicyPoints != ms.PolicyPoints || wg.PolicyPoints != 5 {
		t.Fatalf("counterfactual %d vs %d, policy %d vs %d: a ride taken either way must not change them", wg.CounterfactualPoints, ms.CounterfactualPoints, wg.PolicyPoints, ms.PolicyPoints)
	}
	if wg.Unit != simrun.CarbonUnit || ms.Unit == "" {
		t.Fatalf("unit %q", wg.Unit)
	}
}
