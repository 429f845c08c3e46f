package audit

import (
	"testing"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/route"
)

// t0 is 2024-07-24 08:00 CST.
const t0 = 1_721_779_200_000

// testTable: route 1 is on-us at 0.60% (0.0325% of it to the switch),
// route 2 cross-border at 0.60% with a 0.5% FX margin, HKD/CNY 0.914.
func testTable(t *testing.T) *route.Table {
	t.Helper()
	hop := []route.Hop{{Name: "wallet"}}
	tab, err := route.Compile(&route.Policy{
		Name: "detectors",
		Routes: map[string]route.RouteSpec{
			"on_us":        {Clearing: "on_us", Hops: hop, SwitchCBPS: 325},
			"cross_border": {Clearing: "cross_border", Hops: hop},
		},
		FX: map[string]float64{"HKD/CNY": 0.914},
		Rules: []route.Rule{
			{Channel: "mpm", Payers: []string{"*"}, Acceptors: []string{"self"}, Regions: []string{"CN"}, Route: "on_us", MDRBPS: 60},
			{Channel: "mpm", Payers: []string{"*"}, Acceptors: []string{"self"}, Regions: []string{"HK"}, Route: "cross_border", MDRBPS: 60, FXMarginBPS: 50},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func opened(wallet uint64, class sim.Class, balance int64) event.Event {
	e := event.Event{Type: event.WalletOpened, ID: event.EventID(1<<59|wallet, 0), Wallet: wallet, Seq: 1, Command: 1<<59 | wallet,
		SimTime: t0, Kind: sim.Open, Currency: sim.CNY, Provider: sim.Alipay, Region: sim.CN, Class: class, BalanceAfter: balance}
	if balance > 0 {
		e.Post(event.Acct(event.AccWallet, wallet), balance, sim.CNY)
		e.Post(event.Acct(event.AccExternal, 0), -balance, sim.CNY)
	}
	return e
}

// settled is a correct on-us payment of amount from wallet at seq.
func settled(tab *route.Table, cmd, wallet, seq uint64, before, amount int64) event.Event {
	e := event.Event{Type: event.PaymentSettled, ID: event.EventID(cmd, 0), Wallet: wallet, Seq: seq, Command: cmd,
		SimTime: t0 + 1000, Kind: sim.ScanMPM, Amount: amount, Currency: sim.CNY, Counterparty: 7, Route: 1, BalanceAfter: before - amount, Peer: sim.Alipay}
	mdr := route.MerchantFee(amount, route.MerchantRateBPS(e.SimTime, sim.TierStandard, sim.CN, sim.Alipay))
	e.Post(event.Acct(event.AccWallet, wallet), -amount, sim.CNY)
	e.Post(event.Acct(event.AccMerchant, 7), amount-mdr, sim.CNY)
	e.Post(event.PartyAcct(sim.InstitutionOf(sim.Alipay), sim.RoleAcquirer), mdr, sim.CNY)
	return e
}

// crossBorder is a CN wallet paying an HKD price at rate (the policy's
// rate is want).
func crossBorder(cmd, wallet, seq uint64, before, hkd, rate int64) event.Event {
	debit := sim.SourceFor(hkd, rate)
	e := event.Event{Type: event.PaymentSettled, ID: event.EventID(cmd, 0), Wallet: wallet, Seq: seq, Command: cmd,
		SimTime: t0 + 2000, Kind: sim.ScanMPM, Amount: hkd, Currency: sim.HKD, Counterparty: 8, Route: 2, FXRate: rate, BalanceAfter: before - debit, Peer: sim.Alipay}
	mdr := route.MerchantFee(hkd, route.StandardMDRBPS)
	e.Post(event.Acct(event.AccWallet, wallet), -debit, sim.CNY)
	e.Post(event.Acct(event.AccFX, uint64(sim.CNY)), debit, sim.CNY)
	e.Post(event.Acct(event.AccFX, uint64(sim.HKD)), -hkd, sim.HKD)
	e.Post(event.Acct(event.AccMerchant, 8), hkd-mdr, sim.HKD)
	e.Post(event.PartyAcct(sim.InstitutionOf(sim.Alipay), sim.RoleAcquirer), mdr, sim.HKD)
	return e
}

func payCommand(id uint64) event.Command {
	return event.Command{Type: event.CmdPay, ID: id, Wallet: 1, Kind: sim.ScanMPM, Amount: 1, Currency: sim.CNY}
}

// TestDetectorsFire: every detector the audit has, fed a log with exactly
// the defect it looks for, counts it, and a correct log counts nothing. A
// detector that cannot fire is no check.
func TestDetectorsFire(t *testing.T) {
	tab := testTable(t)
	policyRate := func() int64 {
		r, _ := RouteRate(tab, &tab.Routes[2], sim.CNY, sim.HKD)
		return r
	}()
	const id = 1<<24 | 1
	type log struct {
		cmds []event.Command
		evs  []event.Event
	}
	base := func() log {
		return log{cmds: []event.Command{payCommand(id)}, evs: []event.Event{opened(1, sim.CNClass2, 100_000), settled(tab, id, 1, 2, 100_000, 1_000)}}
	}
	cases := []struct {
		name  string
		log   func() log
		fired func(Report) bool
	}{
		{"clean", base, func(r Report) bool {
			return (r.MoneyConserved && r.NegativeBalances == 0 && r.DuplicateEvents == 0 && r.UnresolvedCommands == 0 &&
				r.DuplicateOutcomes == 0 && r.OrphanOutcomes == 0 && r.UnbalancedEvents == 0 && r.BalanceMismatches == 0 &&
				r.SequenceGaps == 0 && r.FXViolations == 0 && r.FeeViolations == 0 && r.LimitViolations == 0 && r.BadEvents == 0)
		}},
		{"negative balance", func() log {
			l := base()
			l.evs[1] = settled(tab, id, 1, 2, 100_000, 150_000)
			return l
		}, func(r Report) bool { return r.NegativeBalances == 1 }},
		{"redelivered event", func() log {
			// The same record twice (a produce whose answer was lost,
			// resent): skipped and counted, not a violation.
			l := base()
			l.evs = append(l.evs, l.evs[1])
			return l
		}, func(r Report) bool { return r.Redelivered == 1 && r.DuplicateEvents == 0 && r.OK() }},
		{"duplicate event", func() log {
			// Another record claiming the same (wallet, seq).
			l := base()
			e := l.evs[1]
			e.LatencyUS++
			l.evs = append(l.evs, e)
			return l
		}, func(r Report) bool { return r.DuplicateEvents == 1 }},
		{"unresolved command", func() log {
			l := base()
			l.cmds = append(l.cmds, payCommand(id+1))
			return l
		}, func(r Report) bool { return r.UnresolvedCommands == 1 }},
		{"duplicate outcome", func() log {
			l := base()
			l.evs = append(l.evs, settled(tab, id, 1, 3, 99_000, 1_000))
			return l
		}, func(r Report) bool { return r.DuplicateOutcomes == 1 }},
		{"orphan outcome", func() log {
			l := base()
			l.cmds = nil
			return l
		}, func(r Report) bool { return r.OrphanOutcomes == 1 }},
		{"unbalanced event", func() log {
			l := base()
			l.evs[1].Postings[1].Amount++
			return l
		}, func(r Report) bool { return r.UnbalancedEvents == 1 && !r.MoneyConserved }},
		{"balance mismatch", func() log {
			l := base()
			l.evs[1].BalanceAfter++
			return l
		}, func(r Report) bool { return r.BalanceMismatches == 1 && !r.MoneyConserved }},
		{"sequence gap", func() log {
			l := base()
			l.evs[1].Seq = 3
			return l
		}, func(r Report) bool { return r.SequenceGaps == 1 && !r.MoneyConserved }},
		{"bad event", func() log {
			l := base()
			l.evs = append(l.evs, event.Event{Type: 200, Wallet: 1, Seq: 3})
			return l
		}, func(r Report) bool { return r.BadEvents == 1 && !r.MoneyConserved }},
		{"fx legs off the recorded rate", func() log {
			l := base()
			e := crossBorder(id+1, 1, 3, 99_000, 5_000, policyRate)
			e.Postings[0].Amount--
			e.Postings[1].Amount++ // still balanced, one fen short of the price
			e.BalanceAfter++
			l.cmds, l.evs = append(l.cmds, payCommand(id+1)), append(l.evs, e)
			return l
		}, func(r Report) bool { return r.FXViolations == 1 && !r.MoneyConserved }},
		{"fx rate not the policy's (margin sign flipped)", func() log {
			l := base()
			mid, _ := tab.Rate(sim.CNY, sim.HKD)
			l.cmds, l.evs = append(l.cmds, payCommand(id+1)), append(l.evs, crossBorder(id+1, 1, 3, 99_000, 5_000, mid*(10_000+50)/10_000))
			return l
		}, func(r Report) bool { return r.FXViolations == 1 }},
		{"fx at the policy's rate", func() log {
			l := base()
			l.cmds, l.evs = append(l.cmds, payCommand(id+1)), append(l.evs, crossBorder(id+1, 1, 3, 99_000, 5_000, policyRate))
			return l
		}, func(r Report) bool { return r.FXViolations == 0 && r.FeeViolations == 0 && r.MoneyConserved }},
		{"merchant fee halved", func() log {
			l := base()
			e := &l.evs[1]
			// RMB 10 at 0.60% is 6 fen; the schedule's rates give 6, 5 or 4.
			mdr := route.MerchantFee(1_000, route.MerchantRateBPS(e.SimTime, sim.TierStandard, sim.CN, sim.Alipay))
			half := mdr / 2
			e.Postings[1].Amount, e.Postings[2].Amount = 1_000-half, half
			return l
		}, func(r Report) bool { return r.FeeViolations == 1 && r.MoneyConserved }},
		{"daily limit passed", func() log {
			// CN class I: RMB 1,000 a day.
			l := log{cmds: []event.Command{payCommand(id)}, evs: []event.Event{opened(1, sim.CNClass1, 200_000), settled(tab, id, 1, 2, 200_000, 150_000)}}
			return l
		}, func(r Report) bool { return r.LimitViolations == 1 }},
		{"balance cap passed", func() log {
			// e-CNY tier 4: RMB 1,000 balance cap.
			l := log{evs: []event.Event{opened(1, sim.ECNYTier4, 90_000)}}
			e := event.Event{Type: event.ToppedUp, ID: event.EventID(id, 0), Wallet: 1, Seq: 2, Command: id, SimTime: t0 + 1, Kind: sim.TopUp,
				Amount: 20_000, Currency: sim.CNY, Route: 1, BalanceAfter: 110_000}
			e.Post(event.Acct(event.AccWallet, 1), 20_000, sim.CNY)
			e.Post(event.Acct(event.AccExternal, 0), -20_000, sim.CNY)
			l.cmds, l.evs = []event.Command{{Type: event.CmdPay, ID: id, Wallet: 1, Kind: sim.TopUp, Amount: 20_000, Currency: sim.CNY}}, append(l.evs, e)
			return l
		}, func(r Report) bool { return r.LimitViolations == 1 }},
		{"suspense left open", func() log {
			l := base()
			e := event.Event{Type: event.TransferDebited, ID: event.EventID(id+1, 0), Wallet: 1, Seq: 3, Command: id + 1, SimTime: t0 + 3, Kind: sim.P2P,
				Amount: 500, Currency: sim.CNY, Route: 1, BalanceAfter: 98_500}
			e.Post(event.Acct(event.AccWallet, 1), -500, sim.CNY)
			e.Post(event.Acct(event.AccSuspense, uint64(sim.CNY)), 500, sim.CNY)
			l.evs = append(l.evs, e)
			return l
		}, func(r Report) bool { return len(r.SuspenseOpen) == 1 && !r.MoneyConserved }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := c.log()
			a := NewWithPolicy(tab, nil)
			for i := range l.cmds {
				a.Command(&l.cmds[i])
			}
			for i := range l.evs {
				a.Event(&l.evs[i], event.AppendEvent(nil, &l.evs[i]))
			}
			if r := a.Finish(); !c.fired(r) {
				t.Fatalf("detector did not fire as expected: %+v", r)
			}
		})
	}
}
