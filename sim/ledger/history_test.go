package ledger_test

import (
	"testing"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/ledger"
)

// runOutcomes opens one wallet with open (ID, wallet and time filled in)
// and runs cmds, one epoch each, on clock clk; it returns each command's
// outcome and the auditor's report.
func runOutcomes(t *testing.T, clk ledger.Clock, open event.Command, cmds ...event.Command) ([]event.Event, audit.Report) {
	t.Helper()
	open.Type, open.ID, open.Wallet, open.SimTime, open.Kind = event.CmdOpenWallet, 1<<59|1, 1, clk.Start, sim.Open
	open.Currency = sim.WalletCurrency(open.Provider, open.Region)
	src := epochs{{open}}
	for i, c := range cmds {
		c.ID, c.Epoch = uint64(100+i), uint32(i+1)
		c.Wallet, c.Candidates[0], c.NCandidates = 1, 1, 1
		src = append(src, []event.Command{c})
	}
	table := flowPolicy(t)
	a := audit.NewWithPolicy(table, nil)
	a.CountDays(clk.Start, clk.DayMS)
	var out []event.Event
	var raw []byte
	m := &ledger.Memory{Routes: table, Parts: 1, Seed: 1, Clock: clk,
		OnCommand: func(c *event.Command) { a.Command(c) },
		OnEvent: func(e *event.Event) {
			raw = event.AppendEvent(raw[:0], e)
			a.Event(e, raw)
			if e.Type.IsOutcome() {
				out = append(out, *e)
			}
		}}
	if err := m.Run(src); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(cmds) {
		t.Fatalf("%d outcomes for %d commands", len(out), len(cmds))
	}
	return out, a.Finish()
}

func scanAt(at int64, amount int64) event.Command {
	return event.Command{Type: event.CmdPay, Kind: sim.ScanMPM, SimTime: at, Amount: amount, Currency: sim.CNY,
		Counterparty: 1, AccRegion: sim.CN, Acceptors: 1 << sim.Weixin}
}

// TestOpeningCountersBind: what a wallet spent before the run counts
// against its class limits, on the civil calendar and on compressed
// holder days alike, and the audit counts it the same way.
func TestOpeningCountersBind(t *testing.T) {
	for _, clk := range []ledger.Clock{{Start: t0, Length: 1000}, {Start: t0, Length: 1000, DayMS: 500}} {
		cases := []struct {
			name       string
			class      sim.Class
			year, life int64
		}{
			{"class I lifetime", sim.CNClass1, 0, 99_000}, // RMB 990 of 1,000
			{"class II year", sim.CNClass2, 9_999_000, 0}, // RMB 99,990 of 100,000
		}
		for _, tc := range cases {
			open := event.Command{Amount: 50_000, Provider: sim.Weixin, Region: sim.CN, Class: tc.class, YearSpent: tc.year, LifeSpent: tc.life}
			out, rep := runOutcomes(t, clk, open, scanAt(t0+100, 2_000), scanAt(t0+1_100, 500), scanAt(t0+2_100, 600))
			want := []sim.Reason{sim.LimitExceeded, sim.ReasonNone, sim.LimitExceeded}
			for i, e := range out {
				if e.Reason != want[i] || (want[i] == sim.ReasonNone) != (e.Type == event.PaymentSettled) {
					t.Errorf("day %d ms, %s: payment %d: %s %s, want %s", clk.DayMS, tc.name, i, e.Type, e.Reason, want[i])
				}
			}
			if rep.LimitViolations != 0 {
				t.Errorf("day %d ms, %s: audit counts %d limit violations", clk.DayMS, tc.name, rep.LimitViolations)
			}
		}
	}
}

