package route_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/route"
)

// builtins are the era policies of cal:defaults.interop-eras, oldest first.
var builtins = []string{"walled-garden", "netsunion-2018", "mutual-scan-2021", "transfer-pilot-2022", "telco-2023", "unionpay-open-2024", "unified-qr"}

func load(t testing.TB, name string) *route.Table {
	t.Helper()
	table, _, _, err := scenarios.LoadPolicy(name)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// TestBadPolicyFiles: every defect in a policy file is reported with the
// file and the YAML key to fix, never a panic or a silent default.
func TestBadPolicyFiles(t *testing.T) {
	cases := []struct {
		file string
		key  string // what the message must name
	}{
		{"unknown-payer.yaml", `rules[3].payers: unknown wallet provider "paypal"`},
		{"unknown-acceptor.yaml", `rules[0].acceptors: unknown wallet provider "octopus"`},
		{"unknown-operator.yaml", `rules[1].acceptors: unknown transit operator "peak_tram"`},
		{"unknown-receiver-app.yaml", `rules[0].receiver_app: unknown wallet provider "alipy"`},
		{"negative-mdr.yaml", "rules[1].mdr_bps: fee -60"},
		{"negative-switch-fee.yaml", "routes.netsunion.switch_fee_cbps: fee -325"},
		{"negative-fx-margin.yaml", "rules[0].fx_margin_bps: fee -50"},
		{"no-hops.yaml", "routes.on_us.hops: a route needs at least one hop"},
		{"missing-hops.yaml", "routes.unionpay.hops: a route needs at least one hop"},
		{"unknown-route.yaml", `rules[0].route: unknown route "on_uss"`},
		{"negative-latency.yaml", "routes.on_us.hops[0].latency_ms: -35"},
		{"bad-fx.yaml", `fx.hkd/usd: unknown currency "usd"`},
		{"bad-cycle.yaml", `settlement.cycle: "90s"`},
		{"bad-channel.yaml", `rules[0].channel: unknown channel "nfc"`},
		{"cross-border-no-fx.yaml", `rules[0].route: "cross_border" converts currency but the policy has no fx rates`},
		{"receiver-app-on-scan.yaml", "rules[0].receiver_app: only transfer rules have a receiver"},
		{"no-name.yaml", "name: empty"},
		{"unknown-key.yaml", "unknown key mdr_bsp"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tc.file)
			_, _, _, err := scenarios.LoadPolicy(path)
			if err == nil {
				t.Fatalf("%s loaded without error", path)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, path+": ") {
				t.Errorf("error does not start with the file name %q: %s", path, msg)
			}
			if !strings.Contains(msg, tc.key) {
				t.Errorf("error does not name %q: %s", tc.key, msg)
			}
		})
	}
}

// TestCompileNamesFirstBadRoute: with several bad routes the same one is
// reported on every run (map order must not leak into messages).
func TestCompileNamesFirstBadRoute(t *testing.T) {
	p := &route.Policy{Name: "x", Routes: map[string]route.RouteSpec{}}
	for _, n := range []string{"zeta", "alpha", "mid", "beta"} {
		p.Routes[n] = route.RouteSpec{Clearing: "on_us"}
	}
	for range 20 {
		_, err := route.Compile(p)
		if err == nil || !strings.HasPrefix(err.Error(), "routes.alpha.hops:") {
			t.Fatalf("want routes.alpha.hops first, got %v", err)
		}
	}
}

// TestBuiltinPolicies: each era policy compiles, names the calibration row
// behind every rule, and has the settlement cycle it declares.
func TestBuiltinPolicies(t *testing.T) {
	got := scenarios.Builtins("policies")
	for _, name := range builtins {
		found := false
		for _, g := range got {
			found = found || g == name
		}
		if !found {
			t.Errorf("built-in policy %s missing (have %v)", name, got)
		}
	}
	for _, name := range builtins {
		t.Run(name, func(t *testing.T) {
			table, pol, _, err := scenarios.LoadPolicy(name)
			if err != nil {
				t.Fatal(err)
			}
			if pol.Name != name || table.Name != name {
				t.Fatalf("file %s names itself %q", name, pol.Name)
			}
			for i, r := range pol.Rules {
				n := r.Note
				// cal:<id> rows resolve: sim/report/calibration TestEveryCitationResolves.
				if !strings.Contains(n, "cal:") && !strings.Contains(n, "[A]") && !strings.Contains(n, "[U]") {
					t.Errorf("rules[%d] note %q cites no cal:<id> row (nor [A]/[U])", i, n)
				}
			}
			if table.SettleCycleMS != 24*3600*1000 {
				t.Errorf("settlement cycle %d ms, want 24h", table.SettleCycleMS)
			}
		})
	}
}

