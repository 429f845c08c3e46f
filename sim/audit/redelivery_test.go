package audit

import (
	"testing"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
)

// wallet1Log is a small valid log of one wallet: opened, then n top-ups.
func wallet1Log(n int) [][]byte {
	var log [][]byte
	bal := int64(0)
	for i := 0; i <= n; i++ {
		e := event.Event{Type: event.ToppedUp, ID: uint64(i+1) << 28, Wallet: 1, Seq: uint64(i + 1), Command: uint64(i+1) << 24,
			Kind: sim.TopUp, Amount: 100, Currency: sim.CNY}
		if i == 0 {
			e = event.Event{Type: event.WalletOpened, ID: 1 << 4, Wallet: 1, Seq: 1, Command: 1<<59 | 1, Kind: sim.Open,
				Amount: 100, Currency: sim.CNY, Provider: 1, Region: sim.CN, Class: sim.CNClass3}
		}
		e.Post(event.Acct(event.AccWallet, 1), 100, sim.CNY)
		e.Post(event.Acct(event.AccExternal, 0), -100, sim.CNY)
		bal += 100
		e.BalanceAfter = bal
		log = append(log, event.AppendEvent(nil, &e))
	}
	return log
}

// audit feeds records as verify does: one pass, then, when some record
// was pending, the log again through Resolve.
func auditLog(t *testing.T, log [][]byte) Report {
	t.Helper()
	a := New()
	var ev event.Event
	pending := false
	for _, raw := range log {
		if err := event.DecodeEvent(raw, &ev); err != nil {
			t.Fatal(err)
		}
		if a.EventPending(&ev, raw) {
			pending = true
		}
	}
	if pending {
		for _, raw := range log {
			_ = event.DecodeEvent(raw, &ev)
			a.Resolve(&ev, raw)
		}
	}
	return a.Finish()
}

// TestRedeliveries: identical copies of records already read, right
// behind them or a whole resent batch later, are skipped and counted; the
// digest is the clean log's. A different record claiming a (wallet, seq)
// already read stays a duplicate event.
func TestRedeliveries(t *testing.T) {
	clean := wallet1Log(4) // seq 1..5
	ref := auditLog(t, clean)
	if ref.Redelivered != 0 || ref.DuplicateEvents != 0 || !ref.MoneyConserved {
		t.Fatalf("clean log: %+v", ref)
	}
	forged := wallet1Log(4)[2]
	forged = append([]byte(nil), forged...)
	var fe event.Event
	_ = event.DecodeEvent(forged, &fe)
	fe.Reason = sim.InsufficientFunds // same (wallet, seq), other bytes
	forged = event.AppendEvent(nil, &fe)
	for _, c := range []struct {
		name              string
		log               [][]byte
		redelivered, dups int64
	}{
		{"last record again", [][]byte{clean[0], clean[1], clean[1], clean[2], clean[3], clean[4]}, 1, 0},
		{"resent batch", [][]byte{clean[0], clean[1], clean[2], clean[3], clean[1], clean[2], clean[3], clean[4]}, 3, 0},
		{"zombie, much later", [][]byte{clean[0], clean[1], clean[2], clean[3], clean[4], clean[2], clean[2]}, 2, 0},
		{"different record, same seq", [][]byte{clean[0], clean[1], clean[2], clean[3], forged, clean[4]}, 0, 1},
		{"different record, right behind", [][]byte{clean[0], clean[1], clean[2], forged, clean[3], clean[4]}, 0, 1},
	} {
		r := auditLog(t, c.log)
		if r.Redelivered != c.redelivered || r.DuplicateEvents != c.dups {
			t.Errorf("%s: redelivered %d duplicates %d, want %d and %d", c.name, r.Redelivered, r.DuplicateEvents, c.redelivered, c.dups)
		}
		if r.Digest != ref.Digest || r.Events != ref.Events {
			t.Errorf("%s: digest %s events %d, want the clean log's %s %d", c.name, r.Digest, r.Events, ref.Digest, ref.Events)
		}
	}
	// Without the second look, a pending record cannot be vouched for.
	a := New()
	var ev event.Event
	for _, raw := range [][]byte{clean[0], clean[1], clean[2], clean[1]} {
		_ = event.DecodeEvent(raw, &ev)
		a.EventPending(&ev, raw)
	}
	if r := a.Finish(); r.DuplicateEvents != 1 {
		t.Errorf("unresolved copy: duplicates %d, want 1", r.DuplicateEvents)
	}
}
