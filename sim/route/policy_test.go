package route_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/route"
)

// builtins are the era policies of calibration.md section 2, oldest first,
// then the e-CNY unified-code proposal and the all-open thought experiment.
var builtins = []string{"walled-garden", "netsunion-2018", "fee-cut-2021", "mutual-scan-2021", "transfer-pilot-2022", "telco-2023", "unionpay-open-2024", "unified-qr", "all-open-hypothetical"}

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
		{"bad-fx.yaml", `fx.hkd/eur: unknown currency "eur"`},
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
				if !strings.Contains(n, "cal:") && !strings.Contains(n, "[A]") && !strings.Contains(n, "[U]") {
					t.Errorf("rules[%d] note %q names no calibration row (or [A]/[U])", i, n)
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
	// Ranks in the rollout order (route.Rank): "early" is reached by every
	// partial step, "late" by none below 0.9.
	early, late := route.Rank{}, route.Rank{Wallet: 60_000, Merchant: 60_000}
	lateMerchant := route.Rank{Merchant: 60_000}
	lateWallet := route.Rank{Wallet: 60_000}
	cases := []struct {
		name   string
		policy string
		cell   cell
		at     route.Rank
		want   bool
	}{
		{"alipay pays own code", "walled-garden", mpm(sim.Alipay, sim.Alipay), early, true},
		{"alipay cannot pay weixin code", "walled-garden", mpm(sim.Alipay, sim.Weixin), early, false},
		{"weixin cannot pay alipay code", "walled-garden", mpm(sim.Weixin, sim.Alipay), early, false},
		{"no QR gates before 2021", "walled-garden", gate(sim.AlipayHK, sim.HK, sim.MTR), early, false},
		{"no e-CNY before 2021", "netsunion-2018", mpm(sim.ECNY, sim.ECNY), early, false},
		{"2018 still walled", "netsunion-2018", mpm(sim.Alipay, sim.Weixin), early, false},
		{"fee cut opens nothing", "fee-cut-2021", mpm(sim.UnionPay, sim.Weixin), early, false},
		{"2021 weixin scans unionpay in capitals", "mutual-scan-2021", mpm(sim.Weixin, sim.UnionPay), early, true},
		{"2021 weixin does not scan unionpay elsewhere", "mutual-scan-2021", mpm(sim.Weixin, sim.UnionPay), lateMerchant, false},
		{"2021 quickpass scans alipay in capitals", "mutual-scan-2021", mpm(sim.UnionPay, sim.Alipay), early, true},
		{"2021 quickpass not yet elsewhere", "mutual-scan-2021", mpm(sim.UnionPay, sim.Alipay), lateMerchant, false},
		{"2021 one of the 23 banks scans alipay", "mutual-scan-2021", mpm(sim.Bank, sim.Alipay), early, true},
		{"2021 other banks do not", "mutual-scan-2021", mpm(sim.Bank, sim.Alipay), lateWallet, false},
		{"2021 banks do not scan weixin", "mutual-scan-2021", mpm(sim.Bank, sim.Weixin), early, false},
		{"2021 MTR takes AlipayHK", "mutual-scan-2021", gate(sim.AlipayHK, sim.HK, sim.MTR), early, true},
		{"2021 KMB not yet", "mutual-scan-2021", gate(sim.AlipayHK, sim.HK, sim.KMB), early, false},
		{"2021 no alipay to weixin transfer", "mutual-scan-2021", transfer(sim.Alipay, sim.Weixin), early, false},
		{"2022 nationwide quickpass at alipay", "transfer-pilot-2022", mpm(sim.UnionPay, sim.Alipay), lateMerchant, true},
		{"2022 weixin codes not all open to quickpass", "transfer-pilot-2022", mpm(sim.UnionPay, sim.Weixin), lateMerchant, false},
		{"2022 pilot transfer, selected sender", "transfer-pilot-2022", transfer(sim.Alipay, sim.Weixin), early, true},
		{"2022 pilot closed to other senders", "transfer-pilot-2022", transfer(sim.Alipay, sim.Weixin), lateWallet, false},
		{"2022 pilot is one way", "transfer-pilot-2022", transfer(sim.Weixin, sim.Alipay), early, false},
		{"2022 KMB", "transfer-pilot-2022", gate(sim.WeChatPayHK, sim.HK, sim.KMB), early, true},
		{"2022 telco cannot scan weixin", "transfer-pilot-2022", mpm(sim.Telco, sim.Weixin), early, false},
		{"2023 telco scans weixin", "telco-2023", mpm(sim.Telco, sim.Weixin), late, true},
		{"2023 one of the 30 banks scans weixin", "telco-2023", mpm(sim.Bank, sim.Weixin), early, true},
		{"2023 not every bank app", "telco-2023", mpm(sim.Bank, sim.Weixin), lateWallet, false},
		{"2023 no trams", "telco-2023", gate(sim.WeChatPayHK, sim.HK, sim.Tramways), early, false},
		{"2024 quickpass scans every weixin code", "unionpay-open-2024", mpm(sim.UnionPay, sim.Weixin), late, true},
		{"2024 trams take WeChat Pay HK", "unionpay-open-2024", gate(sim.WeChatPayHK, sim.HK, sim.Tramways), early, true},
		{"2024 still walled", "unionpay-open-2024", mpm(sim.Alipay, sim.Weixin), early, false},
		{"2024 foreign card at alipay code", "unionpay-open-2024", cell{route.MPM, sim.Alipay, sim.INTL, sim.CN, uint8(sim.Alipay)}, early, true},
		{"2024 HK e-CNY at a mainland e-CNY code", "unionpay-open-2024", cell{route.MPM, sim.ECNY, sim.HK, sim.CN, uint8(sim.ECNY)}, early, true},
		{"unified e-CNY: alipay still walled from weixin", "unified-qr", mpm(sim.Alipay, sim.Weixin), early, false},
		{"unified e-CNY: alipay pays an e-CNY code", "unified-qr", mpm(sim.Alipay, sim.ECNY), late, true},
		{"unified e-CNY: e-CNY pays a weixin code", "unified-qr", mpm(sim.ECNY, sim.Weixin), late, true},
		{"unified e-CNY: telco not at star ferry", "unified-qr", gate(sim.Telco, sim.CN, sim.StarFerry), early, false},
		{"all open: alipay pays weixin", "all-open-hypothetical", mpm(sim.Alipay, sim.Weixin), late, true},
		{"all open: telco at star ferry", "all-open-hypothetical", gate(sim.Telco, sim.CN, sim.StarFerry), late, true},
		{"all open: weixin to alipay transfer", "all-open-hypothetical", transfer(sim.Weixin, sim.Alipay), late, true},
	}
	for _, tc := range cases {
		t.Run(tc.policy+"/"+tc.name, func(t *testing.T) {
			table := load(t, tc.policy)
			c := tc.cell
			got := table.LookupAt(c.ch, c.payer, c.pr, c.ar, c.acceptor, tc.at) != nil
			if got != tc.want {
				t.Fatalf("accepted = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTransferPilotRoute: the 2022 pilot route carries its cap and its
// receiver app, and reaches only the selected senders.
func TestTransferPilotRoute(t *testing.T) {
	for _, name := range []string{"transfer-pilot-2022", "telco-2023", "unionpay-open-2024"} {
		table := load(t, name)
		r := table.Lookup(route.Transfer, sim.Alipay, sim.CN, sim.CN, uint8(sim.Weixin))
		if r == nil {
			t.Fatalf("%s: no pilot route", name)
		}
		if r.MaxAmount != 2_000*100 || r.ReceiverApp != sim.Alipay {
			t.Fatalf("%s: pilot route cap %d receiver %s, want 200000 and alipay", name, r.MaxAmount, r.ReceiverApp)
		}
		reached := 0
		for w := uint64(1); w <= 10_000; w++ {
			at := route.Rank{Wallet: route.RankOf(7, w, route.SaltWallet)}
			if table.LookupAt(route.Transfer, sim.Alipay, sim.CN, sim.CN, uint8(sim.Weixin), at) != nil {
				reached++
			}
		}
		// cal:assume.pilot-senders: 5% of Alipay wallets; 10,000 draws
		// give a standard error of 0.22 points.
		if reached < 400 || reached > 600 {
			t.Fatalf("%s: the pilot reaches %d of 10000 Alipay senders, want about 500", name, reached)
		}
	}
}

// priceCurrency is what an acceptor prices in: a merchant or gate its
// region's currency, a transfer the payee wallet's, a top-up the wallet's.
func priceCurrency(ch route.Channel, payer sim.Provider, pr, ar sim.Region, a uint8) sim.Currency {
	switch ch {
	case route.Gate:
		return sim.HKD
	case route.Transfer:
		return sim.WalletCurrency(sim.Provider(a), ar)
	case route.Load:
		return sim.WalletCurrency(payer, pr)
	}
	return ar.Home()
}

// TestAllOpenAcceptsEverything: all-open-hypothetical accepts every cell
// (the visitors' card-billed wallets take no top-ups), and in every
// built-in a route between two currencies converts: a route without FX
// would decline fx_unavailable on every payment it takes.
func TestAllOpenAcceptsEverything(t *testing.T) {
	all := load(t, "all-open-hypothetical")
	others := map[string]*route.Table{}
	for _, n := range builtins {
		others[n] = load(t, n)
	}
	for ch := route.MPM; ch < route.NumChannels; ch++ {
		for _, p := range sim.Providers() {
			for _, pr := range sim.Regions() {
				for _, ar := range sim.Regions() {
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
						if ch != route.Load || pr != sim.INTL {
							if all.Lookup(ch, p, pr, ar, a) == nil {
								t.Errorf("all-open-hypothetical: %s payer %s %s at %s acceptor %d not accepted", ch, p, pr, ar, a)
							}
						}
						for n, o := range others {
							cur := priceCurrency(ch, p, pr, ar, a)
							if r := o.Lookup(ch, p, pr, ar, a); r != nil && cur != sim.WalletCurrency(p, pr) && !r.FX {
								t.Errorf("%s: %s payer %s (%s, %s) at %s acceptor %d (%s) has route %s without FX", n, ch, p, pr, sim.WalletCurrency(p, pr), ar, a, cur, r.Name)
							}
						}
					}
				}
			}
		}
	}
}

// TestRollout: a rule with a rollout decides only the wallets and
// merchants it reaches; the rest fall through to later rules; a wider
// rollout reaches everyone a narrower one did; bad shares name the key.
func TestRollout(t *testing.T) {
	share := func(v float64) *float64 { return &v }
	hop := []route.Hop{{Name: "w", LatencyMedian: 1}}
	pol := func(wallets, merchants *float64) *route.Policy {
		return &route.Policy{Name: "r", Routes: map[string]route.RouteSpec{
			"on_us": {Clearing: "on_us", Hops: hop}, "unionpay": {Clearing: "unionpay", Hops: hop},
		}, Rules: []route.Rule{
			{Channel: "mpm", Payers: []string{"unionpay"}, Acceptors: []string{"weixin"}, Route: "on_us", Rollout: &route.Rollout{Wallets: wallets, Merchants: merchants}, Note: "[A]"},
			{Channel: "mpm", Payers: []string{"unionpay"}, Acceptors: []string{"weixin"}, Route: "unionpay", Rollout: &route.Rollout{Merchants: share(0.6)}, Note: "[A]"},
		}}
	}
	narrow, err := route.Compile(pol(nil, share(0.3)))
	if err != nil {
		t.Fatal(err)
	}
	wide, err := route.Compile(pol(nil, share(0.5)))
	if err != nil {
		t.Fatal(err)
	}
	at := func(m uint16) route.Rank { return route.Rank{Merchant: m} }
	name := func(tb *route.Table, m uint16) string {
		if r := tb.LookupAt(route.MPM, sim.UnionPay, sim.CN, sim.CN, uint8(sim.Weixin), at(m)); r != nil {
			return r.Name
		}
		return "none"
	}
	for _, c := range []struct {
		m    uint16
		want string
	}{{0, "on_us"}, {19_660, "on_us"}, {19_661, "unionpay"}, {39_321, "unionpay"}, {39_322, "none"}, {65_535, "none"}} {
		if got := name(narrow, c.m); got != c.want {
			t.Errorf("merchant rank %d: %s, want %s", c.m, got, c.want)
		}
	}
	for m := 0; m < 1<<16; m += 97 {
		if name(narrow, uint16(m)) == "on_us" && name(wide, uint16(m)) != "on_us" {
			t.Fatalf("merchant rank %d reached at 0.3 but not at 0.5", m)
		}
	}
	if r, _ := narrow.ChooseAt(route.MPM, sim.UnionPay, sim.CN, sim.CN, mask(sim.Weixin, sim.Alipay), at(30_000)); r == nil || r.Name != "unionpay" {
		t.Errorf("ChooseAt at rank 30000: %v, want unionpay", r)
	}
	for _, bad := range []*float64{share(0), share(-0.1), share(1.5)} {
		_, err := route.Compile(pol(bad, nil))
		if err == nil || !strings.Contains(err.Error(), "rules[0].rollout.wallets: share") {
			t.Errorf("rollout wallets %v: %v", *bad, err)
		}
	}
	// Ranks spread evenly: a share s reaches about s of the IDs.
	n := 0
	for id := uint64(1); id <= 20_000; id++ {
		if route.RankOf(3, id, route.SaltMerchant) < 19_661 {
			n++
		}
	}
	if n < 5_700 || n > 6_300 {
		t.Errorf("a 0.3 rollout reaches %d of 20000 merchants", n)
	}
}

// TestChooseIsTheBestCode checks the multi-code choice against a search
// over the merchant's codes, for every bit set, payer and regions, at
// rollout ranks spread over the range.
func TestChooseIsTheBestCode(t *testing.T) {
	for _, name := range builtins {
		table := load(t, name)
		for _, ch := range []route.Channel{route.MPM, route.CPM} {
			for _, p := range sim.Providers() {
				for _, pr := range sim.Regions() {
					for _, ar := range sim.Regions() {
						for m := uint16(2); m < 1<<sim.NumProviders; m += 2 {
							at := route.Rank{Wallet: m * 61, Merchant: m * 67}
							got, acc := table.ChooseAt(ch, p, pr, ar, m, at)
							want, wantAcc := search(table, ch, p, pr, ar, m, at)
							if got != want || acc != wantAcc {
								t.Fatalf("%s %s payer %s mask %b at %v: table %v/%s, search %v/%s", name, ch, p, m, at, got, acc, want, wantAcc)
							}
							got, acc = table.Choose(ch, p, pr, ar, m)
							want, wantAcc = search(table, ch, p, pr, ar, m, route.Rank{})
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
func search(t *route.Table, ch route.Channel, p sim.Provider, pr, ar sim.Region, m uint16, at route.Rank) (*route.Route, sim.Provider) {
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
		if r := t.LookupAt(ch, p, pr, ar, uint8(a), at); r != nil && (best == nil || less(r, best)) {
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
	_, pol, _, err := scenarios.LoadPolicy("all-open-hypothetical")
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
