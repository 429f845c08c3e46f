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

// eras are the built-in era policies in date order, then the e-CNY
// unified-code proposal and the all-open thought experiment.
var eras = []string{"walled-garden", "netsunion-2018", "fee-cut-2021", "mutual-scan-2021", "transfer-pilot-2022", "telco-2023", "unionpay-open-2024", "unified-qr", "all-open-hypothetical"}

// opens says whether an era step opened acceptance (rather than changing
// clearing or price only): acceptance must rise strictly at those.
var opensAcceptance = map[string]bool{"mutual-scan-2021": true, "transfer-pilot-2022": true, "telco-2023": true, "unionpay-open-2024": true, "unified-qr": true, "all-open-hypothetical": true}

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

// TestAllOpenNeverAcceptsLess is the compare property: on the same
// traffic, a payment some built-in policy accepts is accepted by
// all-open-hypothetical; acceptance rises at every era step that opened
// acceptance, stays put at the steps that changed only clearing
// (netsunion-2018) or price (fee-cut-2021), and the rollouts nest (a
// payment an era accepts, the next accepts too). Two seeds: the property
// must not hold by luck of one population.
func TestAllOpenNeverAcceptsLess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every built-in policy over generated traffic")
	}
	for _, seed := range []int64{3, 11} {
		sc := quickstart(t, 40_000, seed)
		runs := map[string]policyRun{}
		for _, p := range eras {
			runs[p] = runPolicy(t, sc, p, 4, nil)
		}
		all := runs["all-open-hypothetical"]
		for _, p := range eras[:len(eras)-1] {
			r := runs[p]
			for id, ok := range r.accepted {
				if ok && !all.accepted[id] {
					t.Fatalf("seed %d: payment %d accepted under %s but not under all-open-hypothetical", seed, id, p)
				}
			}
			t.Logf("seed %d %-22s accepted %6d of %d (%.2f%%), abandoned %d", seed, p, r.report.Attempted-r.report.Unaccepted, r.report.Attempted,
				100*float64(r.report.Attempted-r.report.Unaccepted)/float64(r.report.Attempted), r.report.Abandoned)
		}
		if all.report.Abandoned != 0 {
			t.Fatalf("seed %d: all-open-hypothetical abandoned %d payments; every wallet pays every code", seed, all.report.Abandoned)
		}
		for i := 1; i < len(eras); i++ {
			prev, cur := runs[eras[i-1]], runs[eras[i]]
			switch {
			case opensAcceptance[eras[i]] && cur.report.Unaccepted >= prev.report.Unaccepted:
				t.Errorf("seed %d: %s opened acceptance but leaves %d payments unaccepted, %s %d", seed, eras[i], cur.report.Unaccepted, eras[i-1], prev.report.Unaccepted)
			case !opensAcceptance[eras[i]] && cur.report.Unaccepted != prev.report.Unaccepted:
				t.Errorf("seed %d: %s changes no acceptance but leaves %d unaccepted, %s %d", seed, eras[i], cur.report.Unaccepted, eras[i-1], prev.report.Unaccepted)
			}
			for id, ok := range prev.accepted {
				if ok && !cur.accepted[id] {
					t.Errorf("seed %d: payment %d accepted under %s but not under %s (rollouts must nest)", seed, id, eras[i-1], eras[i])
					break
				}
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
	var credited, declined int
	a := audit.New()
	table, _, _, err := scenarios.LoadPolicy("transfer-pilot-2022")
	if err != nil {
		t.Fatal(err)
	}
	pilot := map[uint64]event.Command{} // pilot transfers by payment ID
	m := &ledger.Memory{Routes: table, Parts: 3, Seed: 3, Clock: g.Clock,
		OnCommand: func(c *event.Command) {
			a.Command(c)
			if c.Type == event.CmdPay && c.Kind == sim.CrossTransfer && c.Acceptors == 1<<sim.Weixin {
				if p, _ := g.Pop.Wallet(c.Wallet); p.Provider == sim.Alipay {
					pilot[c.ID] = *c
				}
			}
		},
		OnEvent: func(e *event.Event) {
			a.Event(e, event.AppendEvent(nil, e))
			c, ok := pilot[e.Command]
			if !ok || !e.Type.IsOutcome() {
				return
			}
			payee, _ := g.Pop.Wallet(c.Counterparty)
			hasAlipay := holds[payee.Consumer]&(1<<sim.Alipay) != 0
			switch e.Type {
			case event.TransferCredited:
				if table.Routes[e.Route].ReceiverApp == sim.ProviderNone {
					return // a fallback wallet paid it another way
				}
				credited++
				w, _ := g.Pop.Wallet(e.Wallet)
				if !hasAlipay || w.Provider != sim.Alipay || w.Consumer != payee.Consumer {
					t.Fatalf("payment %d credited wallet %d (%s), not the WeChat payee's own Alipay", e.Command, e.Wallet, w.Provider)
				}
			case event.PaymentDeclined:
				if hasAlipay && e.Reason == sim.NoAcceptedWallet && c.PayeeSibling == 0 {
					t.Fatalf("payment %d: payee holds Alipay but the command named none", e.Command)
				}
				if !hasAlipay {
					declined++
				}
			}
		}}
	if err := m.Run(withApps(g)); err != nil {
		t.Fatal(err)
	}
	if r := a.Finish(); !r.MoneyConserved {
		t.Fatalf("money not conserved: %+v", r)
	}
	refunded := declined
	if credited == 0 || refunded == 0 {
		t.Fatalf("pilot transfers: %d credited to the receiver's Alipay, %d declined (receiver without Alipay); want both", credited, refunded)
	}
}
