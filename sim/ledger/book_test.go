package ledger_test

import (
	"testing"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/route"
)

// t0 is 2024-07-24 08:00 CST, the quickstart's start.
const t0 = 1_721_779_200_000

// epochs is a Source of fixed commands, one slice per epoch.
type epochs [][]event.Command

func (s epochs) Epoch(e uint32, buf []event.Command) ([]event.Command, bool) {
	if int(e) < len(s) {
		buf = append(buf, s[e]...)
	}
	return buf, int(e) >= len(s)-1
}

// testPolicy is a small 2022-like policy: Alipay and Weixin walled, the
// Alipay-to-Weixin transfer pilot (RMB 2,000, receiver scans with Alipay).
func testPolicy(t *testing.T) *route.Table {
	t.Helper()
	hop := []route.Hop{{Name: "wallet", LatencyMedian: 35, LatencySigma: 0.4}}
	p := &route.Policy{
		Name: "test",
		Routes: map[string]route.RouteSpec{
			"on_us":     {Clearing: "on_us", Hops: hop},
			"netsunion": {Clearing: "netsunion", SwitchCBPS: 325, Hops: append(append([]route.Hop{}, hop...), route.Hop{Name: "netsunion", LatencyMedian: 60}, route.Hop{Name: "bank", LatencyMedian: 80})},
		},
		Rules: []route.Rule{
			{Channel: "mpm", Payers: []string{"*"}, Acceptors: []string{"self"}, Route: "on_us", MDRBPS: 60},
			{Channel: "transfer", Payers: []string{"*"}, Acceptors: []string{"self"}, Route: "on_us"},
			{Channel: "transfer", Payers: []string{"alipay"}, Acceptors: []string{"weixin"}, Route: "netsunion", MaxAmount: 200_000, ReceiverApp: "alipay"},
			{Channel: "topup", Payers: []string{"*"}, Acceptors: []string{"self"}, Route: "netsunion"},
		},
	}
	table, err := route.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// wallets opens wallets 1..n (CN, class III) with the given providers,
// balances and holder apps.
type walletSpec struct {
	provider sim.Provider
	balance  int64
	apps     uint16
}

func opens(ws ...walletSpec) []event.Command {
	var out []event.Command
	for i, w := range ws {
		id := uint64(i + 1)
		out = append(out, event.Command{Type: event.CmdOpenWallet, ID: 1<<59 | id, Wallet: id, SimTime: t0, Kind: sim.Open,
			Amount: w.balance, Currency: sim.CNY, Provider: w.provider, Region: sim.CN, Class: sim.CNClass3, Apps: w.apps})
	}
	return out
}

func scan(id uint64, codes uint16, amount int64, candidates ...uint64) event.Command {
	c := event.Command{Type: event.CmdPay, ID: 1<<24 | id, Wallet: candidates[0], SimTime: t0 + int64(id), Epoch: 1,
		Kind: sim.ScanMPM, Amount: amount, Currency: sim.CNY, Counterparty: 99, Acceptors: codes, AccRegion: sim.CN}
	c.NCandidates = uint8(copy(c.Candidates[:], candidates))
	return c
}

func transfer(id uint64, payer, payee uint64, payeeProvider sim.Provider, amount int64) event.Command {
	c := event.Command{Type: event.CmdPay, ID: 1<<24 | id, Wallet: payer, SimTime: t0 + int64(id), Epoch: 1,
		Kind: sim.CrossTransfer, Amount: amount, Currency: sim.CNY, Counterparty: payee, Acceptors: 1 << payeeProvider, AccRegion: sim.CN}
	c.Candidates[0], c.NCandidates = payer, 1
	return c
}

// run drives the commands through the ledger without Kafka and returns
// every event plus the audit of them.
func run(t *testing.T, table *route.Table, parts int, ws []walletSpec, pays ...event.Command) ([]event.Event, audit.Report) {
	t.Helper()
	var evs []event.Event
	a := audit.NewWithPolicy(table, nil)
	m := &ledger.Memory{Routes: table, Parts: parts, Seed: 1, Clock: ledger.Clock{Start: t0, Length: 1000},
		OnCommand: func(c *event.Command) { a.Command(c) },
		OnEvent: func(e *event.Event) {
			evs = append(evs, *e)
			a.Event(e, event.AppendEvent(nil, e))
		}}
	if err := m.Run(epochs{opens(ws...), pays}); err != nil {
		t.Fatal(err)
	}
	rep := a.Finish()
	if !rep.MoneyConserved || rep.UnresolvedCommands != 0 || rep.NegativeBalances != 0 ||
		rep.FXViolations != 0 || rep.FeeViolations != 0 || rep.LimitViolations != 0 {
		t.Fatalf("invariants broken: %+v", rep)
	}
	return evs, rep
}

// outcome is the final event of payment id.
func outcome(t *testing.T, evs []event.Event, id uint64) event.Event {
	t.Helper()
	for _, e := range evs {
		if e.Command == 1<<24|id && e.Type.IsOutcome() {
			return e
		}
	}
	t.Fatalf("payment %d has no outcome", id)
	return event.Event{}
}

const (
	alipayCode = 1 << sim.Alipay
	weixinCode = 1 << sim.Weixin
)

// TestDeclineReasons: what a multi-homed consumer's payment ends with.
func TestDeclineReasons(t *testing.T) {
	table := testPolicy(t)
	cases := []struct {
		name    string
		wallets []walletSpec
		pay     event.Command
		typ     event.Type
		reason  sim.Reason
		attempt uint8
	}{
		{"first wallet pays", []walletSpec{{sim.Alipay, 10_000, 0}}, scan(1, alipayCode|weixinCode, 5_000, 1),
			event.PaymentSettled, sim.ReasonNone, 0},
		{"fallback to the second wallet", []walletSpec{{sim.Alipay, 10_000, 0}, {sim.Weixin, 10_000, 0}}, scan(1, weixinCode, 5_000, 1, 2),
			event.PaymentSettled, sim.ReasonNone, 1},
		{"sole wallet not accepted", []walletSpec{{sim.Alipay, 10_000, 0}}, scan(1, weixinCode, 5_000, 1),
			event.PaymentDeclined, sim.NoAcceptedWallet, 0},
		{"no wallet accepted", []walletSpec{{sim.Alipay, 10_000, 0}, {sim.Telco, 10_000, 0}}, scan(1, weixinCode, 5_000, 1, 2),
			event.PaymentDeclined, sim.NoAcceptedWallet, 1},
		// The accepted wallet's reason explains the failure, not the
		// later wallet that could not pay this code at all.
		{"accepted wallet short of funds", []walletSpec{{sim.Weixin, 100, 0}, {sim.Alipay, 10_000, 0}}, scan(1, weixinCode, 5_000, 1, 2),
			event.PaymentDeclined, sim.InsufficientFunds, 1},
		{"both short of funds", []walletSpec{{sim.Weixin, 100, 0}, {sim.Alipay, 100, 0}}, scan(1, weixinCode|alipayCode, 5_000, 1, 2),
			event.PaymentDeclined, sim.InsufficientFunds, 1},
		{"over the daily limit", []walletSpec{{sim.Weixin, 1_000_000, 0}}, scan(1, weixinCode, 600_000, 1),
			event.PaymentDeclined, sim.LimitExceeded, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, rep := run(t, table, 2, tc.wallets, tc.pay)
			o := outcome(t, evs, 1)
			if o.Type != tc.typ || o.Reason != tc.reason || o.Attempt != tc.attempt {
				t.Fatalf("outcome %s %s attempt %d, want %s %s attempt %d", o.Type, o.Reason, o.Attempt, tc.typ, tc.reason, tc.attempt)
			}
			wantUnaccepted := int64(0)
			if tc.reason == sim.NoAcceptedWallet {
				wantUnaccepted = 1
			}
			if rep.Unaccepted != wantUnaccepted || rep.Abandoned != wantUnaccepted {
				t.Fatalf("audit: unaccepted %d abandoned %d, want %d", rep.Unaccepted, rep.Abandoned, wantUnaccepted)
			}
		})
	}
}

