package ledger_test

import (
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/scenario"
)

// eras are the built-in policies, oldest first; unified-qr is last.
var eras = []string{"walled-garden", "netsunion-2018", "mutual-scan-2021", "transfer-pilot-2022", "telco-2023", "unionpay-open-2024", "unified-qr"}

func quickstart(t *testing.T, payments, seed int64) *scenario.Compiled {
	t.Helper()
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments, s.Duration, s.Seed = payments, "", seed
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	return sc
}

// policyRun is what one policy made of the same traffic.
type policyRun struct {
	report   audit.Report
	accepted map[uint64]bool // payment ID -> some wallet had a route
	settled  []event.Event   // PaymentSettled events
	digest   string
}

// runPolicy feeds the generator's traffic through the books in memory
// (every saga step included) and audits the result as the engine would.
func runPolicy(t *testing.T, sc *scenario.Compiled, policy string, parts int, src func(*gen.Generator) event.Source) policyRun {
	t.Helper()
	table, _, _, err := scenarios.LoadPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(sc)
	out := policyRun{accepted: map[uint64]bool{}}
	a := audit.NewWithPolicy(table, nil)
	var raw []byte
	m := &ledger.Memory{Routes: table, Parts: parts, Seed: uint64(sc.Seed), Clock: g.Clock,
		OnCommand: func(c *event.Command) { a.Command(c) },
		OnEvent: func(e *event.Event) {
			raw = event.AppendEvent(raw[:0], e)
			a.Event(e, raw)
			switch {
			case e.Type == event.PaymentSettled:
				out.settled = append(out.settled, *e)
			case e.Type.IsOutcome() && e.Kind.IsPayment():
				out.accepted[e.Command] = !(e.Type == event.PaymentDeclined && e.Reason == sim.NoAcceptedWallet)
			}
			if e.Type == event.PaymentSettled {
				out.accepted[e.Command] = true
			}
		}}
	var s event.Source = g
	if src != nil {
		s = src(g)
	}
	if err := m.Run(s); err != nil {
		t.Fatal(err)
	}
	out.report = a.Finish()
	r := out.report
	if !r.MoneyConserved || r.NegativeBalances != 0 || r.UnresolvedCommands != 0 || r.DuplicateOutcomes != 0 || r.OrphanOutcomes != 0 ||
		r.FXViolations != 0 || r.FeeViolations != 0 || r.LimitViolations != 0 {
		t.Fatalf("%s: invariants broken: %+v", policy, r)
	}
	if r.Attempted != sc.Payments || int64(len(out.accepted)) != r.Attempted {
		t.Fatalf("%s: %d attempted, %d outcomes, want %d", policy, r.Attempted, len(out.accepted), sc.Payments)
	}
	out.digest = r.Digest
	return out
}

// TestUnifiedNeverAcceptsLess is the compare property: on the same
// traffic, a payment some built-in policy accepts is accepted by
// unified-qr, so unified-qr never accepts fewer payments than any of them.
// Two seeds: the property must not hold by luck of one population.
func TestUnifiedNeverAcceptsLess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every built-in policy over generated traffic")
	}
	for _, seed := range []int64{3, 11} {
		sc := quickstart(t, 40_000, seed)
		runs := map[string]policyRun{}
		for _, p := range eras {
			runs[p] = runPolicy(t, sc, p, 4, nil)
		}
		uni := runs["unified-qr"]
		for _, p := range eras[:len(eras)-1] {
			r := runs[p]
			for id, ok := range r.accepted {
				if ok && !uni.accepted[id] {
					t.Fatalf("seed %d: payment %d accepted under %s but not under unified-qr", seed, id, p)
				}
			}
			acc := r.report.Attempted - r.report.Unaccepted
			uacc := uni.report.Attempted - uni.report.Unaccepted
			if uacc < acc {
				t.Fatalf("seed %d: unified-qr accepts %d payments, %s %d", seed, uacc, p, acc)
			}
			t.Logf("seed %d %-20s accepted %6d of %d (%.2f%%), abandoned %d", seed, p, acc, r.report.Attempted,
				100*float64(acc)/float64(r.report.Attempted), r.report.Abandoned)
		}
		if uni.report.Abandoned != 0 {
			t.Fatalf("seed %d: unified-qr abandoned %d payments; every wallet pays every code", seed, uni.report.Abandoned)
		}
		// Acceptance only grows with the eras (each adds routes), except
		// netsunion-2018 which changes clearing, not acceptance.
		for i := 1; i < len(eras); i++ {
			prev, cur := runs[eras[i-1]].report, runs[eras[i]].report
			if cur.Unaccepted > prev.Unaccepted {
				t.Errorf("seed %d: %s leaves %d payments unaccepted, more than %s (%d)", seed, eras[i], cur.Unaccepted, eras[i-1], prev.Unaccepted)
			}
		}
	}
}

