package event

import (
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/sim"
	"google.golang.org/protobuf/encoding/protowire"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// sampleEvents has one event of each shape with every field set, the
// fields appended after the first schema (Peer, Hops, Apps) included.
func sampleEvents() map[string]Event {
	settled := Event{Type: PaymentSettled, ID: EventID(7<<24|3, StepFirst), Wallet: 42, Seq: 9, Command: 7<<24 | 3,
		SimTime: 1_721_779_200_123, Kind: sim.ScanMPM, Amount: 6_000, Currency: sim.CNY, BalanceAfter: -1,
		Counterparty: 17, Route: 3, Attempt: 1, FXRate: 914_000, LatencyUS: 75_123, GreenGrams: 5, Flags: 1, Epoch: 7,
		Peer: sim.Weixin, Hops: 3}
	settled.Post(Acct(AccWallet, 42), -6_565, sim.HKD)
	settled.Post(Acct(AccFX, uint64(sim.HKD)), 6_565, sim.HKD)
	settled.Post(Acct(AccFX, uint64(sim.CNY)), -6_000, sim.CNY)
	settled.Post(Acct(AccMerchant, 17), 5_964, sim.CNY)
	settled.Post(Acct(AccProvider, uint64(sim.WeChatPayHK)), 36, sim.CNY)
	opened := Event{Type: WalletOpened, ID: EventID(1<<59|42, StepFirst), Wallet: 42, Seq: 1, Command: 1<<59 | 42,
		Kind: sim.Open, Amount: 150_000, Currency: sim.HKD, BalanceAfter: 150_000, Provider: sim.WeChatPayHK,
		Region: sim.HK, Class: sim.HKSVF, Apps: 1<<sim.WeChatPayHK | 1<<sim.AlipayHK}
	opened.Post(Acct(AccWallet, 42), 150_000, sim.HKD)
	opened.Post(Acct(AccExternal, 0), -150_000, sim.HKD)
	declined := Event{Type: PaymentDeclined, ID: EventID(9, StepAttempt+2), Wallet: 3, Seq: 4, Command: 9,
		Kind: sim.Transit, Amount: 1_100, Currency: sim.HKD, BalanceAfter: 20, Reason: sim.NoAcceptedWallet, Attempt: 2}
	return map[string]Event{"settled": settled, "opened": opened, "declined": declined}
}

func sampleCommands() map[string]Command {
	pay := Command{Type: CmdPay, ID: 7<<24 | 3, Wallet: 42, SimTime: 1_721_779_200_123, Epoch: 7, Kind: sim.ScanMPM,
		Amount: 6_000, Currency: sim.CNY, Counterparty: 17, Acceptors: 1<<sim.Weixin | 1<<sim.Alipay, AccRegion: sim.CN,
		Static: true, NCandidates: 3, Candidates: [MaxCandidates]uint64{42, 43, 1 << 40}, Attempt: 1,
		AllUnaccepted: true, LastReason: sim.InsufficientFunds}
	credit := Command{Type: CmdCredit, ID: 5, Wallet: 8, SimTime: 1000, Epoch: 2, Kind: sim.CrossTransfer, Amount: 200_000,
		Currency: sim.CNY, Counterparty: 9, Acceptors: 1 << sim.Weixin, AccRegion: sim.CN, Route: 12, HeldAmount: 200_000,
		HeldCurrency: sim.CNY, FXRate: 1, Reason: sim.RouteUnavailable, Peer: sim.Alipay}
	open := Command{Type: CmdOpenWallet, ID: 1<<59 | 8, Wallet: 8, Kind: sim.Open, Amount: 1, Currency: sim.CNY,
		Provider: sim.Weixin, Region: sim.CN, Class: sim.CNClass2, Apps: 1<<sim.Weixin | 1<<sim.Alipay}
	mark := Command{Type: CmdEpochMark, Epoch: 3, Source: -1, Count: 12, Total: 40, Last: true}
	return map[string]Command{"pay": pay, "credit": credit, "open": open, "mark": mark}
}

func TestEventRoundTrip(t *testing.T) {
	for name, e := range sampleEvents() {
		t.Run(name, func(t *testing.T) {
			var got Event
			if err := DecodeEvent(AppendEvent(nil, &e), &got); err != nil {
				t.Fatal(err)
			}
			if got != e {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
			}
		})
	}
}

func TestCommandRoundTrip(t *testing.T) {
	for name, c := range sampleCommands() {
		t.Run(name, func(t *testing.T) {
			var got Command
			if err := DecodeCommand(AppendCommand(nil, &c), &got); err != nil {
				t.Fatal(err)
			}
			if got != c {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
			}
		})
	}
}

// TestGoldenEncoding pins the bytes: a renumbered field changes them, and
// every log written before would then decode wrongly. Run with -update
// only when a field was appended on purpose.
func TestGoldenEncoding(t *testing.T) {
	var b strings.Builder
	events, commands := sampleEvents(), sampleCommands()
	for _, name := range []string{"declined", "opened", "settled"} {
		e := events[name]
		b.WriteString("event " + name + " " + hex.EncodeToString(AppendEvent(nil, &e)) + "\n")
	}
	for _, name := range []string{"credit", "mark", "open", "pay"} {
		c := commands[name]
		b.WriteString("command " + name + " " + hex.EncodeToString(AppendCommand(nil, &c)) + "\n")
	}
	path := filepath.Join("testdata", "encoding.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Fatalf("encoding changed; if a field was appended on purpose run go test -update\n got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestOldReaderSkipsNewFields: a record with fields this reader does not
// know (a newer writer) still decodes, with the known fields intact.
func TestOldReaderSkipsNewFields(t *testing.T) {
	e := sampleEvents()["settled"]
	b := AppendEvent(nil, &e)
	b = protowire.AppendTag(b, 900, protowire.VarintType)
	b = protowire.AppendVarint(b, 12345)
	b = protowire.AppendTag(b, 901, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("future"))
	b = protowire.AppendTag(b, 902, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 7)
	var got Event
	if err := DecodeEvent(b, &got); err != nil {
		t.Fatal(err)
	}
	if got != e {
		t.Fatalf("unknown fields disturbed known ones:\n got %+v\nwant %+v", got, e)
	}
}

func TestDecodeErrors(t *testing.T) {
	e := sampleEvents()["opened"]
	newer := protowire.AppendTag(nil, fVersion, protowire.VarintType)
	newer = protowire.AppendVarint(newer, Version+1)
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"newer major version", append(newer, AppendEvent(nil, &e)[2:]...), ErrVersion},
		{"no version", []byte{byte(fType << 3), 1}, ErrVersion},
		{"truncated varint", []byte{byte(evID << 3), 0x80}, ErrMalformed},
		{"bad tag", []byte{0x80}, ErrMalformed},
		{"truncated posting", []byte{byte(evPostings<<3 | 2), 10, 1}, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got Event
			if err := DecodeEvent(tc.b, &got); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	nine := make([]byte, 0, 256)
	nine = protowire.AppendVarint(protowire.AppendTag(nine, fVersion, protowire.VarintType), Version)
	for range MaxPostings + 1 {
		nine = protowire.AppendTag(nine, evPostings, protowire.BytesType)
		nine = protowire.AppendBytes(nine, []byte{byte(poAmount << 3), 2})
	}
	var got Event
	if err := DecodeEvent(nine, &got); !errors.Is(err, ErrMalformed) {
		t.Fatalf("%d postings: got %v, want ErrMalformed", MaxPostings+1, err)
	}
}

// TestCodecAllocatesNothing: encoding into a reused buffer and decoding
// into a reused struct are on the engine's hot path.
func TestCodecAllocatesNothing(t *testing.T) {
	e := sampleEvents()["settled"]
	c := sampleCommands()["pay"]
	buf := make([]byte, 0, 512)
	var de Event
	var dc Command
	allocs := testing.AllocsPerRun(1000, func() {
		buf = AppendEvent(buf[:0], &e)
		_ = DecodeEvent(buf, &de)
		buf = AppendCommand(buf[:0], &c)
		_ = DecodeCommand(buf, &dc)
	})
	if allocs != 0 {
		t.Fatalf("codec allocates %v times per event and command", allocs)
	}
}

// FuzzDecodeEvent: no input panics the decoder, and whatever it accepts
// re-encodes to a record that decodes to the same event.
func FuzzDecodeEvent(f *testing.F) {
	for _, e := range sampleEvents() {
		f.Add(AppendEvent(nil, &e))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var e, again Event
		if DecodeEvent(b, &e) != nil {
			return
		}
		if err := DecodeEvent(AppendEvent(nil, &e), &again); err != nil {
			t.Fatalf("re-encoding of an accepted event fails: %v", err)
		}
		if again != e {
			t.Fatalf("re-encoding changed the event:\n%+v\n%+v", e, again)
		}
	})
}

// FuzzDecodeCommand is FuzzDecodeEvent for commands.
func FuzzDecodeCommand(f *testing.F) {
	for _, c := range sampleCommands() {
		f.Add(AppendCommand(nil, &c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c, again Command
		if DecodeCommand(b, &c) != nil {
			return
		}
		_ = c.Validate() // must not panic either
		if err := DecodeCommand(AppendCommand(nil, &c), &again); err != nil {
			t.Fatalf("re-encoding of an accepted command fails: %v", err)
		}
		if again != c {
			t.Fatalf("re-encoding changed the command:\n%+v\n%+v", c, again)
		}
	})
}
