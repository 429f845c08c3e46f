package coverage_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/report/coverage"
	"github.com/walletsim/walletsim/sim/route"
)

func policy(t *testing.T, name string) (*route.Table, *route.Policy) {
	t.Helper()
	table, p, _, err := scenarios.LoadPolicy(name)
	if err != nil {
		t.Fatal(err)
	}
	return table, p
}

// TestCoverageCountsEveryDecision: over quickstart in memory, the rules'
// counts add up to the routed events the audit counts independently, and
// a rule the traffic cannot reach is listed as never fired.
func TestCoverageCountsEveryDecision(t *testing.T) {
	sc, file, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments, s.Duration = 8000, ""
	if sc, err = scenarios.Recompile(file, &s); err != nil {
		t.Fatal(err)
	}
	_, pol := policy(t, "unionpay-open-2024")
	// A rule no quickstart payment can reach: telco wallets at HK
	// scanners (the population has no HK telco wallets).
	p := *pol
	p.Rules = append(slices.Clone(pol.Rules), route.Rule{ID: "unreachable", Channel: "cpm", Payers: []string{"telco"}, PayerRegions: []string{"HK"}, Acceptors: []string{"self"}, Regions: []string{"HK"}, Route: "on_us", Note: "[A] test"})
	table, err := route.Compile(&p)
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(sc)
	a := audit.New()
	var c coverage.Counter
	var buf []byte
	m := ledger.Memory{Routes: table, Parts: 4, Seed: uint64(sc.Seed), Clock: g.Clock,
		OnCommand: func(cmd *event.Command) { a.Command(cmd) },
		OnEvent: func(e *event.Event) {
			buf = event.AppendEvent(buf[:0], e)
			a.Event(e, buf)
			c.Event(e)
		}}
	if err := m.Run(g); err != nil {
		t.Fatal(err)
	}
	rep := a.Finish()
	cov := coverage.Build(table, &c)
	var sum int64
	for _, r := range cov.Rules {
		sum += r.Fired
	}
	if cov.Decisions != rep.RoutedEvents || sum != rep.RoutedEvents || sum == 0 {
		t.Fatalf("rules fired %d times (decisions %d), the audit counts %d routed events", sum, cov.Decisions, rep.RoutedEvents)
	}
	var routes int64
	for _, n := range cov.Routes {
		routes += n
	}
	if routes != sum {
		t.Fatalf("routes count %d decisions, rules %d", routes, sum)
	}
	if !slices.Contains(cov.NeverFired, "unreachable") {
		t.Fatalf("unreachable rule not listed as never fired: %v", cov.NeverFired)
	}
	if n, ok := cov.Fired("rules[2]"); !ok || n == 0 {
		t.Fatalf("rules[2] (Alipay and WeChat on-us) fired %d times", n)
	}
	var out bytes.Buffer
	if err := cov.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "never fired") || !strings.Contains(out.String(), "unreachable") {
		t.Fatalf("table lacks the never-fired list:\n%s", out.String())
	}
}

// TestTouched: the rules a policy change adds or changes, and the rules
// whose route changed, are touched; unchanged rules and notes are not.
func TestTouched(t *testing.T) {
	table, next := policy(t, "telco-2023")
	_, prev := policy(t, "transfer-pilot-2022")
	got := coverage.Touched(prev, next, table)
	// cal:interop.telco-2023, Nov 2023: telco wallets and bank apps scan
	// WeChat codes; WeChat Pay HK and Weixin Pay at MTR (rules 15, 16, 30,
	// 31 of telco-2023).
	want := []string{"rules[15]", "rules[16]", "rules[30]", "rules[31]"}
	if !slices.Equal(got, want) {
		t.Fatalf("transfer-pilot-2022 -> telco-2023 touches %v, want %v", got, want)
	}
	if got := coverage.Touched(next, next, table); len(got) != 0 {
		t.Fatalf("a policy against itself touches %v", got)
	}
	// A note is not a change; a fee is.
	p := *next
	p.Rules = slices.Clone(next.Rules)
	p.Rules[3].Note = "reworded"
	p.Rules[5].MDRBPS++
	if got := coverage.Touched(next, &p, table); !slices.Equal(got, []string{"rules[5]"}) {
		t.Fatalf("changed fee on rules[5] touches %v", got)
	}
	// A route's definition changes every rule through it.
	p = *next
	p.Routes = map[string]route.RouteSpec{}
	for k, v := range next.Routes {
		p.Routes[k] = v
	}
	ns := p.Routes["netsunion"]
	ns.SwitchCBPS++
	p.Routes["netsunion"] = ns
	got = coverage.Touched(next, &p, table)
	for _, id := range got {
		i := slices.IndexFunc(table.Rules, func(r route.RuleRef) bool { return r.ID == id })
		if table.Rules[i].Route != "netsunion" {
			t.Errorf("%s (route %s) touched by a netsunion change", id, table.Rules[i].Route)
		}
	}
	if len(got) == 0 {
		t.Fatal("a netsunion fee change touches no rule")
	}
}

// TestRequire: a touched rule below K is a shortfall; one the policy
// lacks is named missing.
func TestRequire(t *testing.T) {
	cov := &coverage.Coverage{Rules: []coverage.RuleCount{{ID: "a", Fired: 10}, {ID: "b", Fired: 2}}}
	got := cov.Require([]string{"a", "b", "c"}, 5)
	if len(got) != 2 || got[0].ID != "b" || got[0].Fired != 2 || got[1].ID != "c" || !got[1].Missing {
		t.Fatalf("shortfalls %+v", got)
	}
	if got := cov.Require([]string{"a"}, 10); len(got) != 0 {
		t.Fatalf("a rule at exactly K is short: %+v", got)
	}
}