// TestAuditCountsOpeningSpend: a ledger that forgot the spending before
// the run would settle a payment past the limit; the audit, which counts
// the opening's counters, calls it a violation.
func TestAuditCountsOpeningSpend(t *testing.T) {
	a := audit.NewWithPolicy(flowPolicy(t), nil)
	open := event.Event{Type: event.WalletOpened, ID: event.EventID(1<<59|1, event.StepFirst), Wallet: 1, Seq: 1, Command: 1<<59 | 1,
		SimTime: t0, Kind: sim.Open, Provider: sim.Weixin, Region: sim.CN, Currency: sim.CNY, Class: sim.CNClass1, LifeSpent: 99_000}
	open.Post(event.Acct(event.AccWallet, 1), 50_000, sim.CNY)
	open.Post(event.Acct(event.AccExternal, 0), -50_000, sim.CNY)
	open.BalanceAfter = 50_000
	pay := event.Event{Type: event.PaymentSettled, ID: event.EventID(7, event.StepFirst), Wallet: 1, Seq: 2, Command: 7,
		SimTime: t0 + 10, Kind: sim.P2P, Currency: sim.CNY, BalanceAfter: 48_000}
	pay.Post(event.Acct(event.AccWallet, 1), -2_000, sim.CNY)
	pay.Post(event.Acct(event.AccWallet, 2), 2_000, sim.CNY)
	var raw []byte
	for _, e := range []*event.Event{&open, &pay} {
		raw = event.AppendEvent(raw[:0], e)
		a.Event(e, raw)
	}
	if got := a.Finish().LimitViolations; got != 1 {
		t.Fatalf("limit violations %d, want 1 (RMB 990 spent before the run + RMB 20 passes the RMB 1,000 lifetime limit)", got)
	}
}

// TestLimitYearFromTheDate: with compressed holder days the limit year is
// the scenario date's civil year: a run dated 24 July 2024 (day 205 of the
// year) reaches the new year 160 holder days in, and a wallet at its
// yearly limit may pay again from then.
func TestLimitYearFromTheDate(t *testing.T) {
	const day = 500
	clk := ledger.Clock{Start: t0, Length: 1000, DayMS: day}
	if got := ledger.YearDay(t0); got != 205 {
		t.Fatalf("YearDay(2024-07-24) = %d, want 205", got)
	}
	if y0, y1, y2 := clk.Year(t0), clk.Year(t0+159*day), clk.Year(t0+160*day); y0 != 0 || y1 != 0 || y2 != 1 {
		t.Fatalf("limit years at holder days 0, 159, 160: %d %d %d, want 0 0 1", y0, y1, y2)
	}
	open := event.Command{Amount: 50_000, Provider: sim.Weixin, Region: sim.CN, Class: sim.CNClass2, YearSpent: 10_000_000}
	out, rep := runOutcomes(t, clk, open, scanAt(t0+159*day+1, 1_000), scanAt(t0+160*day+1, 1_000))
	if out[0].Reason != sim.LimitExceeded || out[1].Type != event.PaymentSettled {
		t.Fatalf("at the yearly limit: day 159 %s %s, day 160 %s %s; want limit_exceeded, then settled in the new year", out[0].Type, out[0].Reason, out[1].Type, out[1].Reason)
	}
	if rep.LimitViolations != 0 {
		t.Fatalf("audit counts %d limit violations: its limit year differs from the ledger's", rep.LimitViolations)
	}
}

// TestRebalanceOnTargetStopsAtTheCap: a rebalancing top-up of a wallet
// already on its float loads its amount only up to the balance cap, so it
// is not declined balance_cap_exceeded.
func TestRebalanceOnTargetStopsAtTheCap(t *testing.T) {
	capB := sim.DefaultLimits[sim.HKBasic].BalanceCap
	open := event.Command{Amount: capB * 4 / 5, Target: capB * 4 / 5, Provider: sim.AlipayHK, Region: sim.HK, Class: sim.HKBasic}
	top := event.Command{Type: event.CmdPay, Kind: sim.TopUp, SimTime: t0 + 100, Amount: capB, Currency: sim.HKD, AccRegion: sim.HK, Rebalance: true}
	out, _ := runOutcomes(t, ledger.Clock{Start: t0, Length: 1000}, open, top)
	if out[0].Type != event.ToppedUp || out[0].BalanceAfter != capB {
		t.Fatalf("top-up on target: %s %s, balance %d; want topped up to the cap %d", out[0].Type, out[0].Reason, out[0].BalanceAfter, capB)
	}
}
