package event

import (
	"testing"

	"github.com/walletsim/walletsim/sim"
)

// The engine encodes every command and event once and decodes each at
// least twice (processor, audit): these must not allocate.

func benchEvent() Event {
	e := Event{Type: PaymentSettled, ID: EventID(1<<24|77, 0), Wallet: 123456, Seq: 42, Command: 1<<24 | 77,
		SimTime: 1721779200000, Kind: sim.ScanMPM, Amount: 6000, Currency: sim.CNY, BalanceAfter: 154321,
		Counterparty: 812, Route: 3, LatencyUS: 41234, GreenGrams: 5, Epoch: 1}
	e.Post(Acct(AccWallet, 123456), -6000, sim.CNY)
	e.Post(Acct(AccMerchant, 812), 5964, sim.CNY)
	e.Post(Acct(AccProvider, uint64(sim.Alipay)), 34, sim.CNY)
	e.Post(Acct(AccSwitch, 2), 2, sim.CNY)
	return e
}

func BenchmarkAppendEvent(b *testing.B) {
	e := benchEvent()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendEvent(buf[:0], &e)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeEvent(b *testing.B) {
	e := benchEvent()
	raw := AppendEvent(nil, &e)
	var out Event
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		if err := DecodeEvent(raw, &out); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCommand() Command {
	return Command{Type: CmdPay, ID: 1<<24 | 77, Wallet: 123456, SimTime: 1721779200000, Epoch: 1, Kind: sim.ScanMPM,
		Amount: 6000, Currency: sim.CNY, Counterparty: 812, Acceptors: 1<<sim.Weixin | 1<<sim.Alipay, AccRegion: sim.CN,
		NCandidates: 2, Candidates: [MaxCandidates]uint64{123456, 98765}}
}

func BenchmarkAppendCommand(b *testing.B) {
	c := benchCommand()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendCommand(buf[:0], &c)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeCommand(b *testing.B) {
	c := benchCommand()
	raw := AppendCommand(nil, &c)
	var out Command
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		if err := DecodeCommand(raw, &out); err != nil {
			b.Fatal(err)
		}
	}
}
