package run

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/event"
)

func load(t *testing.T, payments int64, seed int64) Options {
	t.Helper()
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments, s.Seed = payments, seed
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	table, pol, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Scenario: sc, Policy: table, PolicyName: pol.Name, Partitions: 4, Fresh: true}
}

// TestQuickstartInvariants: a run accounts for every payment and keeps
// every invariant, audited from the log.
func TestQuickstartInvariants(t *testing.T) {
	res, err := Run(context.Background(), load(t, 30_000, 7))
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.Payments.Attempted != 30_000 {
		t.Fatalf("attempted %d, want 30000", s.Payments.Attempted)
	}
	if s.Payments.Succeeded+s.Payments.Declined != s.Payments.Attempted {
		t.Fatalf("succeeded %d + declined %d != attempted %d", s.Payments.Succeeded, s.Payments.Declined, s.Payments.Attempted)
	}
	if !s.Invariants.OK() {
		t.Fatalf("invariants: %+v", s.Invariants)
	}
	if s.Payments.Declined == 0 || len(s.Declines) < 3 {
		t.Fatalf("a realistic run declines some payments for several reasons; got %v", s.Declines)
	}
	var sumKinds int64
	for _, k := range s.Payments.ByKind {
		sumKinds += k.Attempted
	}
	if sumKinds != s.Payments.Attempted {
		t.Fatalf("by_kind sums to %d, attempted %d", sumKinds, s.Payments.Attempted)
	}
	// The audit took every event and every payment and opening command,
	// part of them while the pipeline ran.
	if e := s.Engine; e.AuditRecords != s.Events.Written+s.Payments.Attempted+e.Wallets || e.AuditedInWindow <= 0 || e.AuditedInWindow > e.AuditRecords {
		t.Fatalf("audited %d records, %d of them by the last outcome; want %d events + %d payments + %d openings", e.AuditRecords, e.AuditedInWindow, s.Events.Written, s.Payments.Attempted, e.Wallets)
	}
	// The engine's own state agrees with the audit's replay of the log.
	for part, book := range res.Process.Books {
		n := 0
		book.Each(func(id uint64, w *ledgerWallet) {
			bal, seq, ok := res.Audit.Balance(id)
			if !ok || bal != w.Balance || seq != w.Seq {
				t.Fatalf("partition %d wallet %d: engine %d/%d, audit %d/%d", part, id, w.Balance, w.Seq, bal, seq)
			}
			n++
		})
		if n == 0 {
			t.Fatalf("partition %d holds no wallets", part)
		}
	}
}

// TestVerifyCatchesCorruption proves the audit can fail: events forged
// into the log after a clean run are caught, each by its own check.
func TestVerifyCatchesCorruption(t *testing.T) {
	b, err := embedded.Start(embedded.Config{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	o := load(t, 5_000, 11)
	o.Bus = bus.Config{Brokers: []string{b.Addr()}}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Summary.Invariants.OK() {
		t.Fatalf("clean run not clean: %+v", res.Summary.Invariants)
	}
	_, seq, ok := res.Audit.Balance(1)
	if !ok {
		t.Fatal("wallet 1 missing")
	}
	bal, _, _ := res.Audit.Balance(1)
	topics := bus.DefaultTopics("")
	w, err := bus.NewWriter(o.Bus)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	write := func(e *event.Event) {
		t.Helper()
		msg := kafka.Message{Topic: topics.Events, Partition: 1 % 4, Key: []byte(strconv.Itoa(int(e.Wallet))), Value: event.AppendEvent(nil, e)}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.WriteMessages(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	// Money from nowhere: a credit with no other leg, claiming a consistent
	// balance so only the double-entry check can see it.
	forged := event.Event{Type: event.TransferCredited, ID: event.EventID(1<<40, 1), Wallet: 1, Seq: seq + 1, Command: 1 << 40,
		Kind: sim.P2P, Amount: 100, Currency: sim.CNY, BalanceAfter: bal + 100}
	forged.Post(event.Acct(event.AccWallet, 1), 100, sim.CNY)
	write(&forged)
	_, rep, err := engine.Verify(context.Background(), o.Bus, topics)
	if err != nil {
		t.Fatal(err)
	}
	if rep.MoneyConserved || rep.UnbalancedEvents != 1 || rep.OrphanOutcomes != 1 {
		t.Fatalf("forged credit not caught: conserved %v unbalanced %d orphans %d", rep.MoneyConserved, rep.UnbalancedEvents, rep.OrphanOutcomes)
	}
	// The same event again, byte for byte: a redelivery (a resent produce
	// whose answer was lost), skipped and counted, not a violation.
	write(&forged)
	_, rep, _ = engine.Verify(context.Background(), o.Bus, topics)
	if rep.DuplicateEvents != 0 || rep.Redelivered != 1 {
		t.Fatalf("identical copy: duplicates %d redelivered %d, want 0 and 1", rep.DuplicateEvents, rep.Redelivered)
	}
	// A different event claiming the same (wallet, seq): a duplicate.
	// Between them another of the wallet's earlier events again, so the
	// check cannot lean on the wallet's last event only.
	forgedTwin := forged
	forgedTwin.Amount, forgedTwin.BalanceAfter = 101, bal+101
	forgedTwin.NPostings = 0
	forgedTwin.Post(event.Acct(event.AccWallet, 1), 101, sim.CNY)
	write(&forgedTwin)
	_, rep, _ = engine.Verify(context.Background(), o.Bus, topics)
	if rep.DuplicateEvents != 1 || rep.Redelivered != 1 {
		t.Fatalf("different record, same seq: duplicates %d redelivered %d, want 1 and 1", rep.DuplicateEvents, rep.Redelivered)
	}
	// A balanced event that lies about the balance, and one that skips a seq.
	lie := event.Event{Type: event.ToppedUp, ID: event.EventID(1<<41, 0), Wallet: 1, Seq: seq + 2, Command: 1 << 41,
		Kind: sim.TopUp, Amount: 50, Currency: sim.CNY, BalanceAfter: bal + 999}
	lie.Post(event.Acct(event.AccWallet, 1), 50, sim.CNY)
	lie.Post(event.Acct(event.AccExternal, 0), -50, sim.CNY)
	write(&lie)
	gap := lie
	gap.Seq, gap.ID, gap.BalanceAfter = seq+5, event.EventID(1<<42, 0), bal+100+50+50
	write(&gap)
	_, rep, _ = engine.Verify(context.Background(), o.Bus, topics)
	if rep.BalanceMismatches == 0 || rep.SequenceGaps != 1 {
		t.Fatalf("lie/gap not caught: mismatches %d gaps %d", rep.BalanceMismatches, rep.SequenceGaps)
	}
}