// TestWalledGardenWalls: under walled-garden no Alipay wallet ever pays a
// Weixin-only code, nor the other way round, and no payment of either is
// acquired by the other scheme.
func TestWalledGardenWalls(t *testing.T) {
	sc := quickstart(t, 60_000, 3)
	g := gen.New(sc)
	codes := map[uint64]uint16{} // payment -> merchant's codes (MPM)
	wrap := func(g *gen.Generator) event.Source {
		return sourceFunc(func(e uint32, buf []event.Command) ([]event.Command, bool) {
			n := len(buf)
			buf, last := g.Epoch(e, buf)
			for _, c := range buf[n:] {
				if c.Kind == sim.ScanMPM {
					codes[c.ID] = c.Acceptors
				}
			}
			return buf, last
		})
	}
	r := runPolicy(t, sc, "walled-garden", 4, wrap)
	weixinOnly, alipayOnly := uint16(1<<sim.Weixin), uint16(1<<sim.Alipay)
	checked := 0
	for _, e := range r.settled {
		w, _ := g.Pop.Wallet(e.Wallet)
		if e.Kind == sim.ScanMPM {
			switch {
			case w.Provider == sim.Alipay && codes[e.Command] == weixinOnly:
				t.Fatalf("payment %d: Alipay wallet %d paid a Weixin-only code", e.Command, e.Wallet)
			case w.Provider == sim.Weixin && codes[e.Command] == alipayOnly:
				t.Fatalf("payment %d: Weixin wallet %d paid an Alipay-only code", e.Command, e.Wallet)
			}
		}
		if (w.Provider == sim.Alipay && e.Peer == sim.Weixin) || (w.Provider == sim.Weixin && e.Peer == sim.Alipay) {
			t.Fatalf("payment %d: %s wallet acquired by %s under walled-garden", e.Command, w.Provider, e.Peer)
		}
		if w.Provider == sim.Alipay || w.Provider == sim.Weixin {
			checked++
		}
	}
	// The check must have had something to check: Alipay payers did meet
	// Weixin-only merchants, and those payments were not paid by Alipay.
	met := 0
	for id, m := range codes {
		if m == weixinOnly && r.accepted[id] {
			met++
		}
	}
	if checked < 10_000 || met == 0 {
		t.Fatalf("too little to check: %d Alipay/Weixin payments, %d accepted at Weixin-only codes", checked, met)
	}
}

type sourceFunc func(e uint32, buf []event.Command) ([]event.Command, bool)

func (f sourceFunc) Epoch(e uint32, buf []event.Command) ([]event.Command, bool) { return f(e, buf) }

// TestMemoryDeterminism: the events do not depend on the partition count
// (GUIDE.md section 2), so the memory run is a reference for any engine.
func TestMemoryDeterminism(t *testing.T) {
	sc := quickstart(t, 20_000, 5)
	one := runPolicy(t, sc, "unionpay-open-2024", 1, nil)
	seven := runPolicy(t, sc, "unionpay-open-2024", 7, nil)
	if one.digest != seven.digest {
		t.Fatalf("digest depends on partitions: %s vs %s", one.digest, seven.digest)
	}
}

// TestPilotWithHolderApps: when openings record the holder's apps, pilot
// transfers reach exactly the WeChat users who also hold Alipay.
func TestPilotWithHolderApps(t *testing.T) {
	sc := quickstart(t, 60_000, 3)
	withApps := func(g *gen.Generator) event.Source {
		apps := map[uint32]uint16{}
		for _, w := range g.Pop.Wallets {
			apps[w.Consumer] |= 1 << w.Provider
		}
		return sourceFunc(func(e uint32, buf []event.Command) ([]event.Command, bool) {
			n := len(buf)
			buf, last := g.Epoch(e, buf)
			for i := n; i < len(buf); i++ {
				if c := &buf[i]; c.Type == event.CmdOpenWallet {
					w, _ := g.Pop.Wallet(c.Wallet)
					c.Apps = apps[w.Consumer]
				}
			}
			return buf, last
		})
	}
	g := gen.New(sc)
	holds := map[uint32]uint16{}
	for _, w := range g.Pop.Wallets {
		holds[w.Consumer] |= 1 << w.Provider
	}
	var credited, refunded int
	a := audit.New()
	table, _, _, err := scenarios.LoadPolicy("transfer-pilot-2022")
	if err != nil {
		t.Fatal(err)
	}
	m := &ledger.Memory{Routes: table, Parts: 3, Seed: 3, Clock: g.Clock,
		OnCommand: func(c *event.Command) { a.Command(c) },
		OnEvent: func(e *event.Event) {
			a.Event(e, event.AppendEvent(nil, e))
			if e.Kind != sim.CrossTransfer || table.Routes[e.Route].ReceiverApp == sim.ProviderNone {
				return
			}
			payee := e.Wallet
			if e.Type == event.TransferCompensated {
				payee = e.Counterparty
			}
			w, _ := g.Pop.Wallet(payee)
			hasAlipay := holds[w.Consumer]&(1<<sim.Alipay) != 0
			switch e.Type {
			case event.TransferCredited:
				credited++
				if !hasAlipay {
					t.Fatalf("payment %d credited to a holder without Alipay", e.Command)
				}
			case event.TransferCompensated:
				if e.Reason == sim.RouteUnavailable {
					refunded++
					if hasAlipay {
						t.Fatalf("payment %d refunded though the holder has Alipay", e.Command)
					}
				}
			}
		}}
	if err := m.Run(withApps(g)); err != nil {
		t.Fatal(err)
	}
	if r := a.Finish(); !r.MoneyConserved {
		t.Fatalf("money not conserved: %+v", r)
	}
	if credited == 0 || refunded == 0 {
		t.Fatalf("pilot transfers: %d credited, %d refunded; want both", credited, refunded)
	}
}