// TestTransferPilot: the 2022 pilot (cal:interop.alipay-wechat-pilot-2022).
// The WeChat user receives by scanning the Alipay sender's code with
// Alipay, so the money lands in the receiver's Alipay wallet, not their
// WeChat wallet; the settlement position matches (Alipay to Alipay: no
// inter-provider position, nothing booked to WeChat). A receiver without
// Alipay cannot receive; the RMB 2,000 cap declines before money moves.
func TestTransferPilot(t *testing.T) {
	table := testPolicy(t)
	cases := []struct {
		name    string
		sibling uint64 // the payee holder's Alipay wallet (3), or none
		amount  int64
		typ     event.Type
		reason  sim.Reason
	}{
		{"receiver scans with alipay", 3, 150_000, event.TransferCredited, sim.ReasonNone},
		{"receiver has no alipay", 0, 150_000, event.PaymentDeclined, sim.NoAcceptedWallet},
		{"at the cap", 3, 200_000, event.TransferCredited, sim.ReasonNone},
		{"over RMB 2,000", 3, 200_001, event.PaymentDeclined, sim.RouteLimitExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			both := uint16(1<<sim.Alipay | 1<<sim.Weixin)
			ws := []walletSpec{{sim.Alipay, 500_000, 1 << sim.Alipay}, {sim.Weixin, 7_000, both}, {sim.Alipay, 1_000, both}}
			pay := transfer(1, 1, 2, sim.Weixin, tc.amount)
			pay.PayeeSibling = tc.sibling
			evs, rep := run(t, table, 2, ws, pay)
			o := outcome(t, evs, 1)
			if o.Type != tc.typ || o.Reason != tc.reason {
				t.Fatalf("outcome %s %s, want %s %s", o.Type, o.Reason, tc.typ, tc.reason)
			}
			wantUnaccepted := int64(0)
			if tc.reason == sim.NoAcceptedWallet {
				wantUnaccepted = 1
			}
			if rep.Unaccepted != wantUnaccepted {
				t.Fatalf("audit unaccepted %d, want %d", rep.Unaccepted, wantUnaccepted)
			}
			balance := map[uint64]int64{1: 500_000, 2: 7_000, 3: 1_000}
			var debit *event.Event
			for i := range evs {
				if evs[i].Wallet != 0 {
					balance[evs[i].Wallet] = evs[i].BalanceAfter
				}
				if evs[i].Type == event.TransferDebited {
					debit = &evs[i]
				}
			}
			if balance[2] != 7_000 {
				t.Fatalf("the receiver's WeChat wallet moved to %d: the pilot's money never lands in WeChat", balance[2])
			}
			if tc.typ == event.PaymentDeclined {
				if debit != nil || balance[1] != 500_000 {
					t.Fatal("a declined pilot transfer was debited")
				}
				return
			}
			if o.Wallet != 3 || balance[3] != 1_000+tc.amount || balance[1] != 500_000-tc.amount {
				t.Fatalf("credited wallet %d; balances %v: want the receiver's Alipay (3) +%d", o.Wallet, balance, tc.amount)
			}
			if debit == nil || debit.Peer != sim.Alipay || debit.Hops != 3 {
				t.Fatalf("debit %+v: want peer alipay (the receiver's app), 3 hops", debit)
			}
			if o.Peer != sim.Alipay {
				t.Fatalf("credit peer %s, want alipay", o.Peer)
			}
			if flows := a(t, evs).Settlement(24 * 3600 * 1000); len(flows) != 0 {
				t.Fatalf("settlement %+v: an Alipay-to-Alipay credit owes no one", flows)
			}
		})
	}
}

