package audit

import (
	"reflect"
	"testing"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
)

const (
	day      = 24 * 3600 * 1000
	midnight = 1_721_750_400_000 // 2024-07-24 00:00 CST
)

// feed opens wallet id of provider p (CNY) with a large balance, then
// applies the events in order with consistent sequence and balances.
type ledgerOf struct {
	a   *Auditor
	seq map[uint64]uint64
	bal map[uint64]int64
}

func newLedger(wallets map[uint64]sim.Provider) *ledgerOf {
	l := &ledgerOf{a: New(), seq: map[uint64]uint64{}, bal: map[uint64]int64{}}
	for id := uint64(1); id <= uint64(len(wallets)); id++ {
		e := event.Event{Type: event.WalletOpened, ID: id << 4, Wallet: id, Seq: 1, Command: 1<<59 | id, Kind: sim.Open,
			Amount: 1_000_000, Currency: sim.CNY, Provider: wallets[id], Region: sim.CN, Class: sim.CNClass3}
		e.Post(event.Acct(event.AccWallet, id), 1_000_000, sim.CNY)
		e.Post(event.Acct(event.AccExternal, 0), -1_000_000, sim.CNY)
		l.apply(&e)
	}
	return l
}

func (l *ledgerOf) apply(e *event.Event) {
	l.seq[e.Wallet]++
	e.Seq = l.seq[e.Wallet]
	for _, p := range e.Legs() {
		if p.Account == event.Acct(event.AccWallet, e.Wallet) {
			l.bal[e.Wallet] += p.Amount
		}
	}
	e.BalanceAfter = l.bal[e.Wallet]
	l.a.Event(e, event.AppendEvent(nil, e))
}

// pay settles a scan payment of amount at a merchant acquired by peer,
// with an MDR of fee.
func (l *ledgerOf) pay(id, wallet uint64, t int64, peer sim.Provider, amount, fee int64) {
	e := event.Event{Type: event.PaymentSettled, ID: id << 4, Wallet: wallet, Command: id, SimTime: t, Kind: sim.ScanMPM,
		Amount: amount, Currency: sim.CNY, Counterparty: 7, Peer: peer, Hops: 3}
	e.Post(event.Acct(event.AccWallet, wallet), -amount, sim.CNY)
	e.Post(event.Acct(event.AccMerchant, 7), amount-fee, sim.CNY)
	if fee > 0 {
		e.Post(event.Acct(event.AccProvider, uint64(peer)), fee, sim.CNY)
	}
	l.apply(&e)
}

func TestSettlementNetsPerPairAndCycle(t *testing.T) {
	// Wallet 1 is Alipay, 2 Weixin, 3 UnionPay, 4 Alipay.
	l := newLedger(map[uint64]sim.Provider{1: sim.Alipay, 2: sim.Weixin, 3: sim.UnionPay, 4: sim.Alipay})
	const am = int64(midnight + 8*3600*1000)
	l.pay(1, 1, am, sim.Weixin, 10_000, 60)  // alipay owes weixin 9,940
	l.pay(2, 2, am, sim.Alipay, 3_000, 0)    // weixin owes alipay 3,000
	l.pay(3, 4, am+1, sim.Weixin, 1_000, 0)  // a second Alipay wallet: same pair
	l.pay(4, 3, am, sim.UnionPay, 5_000, 30) // on-us: not a flow
	l.pay(5, 1, am, sim.ProviderNone, 500, 0)
	l.pay(6, 2, midnight+day+60_000, sim.Alipay, 2_000, 0) // next day
	got := l.a.Settlement(day)
	want := []Position{
		{Cycle: (midnight + 8*3600*1000) / day, CycleStart: midnight, From: "alipay", To: "weixin", Currency: "CNY", Net: 9_940 + 1_000 - 3_000, Gross: 9_940 + 1_000 + 3_000, Payments: 3},
		{Cycle: (midnight+8*3600*1000)/day + 1, CycleStart: midnight + day, From: "weixin", To: "alipay", Currency: "CNY", Net: 2_000, Gross: 2_000, Payments: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("settlement\n got %+v\nwant %+v", got, want)
	}
	// A two-day cycle folds both days into one position.
	two := l.a.Settlement(2 * day)
	var net int64
	for _, p := range two {
		if p.From == "alipay" {
			net += p.Net
		} else {
			net -= p.Net
		}
	}
	if net != 9_940+1_000-3_000-2_000 {
		t.Fatalf("two-day net %d (positions %+v)", net, two)
	}
	r := l.a.Finish()
	if r.Hops != 18 || r.RoutedEvents != 6 {
		t.Fatalf("hops %d over %d events", r.Hops, r.RoutedEvents)
	}
}

func TestUnacceptedCountsOnlyFinalRouteDeclines(t *testing.T) {
	l := newLedger(map[uint64]sim.Provider{1: sim.Alipay})
	for i, tc := range []struct {
		typ    event.Type
		reason sim.Reason
	}{
		{event.AttemptDeclined, sim.RouteUnavailable}, // not final
		{event.PaymentDeclined, sim.NoAcceptedWallet},
		{event.PaymentDeclined, sim.FXUnavailable}, // an older ledger's sole-wallet decline
		{event.PaymentDeclined, sim.InsufficientFunds},
		{event.TransferCompensated, sim.RouteUnavailable}, // the route existed; the receiver failed it
	} {
		id := uint64(10 + i)
		kind := sim.ScanMPM
		e := event.Event{Type: tc.typ, ID: id << 4, Wallet: 1, Command: id, Kind: kind, Amount: 100, Currency: sim.CNY, Reason: tc.reason}
		if tc.typ == event.TransferCompensated {
			e.Kind = sim.CrossTransfer
			e.Post(event.Acct(event.AccWallet, 1), 100, sim.CNY)
			e.Post(event.Acct(event.AccSuspense, uint64(sim.CNY)), -100, sim.CNY)
		}
		l.apply(&e)
	}
	r := l.a.Finish()
	if r.Unaccepted != 2 || r.Abandoned != 1 {
		t.Fatalf("unaccepted %d abandoned %d, want 2 and 1", r.Unaccepted, r.Abandoned)
	}
}