// mask builds a merchant's bit set of code schemes.
func mask(ps ...sim.Provider) uint16 {
	var m uint16
	for _, p := range ps {
		m |= 1 << p
	}
	return m
}

// TestEraAcceptance pins what each era's calibration rows say, cell by cell.
func TestEraAcceptance(t *testing.T) {
	type cell struct {
		ch       route.Channel
		payer    sim.Provider
		pr, ar   sim.Region
		acceptor uint8
	}
	mpm := func(p sim.Provider, a sim.Provider) cell { return cell{route.MPM, p, sim.CN, sim.CN, uint8(a)} }
	gate := func(p sim.Provider, pr sim.Region, o sim.Operator) cell {
		return cell{route.Gate, p, pr, sim.HK, uint8(o)}
	}
	transfer := func(p, payee sim.Provider) cell { return cell{route.Transfer, p, sim.CN, sim.CN, uint8(payee)} }
	cases := []struct {
		name   string
		policy string
		cell   cell
		want   bool
	}{
		{"alipay pays own code", "walled-garden", mpm(sim.Alipay, sim.Alipay), true},
		{"alipay cannot pay weixin code", "walled-garden", mpm(sim.Alipay, sim.Weixin), false},
		{"weixin cannot pay alipay code", "walled-garden", mpm(sim.Weixin, sim.Alipay), false},
		{"no QR gates before 2021", "walled-garden", gate(sim.AlipayHK, sim.HK, sim.MTR), false},
		{"no e-CNY before 2021", "netsunion-2018", mpm(sim.ECNY, sim.ECNY), false},
		{"2018 still walled", "netsunion-2018", mpm(sim.Alipay, sim.Weixin), false},
		{"2021 weixin scans unionpay", "mutual-scan-2021", mpm(sim.Weixin, sim.UnionPay), true},
		{"2021 quickpass scans alipay", "mutual-scan-2021", mpm(sim.UnionPay, sim.Alipay), true},
		{"2021 banks scan alipay", "mutual-scan-2021", mpm(sim.Bank, sim.Alipay), true},
		{"2021 banks do not scan weixin", "mutual-scan-2021", mpm(sim.Bank, sim.Weixin), false},
		{"2021 MTR takes AlipayHK", "mutual-scan-2021", gate(sim.AlipayHK, sim.HK, sim.MTR), true},
		{"2021 KMB not yet", "mutual-scan-2021", gate(sim.AlipayHK, sim.HK, sim.KMB), false},
		{"2021 no alipay to weixin transfer", "mutual-scan-2021", transfer(sim.Alipay, sim.Weixin), false},
		{"2022 pilot transfer", "transfer-pilot-2022", transfer(sim.Alipay, sim.Weixin), true},
		{"2022 pilot is one way", "transfer-pilot-2022", transfer(sim.Weixin, sim.Alipay), false},
		{"2022 KMB", "transfer-pilot-2022", gate(sim.WeChatPayHK, sim.HK, sim.KMB), true},
		{"2022 telco cannot scan weixin", "transfer-pilot-2022", mpm(sim.Telco, sim.Weixin), false},
		{"2023 telco scans weixin", "telco-2023", mpm(sim.Telco, sim.Weixin), true},
		{"2023 no trams", "telco-2023", gate(sim.WeChatPayHK, sim.HK, sim.Tramways), false},
		{"2024 quickpass scans weixin", "unionpay-open-2024", mpm(sim.UnionPay, sim.Weixin), true},
		{"2024 trams take WeChat Pay HK", "unionpay-open-2024", gate(sim.WeChatPayHK, sim.HK, sim.Tramways), true},
		{"2024 still walled", "unionpay-open-2024", mpm(sim.Alipay, sim.Weixin), false},
		{"unified: alipay pays weixin", "unified-qr", mpm(sim.Alipay, sim.Weixin), true},
		{"unified: telco at star ferry", "unified-qr", gate(sim.Telco, sim.CN, sim.StarFerry), true},
		{"unified: weixin to alipay transfer", "unified-qr", transfer(sim.Weixin, sim.Alipay), true},
	}
	for _, tc := range cases {
		t.Run(tc.policy+"/"+tc.name, func(t *testing.T) {
			table := load(t, tc.policy)
			c := tc.cell
			got := table.Lookup(c.ch, c.payer, c.pr, c.ar, c.acceptor) != nil
			if got != tc.want {
				t.Fatalf("accepted = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTransferPilotRoute: the 2022 pilot route carries both of its limits.
func TestTransferPilotRoute(t *testing.T) {
	for _, name := range []string{"transfer-pilot-2022", "telco-2023", "unionpay-open-2024"} {
		r := load(t, name).Lookup(route.Transfer, sim.Alipay, sim.CN, sim.CN, uint8(sim.Weixin))
		if r == nil {
			t.Fatalf("%s: no pilot route", name)
		}
		if r.MaxAmount != 2_000*100 || r.ReceiverApp != sim.Alipay {
			t.Fatalf("%s: pilot route cap %d receiver %s, want 200000 and alipay", name, r.MaxAmount, r.ReceiverApp)
		}
	}
}

// TestUnifiedAcceptsEverything: unified-qr accepts every cell any other
// built-in accepts, and every cell at all; the route table is where the
// compare property starts.
func TestUnifiedAcceptsEverything(t *testing.T) {
	uni := load(t, "unified-qr")
	others := map[string]*route.Table{}
	for _, n := range builtins[:len(builtins)-1] {
		others[n] = load(t, n)
	}
	for ch := route.MPM; ch < route.NumChannels; ch++ {
		for _, p := range sim.Providers() {
			for pr := sim.CN; pr <= sim.HK; pr++ {
				for ar := sim.CN; ar <= sim.HK; ar++ {
					for a := uint8(1); a < 16; a++ {
						if ch == route.Gate && !sim.Operator(a).Valid() || ch != route.Gate && !sim.Provider(a).Valid() {
							continue
						}
						if ch == route.Load && (a != uint8(p) || ar != pr) {
							continue
						}
						if ch == route.Gate && ar != sim.HK {
							continue
						}
						if uni.Lookup(ch, p, pr, ar, a) == nil {
							t.Errorf("unified-qr: %s payer %s %s at %s acceptor %d not accepted", ch, p, pr, ar, a)
						}
						for n, o := range others {
							if r := o.Lookup(ch, p, pr, ar, a); r != nil && pr != ar && !r.FX && ch != route.Load {
								t.Errorf("%s: cross-region %s payer %s at acceptor %d has route %s without FX", n, ch, p, a, r.Name)
							}
						}
					}
				}
			}
		}
	}
}

// TestChooseIsTheBestCode checks the precomputed multi-code table against
// a search over the merchant's codes, for every bit set and payer: the
// table must be the search, only faster.
func TestChooseIsTheBestCode(t *testing.T) {
	for _, name := range builtins {
		table := load(t, name)
		for _, ch := range []route.Channel{route.MPM, route.CPM} {
			for _, p := range sim.Providers() {
				for pr := sim.CN; pr <= sim.HK; pr++ {
					for ar := sim.CN; ar <= sim.HK; ar++ {
						for m := uint16(2); m < 1<<sim.NumProviders; m += 2 {
							got, acc := table.Choose(ch, p, pr, ar, m)
							want, wantAcc := search(table, ch, p, pr, ar, m)
							if got != want || acc != wantAcc {
								t.Fatalf("%s %s payer %s mask %b: table %v/%s, search %v/%s", name, ch, p, m, got, acc, want, wantAcc)
							}
							if best := table.Best(ch, p, pr, ar, m); best != got {
								t.Fatalf("Best and Choose disagree")
							}
						}
					}
				}
			}
		}
	}
}

// search is the slow definition of Choose: among the offered acceptors
// with a route, on-us first, then the lowest fee, fewest hops, lowest ID.
func search(t *route.Table, ch route.Channel, p sim.Provider, pr, ar sim.Region, m uint16) (*route.Route, sim.Provider) {
	var best *route.Route
	var acc sim.Provider
	less := func(a, b *route.Route) bool {
		ao, bo := a.Clearing != route.OnUs, b.Clearing != route.OnUs
		if ao != bo {
			return !ao
		}
		if af, bf := a.MDRBPS+a.FXMarginBPS, b.MDRBPS+b.FXMarginBPS; af != bf {
			return af < bf
		}
		if len(a.Hops) != len(b.Hops) {
			return len(a.Hops) < len(b.Hops)
		}
		return a.ID < b.ID
	}
	for a := sim.Provider(0); a < sim.NumProviders; a++ {
		if m&(1<<a) == 0 {
			continue
		}
		if r := t.Lookup(ch, p, pr, ar, uint8(a)); r != nil && (best == nil || less(r, best)) {
			best, acc = r, a
		}
	}
	return best, acc
}

// TestOutOfRangeIsNoRoute: the hot path never indexes out of its tables,
// whatever a corrupt command carries.
func TestOutOfRangeIsNoRoute(t *testing.T) {
	table := load(t, "unified-qr")
	if table.Lookup(route.NumChannels, sim.Alipay, sim.CN, sim.CN, 1) != nil ||
		table.Lookup(route.MPM, sim.NumProviders, sim.CN, sim.CN, 1) != nil ||
		table.Lookup(route.MPM, sim.Alipay, sim.NumRegions, sim.CN, 1) != nil ||
		table.Lookup(route.MPM, sim.Alipay, sim.CN, sim.CN, 200) != nil {
		t.Fatal("out-of-range Lookup returned a route")
	}
	if r, _ := table.Choose(route.MPM, sim.Alipay, sim.CN, sim.CN, 0xffff); r != nil {
		t.Fatal("out-of-range mask returned a route")
	}
	if r, _ := table.Choose(route.Gate, sim.Alipay, sim.CN, sim.HK, 2); r != nil {
		t.Fatal("Choose on a single-acceptor channel returned a route")
	}
}

// TestRouteDecisionsAllocateNothing: the allocation count (not a timing)
// of the hot-path calls is part of their contract.
func TestRouteDecisionsAllocateNothing(t *testing.T) {
	table := load(t, "unionpay-open-2024")
	m := mask(sim.Weixin, sim.Alipay, sim.UnionPay)
	var sink *route.Route
	allocs := testing.AllocsPerRun(1000, func() {
		sink = table.Best(route.MPM, sim.UnionPay, sim.CN, sim.CN, m)
		sink, _ = table.Choose(route.CPM, sim.Weixin, sim.CN, sim.CN, m)
		sink = table.Lookup(route.Gate, sim.AlipayHK, sim.HK, sim.HK, uint8(sim.MTR))
	})
	if allocs != 0 || sink == nil {
		t.Fatalf("route decisions allocate %v times per run", allocs)
	}
}

// decisions is a fixed spread of real decisions for the benchmarks.
func decisions() []struct {
	payer sim.Provider
	pr    sim.Region
	m     uint16
} {
	var out []struct {
		payer sim.Provider
		pr    sim.Region
		m     uint16
	}
	for _, p := range sim.Providers() {
		for _, m := range []uint16{mask(sim.Weixin, sim.Alipay, sim.UnionPay), mask(sim.Weixin), mask(sim.Alipay), mask(sim.ECNY, sim.Weixin, sim.Alipay)} {
			out = append(out, struct {
				payer sim.Provider
				pr    sim.Region
				m     uint16
			}{p, sim.CN, m})
		}
	}
	return out
}

// BenchmarkRouteBest times a multi-code decision (a merchant showing
// several codes): docs/PERFORMANCE.md, "Route decisions".
func BenchmarkRouteBest(b *testing.B) {
	table := load(b, "unionpay-open-2024")
	ds := decisions()
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		d := &ds[i%len(ds)]
		if table.Best(route.MPM, d.payer, d.pr, sim.CN, d.m) != nil {
			n++
		}
	}
	if n == 0 {
		b.Fatal("no decision found a route")
	}
}

// BenchmarkRouteLookup times a single-acceptor decision (transit gate,
// transfer, top-up).
func BenchmarkRouteLookup(b *testing.B) {
	table := load(b, "unionpay-open-2024")
	ops := sim.Operators()
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		if table.Lookup(route.Gate, sim.WeChatPayHK, sim.HK, sim.HK, uint8(ops[i%len(ops)])) != nil {
			n++
		}
	}
	if n == 0 {
		b.Fatal("no decision found a route")
	}
}

// BenchmarkCompile is the once-per-run cost of turning a policy into its
// tables.
func BenchmarkCompile(b *testing.B) {
	_, pol, _, err := scenarios.LoadPolicy("unified-qr")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := route.Compile(pol); err != nil {
			b.Fatal(err)
		}
	}
}