// a audits events alone (for the settlement view).
func a(t *testing.T, evs []event.Event) *audit.Auditor {
	t.Helper()
	au := audit.New()
	for i := range evs {
		au.Event(&evs[i], event.AppendEvent(nil, &evs[i]))
	}
	return au
}

// TestEventsRecordPeerAndHops: a settled payment names its acquirer and
// route length; a top-up its route length and no peer.
func TestEventsRecordPeerAndHops(t *testing.T) {
	table := testPolicy(t)
	topup := event.Command{Type: event.CmdPay, ID: 1<<24 | 2, Wallet: 1, SimTime: t0 + 5, Epoch: 1, Kind: sim.TopUp,
		Amount: 1_000, Currency: sim.CNY, AccRegion: sim.CN, NCandidates: 1, Candidates: [4]uint64{1}}
	evs, rep := run(t, table, 1, []walletSpec{{sim.Weixin, 10_000, 0}}, scan(1, alipayCode|weixinCode, 5_000, 1), topup)
	s, tu := outcome(t, evs, 1), outcome(t, evs, 2)
	if s.Peer != sim.Weixin || s.Hops != 1 || s.LatencyUS <= 0 {
		t.Fatalf("settled: peer %s hops %d latency %d; want weixin (on-us), 1 hop", s.Peer, s.Hops, s.LatencyUS)
	}
	if tu.Type != event.ToppedUp || tu.Peer != sim.ProviderNone || tu.Hops != 3 {
		t.Fatalf("top-up: %s peer %s hops %d", tu.Type, tu.Peer, tu.Hops)
	}
	if rep.Hops != 4 || rep.RoutedEvents != 2 {
		t.Fatalf("audit hops %d over %d events, want 4 over 2", rep.Hops, rep.RoutedEvents)
	}
}

// TestHolderAppsReplay: the holder's apps are part of the wallet's state,
// rebuilt from its opening event like everything else.
func TestHolderAppsReplay(t *testing.T) {
	table := testPolicy(t)
	evs, _ := run(t, table, 1, []walletSpec{{sim.Weixin, 10_000, 1<<sim.Weixin | 1<<sim.Alipay}})
	b := ledger.NewBook(0, 1, table, nil, 1)
	for i := range evs {
		if err := b.Apply(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if w := b.Wallet(1); w == nil || w.Apps != 1<<sim.Weixin|1<<sim.Alipay {
		t.Fatalf("replayed wallet %+v lost its holder apps", w)
	}
}
