package trace

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
)

const head = `{"format":"walletsim-trace","version":1,"step":"1h","start":"2024-07-24T00:00:00+08:00","wallets":2,"merchants":1,"payments":1,"steps":1}` + "\n"
const body = "w,1,C1,alipay,CN,cn_class3,100\nw,2,C2,alipay,CN,cn_class3,0\nm,1,M1,CN,alipay\n"

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "t:1: empty file"},
		{"not json", "w,1\n", "t:1: not a walletsim trace header"},
		{"unknown header field", `{"format":"walletsim-trace","version":1,"step":"1h","start":"2024-07-24T00:00:00Z","speed":2}` + "\n", "t:1: not a walletsim trace header: json: unknown field \"speed\""},
		{"other format", strings.Replace(head, "walletsim-trace", "pcap", 1), "t:1: format: \"pcap\""},
		{"newer version", strings.Replace(head, `"version":1`, `"version":2`, 1), "t:1: version: 2, this walletsim reads version 1"},
		{"bad step", strings.Replace(head, `"1h"`, `"hourly"`, 1), "t:1: step:"},
		{"bad start", strings.Replace(head, "2024-07-24T00:00:00+08:00", "yesterday", 1), "t:1: start:"},
		{"record type", head + "x,1\n", "t:2: record type \"x\""},
		{"field count", head + "w,1,C1,alipay\n", "t:2: w record with 4 fields, want 7"},
		{"wallet order", head + "w,2,C1,alipay,CN,cn_class3,0\n", "t:2: id: wallet 2 out of order: want 1"},
		{"provider", head + "w,1,C1,paypal,CN,cn_class3,0\n", "t:2: provider: unknown wallet provider \"paypal\""},
		{"over the balance cap", head + "w,1,C1,ecny,CN,ecny_tier4,100001\n", "t:2: balance: 100001 is over the ecny_tier4 balance cap"},
		{"wallet after merchant", head + "m,1,M1,CN,alipay\nw,1,C1,alipay,CN,cn_class3,0\n", "t:3: wallet records come before"},
		{"unknown wallet", head + body + "p,1,p2p,1,9,100,CNY,,0\n", "t:5: to: 9: no such wallet (2 wallets)"},
		{"unknown merchant", head + body + "p,1,scan_mpm,1,2,100,CNY,,0\n", "t:5: to: 2: no such merchant (1 merchants)"},
		{"self transfer", head + body + "p,1,p2p,1,1,100,CNY,,0\n", "t:5: to: wallet 1 pays itself"},
		{"steps out of order", head + body + "p,2,topup,1,,100,CNY,,0\np,1,topup,1,,100,CNY,,0\n", "t:6: step: 1 after step 2"},
		{"zero amount", head + body + "p,1,topup,1,,0,CNY,,0\n", "t:5: amount: \"0\""},
		{"topup with a payee", head + body + "p,1,topup,1,2,10,CNY,,0\n", "t:5: to: \"2\": a topup has no counterparty"},
		{"operator", head + body + "p,1,transit,1,tube,10,HKD,,0\n", "t:5: to: unknown transit operator \"tube\""},
		{"flags", head + body + "p,1,topup,1,,10,CNY,stolen,0\n", "t:5: flags: \"stolen\""},
		{"truncated", head + body, "t:1: payments: header says 1, the file has 0 (truncated?)"},
		{"quote", head + "w,1,\"C1,alipay\n", "t:2: extraneous or missing \" in quoted-field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tc.in), "t")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func loadSmall(t *testing.T) *Trace {
	t.Helper()
	tr, err := LoadFile("testdata/small.trace")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestSourceStepPace(t *testing.T) {
	tr := loadSmall(t)
	s, err := NewSource(tr, PaceStep)
	if err != nil {
		t.Fatal(err)
	}
	if s.LastEpoch() != 3 || s.Payments() != 5 || s.Clock().Length != 3_600_000 {
		t.Fatalf("last %d payments %d clock %+v", s.LastEpoch(), s.Payments(), s.Clock())
	}
	opens, last := s.Epoch(0, nil)
	if last || len(opens) != 3 || opens[2].Type != event.CmdOpenWallet || opens[2].Region != sim.HK || opens[2].Currency != sim.HKD || opens[2].ID != gen.OpenIDBase+3 {
		t.Fatalf("epoch 0: %+v", opens)
	}
	e1, _ := s.Epoch(1, nil)
	if len(e1) != 3 {
		t.Fatalf("step 1 has %d commands, want 3", len(e1))
	}
	start := tr.StartMS
	for i, c := range e1 {
		// Spread evenly over the hour, in file order, IDs as the generator's.
		if want := start + int64(i)*3_600_000/3; c.SimTime != want || c.ID != gen.PaymentID(1, i) || c.Epoch != 1 {
			t.Errorf("command %d at %d id %d, want %d id %d", i, c.SimTime, c.ID, want, gen.PaymentID(1, i))
		}
		if err := c.Validate(); err != nil {
			t.Errorf("command %d: %v", i, err)
		}
	}
	if scan := e1[0]; scan.Counterparty != 1 || scan.Acceptors != 1<<sim.Alipay|1<<sim.Weixin || scan.AccRegion != sim.CN {
		t.Errorf("scan %+v", scan)
	}
	if p2p := e1[1]; p2p.Counterparty != 1 || p2p.Acceptors != 1<<sim.Alipay {
		t.Errorf("p2p %+v", p2p)
	}
	if ride := e1[2]; ride.Counterparty != uint64(sim.MTR) || ride.AccRegion != sim.HK || ride.Acceptors != 1<<sim.MTR {
		t.Errorf("ride %+v", ride)
	}
	if e2, last := s.Epoch(2, nil); len(e2) != 0 || last {
		t.Errorf("empty step 2: %d commands, last %v", len(e2), last)
	}
	if e3, last := s.Epoch(3, nil); len(e3) != 2 || !last {
		t.Errorf("step 3: %d commands, last %v", len(e3), last)
	}
}

func TestSourceFastPace(t *testing.T) {
	tr := loadSmall(t)
	s, err := NewSource(tr, PaceFast)
	if err != nil {
		t.Fatal(err)
	}
	cmds, last := s.Epoch(1, nil)
	if !last || len(cmds) != 5 || s.Clock().Length != 1000 || s.LastEpoch() != 1 {
		t.Fatalf("fast: %d commands, last %v, clock %+v", len(cmds), last, s.Clock())
	}
	if cmds[4].SimTime >= tr.StartMS+1000 {
		t.Errorf("payment past its one-second epoch: %d", cmds[4].SimTime-tr.StartMS)
	}
	if _, err := ParsePace("slow"); err == nil {
		t.Error("unknown pace accepted")
	}
}

// What the Writer writes, the Reader reads back: names, flags and all.
func TestWriteRead(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Header{Step: "1h", Start: "2024-07-24T00:00:00+08:00", Wallets: 2, Merchants: 1, Payments: 2, Steps: 2})
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Wallet(Wallet{ID: 1, Name: `C"odd, name"`, Provider: sim.Weixin, Region: sim.CN, Class: sim.CNClass2, Balance: 5}))
	must(w.Wallet(Wallet{ID: 2, Name: "C2", Provider: sim.WeChatPayHK, Region: sim.HK, Class: sim.HKSVF}))
	must(w.Merchant(Merchant{ID: 1, Name: "M1", Region: sim.HK, Codes: 1 << sim.WeChatPayHK}))
	must(w.Payment(Payment{Step: 1, Kind: sim.Transit, Wallet: 2, To: uint64(sim.StarFerry), Amount: 500, Currency: sim.HKD}))
	must(w.Payment(Payment{Step: 2, Kind: sim.CrossTransfer, Wallet: 2, To: 1, Amount: 7, Currency: sim.HKD, Flags: FlagFraud | FlagFlagged, Line: 42}))
	must(w.Flush())
	r, err := NewReader(bytes.NewReader(buf.Bytes()), "w")
	if err != nil {
		t.Fatal(err)
	}
	first, err := r.Next()
	if err != nil || first.Wallet == nil || first.Wallet.Name != `C"odd, name"` || first.Wallet.Balance != 5 {
		t.Fatalf("first record %+v, %v", first, err)
	}
	tr, err := Load(bytes.NewReader(buf.Bytes()), "w")
	if err != nil {
		t.Fatal(err)
	}
	if p := tr.Payments[1]; p.Flags != FlagFraud|FlagFlagged || p.Line != 42 || p.Kind != sim.CrossTransfer || p.To != 1 {
		t.Errorf("payment read back as %+v", p)
	}
	if p := tr.Payments[0]; p.To != uint64(sim.StarFerry) {
		t.Errorf("ride read back as %+v", p)
	}
}

// FuzzLoad: any bytes either load as a consistent trace, whose every
// epoch yields valid commands, or fail with an error naming a line.
// Seed corpus: testdata/fuzz/FuzzLoad and testdata/small.trace.
func FuzzLoad(f *testing.F) {
	if b, err := os.ReadFile("testdata/small.trace"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(head + body + "p,1,topup,1,,100,CNY,,0\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		tr, err := Load(bytes.NewReader(in), "f")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f:") {
				t.Fatalf("error without file and line: %v", err)
			}
			return
		}
		for _, pace := range []Pace{PaceStep, PaceFast} {
			s, err := NewSource(tr, pace)
			if err != nil {
				t.Fatal(err)
			}
			n := int64(0)
			for e := uint32(0); e <= s.LastEpoch(); e++ {
				cmds, _ := s.Epoch(e, nil)
				for i := range cmds {
					if err := cmds[i].Validate(); err != nil {
						t.Fatalf("epoch %d: %v", e, err)
					}
					if cmds[i].Type == event.CmdPay {
						n++
					}
				}
			}
			if n != s.Payments() {
				t.Fatalf("%s pace yields %d payments of %d", pace, n, s.Payments())
			}
		}
	})
}
