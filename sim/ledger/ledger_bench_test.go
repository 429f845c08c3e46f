package ledger_test

import (
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
)

type discard struct{ events, sends int }

func (d *discard) Event(*event.Event)  { d.events++ }
func (d *discard) Send(*event.Command) { d.sends++ }

// BenchmarkHandle decides quickstart payments (route, FX, fees, limits,
// funds) and applies their events: the processor's whole domain cost per
// command, without Kafka. It must not allocate.
func BenchmarkHandle(b *testing.B) {
	sc, _, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		b.Fatal(err)
	}
	table, _, _, err := scenarios.LoadPolicy(sc.Policy)
	if err != nil {
		b.Fatal(err)
	}
	g := gen.New(sc)
	book := ledger.NewBook(0, 1, table, nil, 1)
	book.SetClock(g.Clock)
	sink := &discard{}
	opens, _ := g.Epoch(0, nil)
	for i := range opens {
		if err := book.Handle(&opens[i], sink); err != nil {
			b.Fatal(err)
		}
	}
	cmds, _ := g.Epoch(1, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := cmds[i%len(cmds)]
		_ = book.Handle(&c, sink)
	}
}

// BenchmarkApply is the rebuild path: one event applied to its wallet.
func BenchmarkApply(b *testing.B) {
	var w ledger.Wallet
	open := event.Event{Type: event.WalletOpened, Wallet: 1, Seq: 1, Region: 1, Provider: 1, Class: 2, BalanceAfter: 1 << 40}
	open.Post(event.Acct(event.AccWallet, 1), 1<<40, 1)
	open.Post(event.Acct(event.AccExternal, 0), -(1 << 40), 1)
	if err := w.Apply(&open); err != nil {
		b.Fatal(err)
	}
	pay := event.Event{Type: event.PaymentSettled, Wallet: 1, Kind: 1, Amount: 100, Currency: 1, SimTime: 1721779200000}
	pay.Post(event.Acct(event.AccWallet, 1), -100, 1)
	pay.Post(event.Acct(event.AccMerchant, 1), 100, 1)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		pay.Seq = w.Seq + 1
		pay.BalanceAfter = w.Balance - 100
		if err := w.Apply(&pay); err != nil {
			b.Fatal(err)
		}
	}
}
