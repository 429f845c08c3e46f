package compare

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/scenario"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func quickstart(t *testing.T, payments, seed int64) *scenario.Compiled {
	t.Helper()
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments, s.Duration, s.Seed, s.Partitions = payments, "", seed, 4
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	return sc
}

func policy(t *testing.T, name string) Policy {
	t.Helper()
	table, pol, src, err := scenarios.LoadPolicy(name)
	if err != nil {
		t.Fatal(err)
	}
	return Policy{Name: pol.Name, Source: src.Path, Table: table}
}

// memoryDigest is the digest of the same scenario and policy run through
// the ledger without Kafka.
func memoryDigest(t *testing.T, sc *scenario.Compiled, p Policy) string {
	t.Helper()
	g := gen.New(sc)
	a := audit.New()
	var raw []byte
	m := &ledger.Memory{Routes: p.Table, Parts: 3, Seed: uint64(sc.Seed), Clock: g.Clock,
		OnCommand: func(c *event.Command) { a.Command(c) },
		OnEvent:   func(e *event.Event) { raw = event.AppendEvent(raw[:0], e); a.Event(e, raw) }}
	if err := m.Run(g); err != nil {
		t.Fatal(err)
	}
	return a.Finish().Digest
}

// TestCompareWalledGardenWithUnified is the must-show at test
// scale, on the embedded broker: same traffic under both policies,
// unified-qr accepts more, falls back and abandons less, money is
// conserved under both, and each column's log is exactly what the ledger
// produces without Kafka.
func TestCompareWalledGardenWithUnified(t *testing.T) {
	sc := quickstart(t, 12_000, 3)
	pols := []Policy{policy(t, "walled-garden"), policy(t, "all-open-hypothetical")}
	var ran []string
	c, err := Run(context.Background(), Options{Scenario: sc, Policies: pols,
		OnRun: func(i int, p Policy, res *run.Result) { ran = append(ran, p.Name) }})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ran, ",") != "walled-garden,all-open-hypothetical" || strings.Join(c.Policies, ",") != "walled-garden,all-open-hypothetical" {
		t.Fatalf("ran %v, columns %v", ran, c.Policies)
	}
	wg, uq := c.Results[0], c.Results[1]
	if c.Payments != 12_000 || wg.Payments.Attempted != uq.Payments.Attempted {
		t.Fatalf("payments: %d, %d and %d", c.Payments, wg.Payments.Attempted, uq.Payments.Attempted)
	}
	if !(uq.Interop.AcceptanceRate > wg.Interop.AcceptanceRate) ||
		!(uq.Interop.FallbackRate < wg.Interop.FallbackRate) ||
		!(uq.Interop.AbandonRate < wg.Interop.AbandonRate) {
		t.Fatalf("all-open %+v vs walled-garden %+v", uq.Interop, wg.Interop)
	}
	for _, r := range c.Results {
		if !r.Invariants.MoneyConserved || !r.Invariants.OK() {
			t.Fatalf("%s: invariants %+v", r.Policy, r.Invariants)
		}
		// Acceptance and abandonment are complements: a payment is
		// abandoned exactly when no wallet of the consumer had a route.
		if d := r.Interop.AcceptanceRate + r.Interop.AbandonRate - 1; math.Abs(d) > 1e-9 {
			t.Fatalf("%s: acceptance %v + abandonment %v != 1", r.Policy, r.Interop.AcceptanceRate, r.Interop.AbandonRate)
		}
		if r.Interop.MeanHops < 1 || r.RouteLatencyMS.P99 < r.RouteLatencyMS.P50 || r.RouteLatencyMS.P50 <= 0 {
			t.Fatalf("%s: hops %v, route latency %+v", r.Policy, r.Interop.MeanHops, r.RouteLatencyMS)
		}
	}
	if wg.Declines["no_accepted_wallet"] == 0 || uq.Declines["no_accepted_wallet"] != 0 {
		t.Fatalf("abandoned: walled-garden %d, all-open %d", wg.Declines["no_accepted_wallet"], uq.Declines["no_accepted_wallet"])
	}
	if uq.FXVolume["HKD"] == 0 || wg.FXVolume["HKD"] != 0 {
		t.Fatalf("HK wallets pay on the mainland only under all-open: FX volume %v vs %v", uq.FXVolume, wg.FXVolume)
	}
	if len(uq.NetPositions) <= len(wg.NetPositions) {
		t.Fatalf("unified-qr settles between more providers: %d pairs vs %d", len(uq.NetPositions), len(wg.NetPositions))
	}
	for i, p := range pols {
		if want := memoryDigest(t, sc, p); c.Results[i].Events.Digest != want {
			t.Fatalf("%s: Kafka run digest %s, in-memory ledger %s", p.Name, c.Results[i].Events.Digest, want)
		}
	}

	dir := t.TempDir()
	jp, err := c.WriteJSON(dir)
	if err != nil {
		t.Fatal(err)
	}
	hp, err := c.WriteHTML(dir)
	if err != nil {
		t.Fatal(err)
	}
	var back Comparison
	b, err := os.ReadFile(jp)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Results) != 2 || back.Results[1].Interop != uq.Interop || back.Seed != 3 {
		t.Fatalf("compare.json does not hold both policies: %+v", back.Policies)
	}
	h, err := os.ReadFile(hp)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"walled-garden", "all-open-hypothetical", "acceptance rate", "<svg", "Net settlement"} {
		if !bytes.Contains(h, []byte(want)) {
			t.Fatalf("compare.html lacks %q", want)
		}
	}
	if bytes.Contains(h, []byte("<script")) || bytes.Contains(h, []byte("http://")) && !bytes.Contains(h, []byte("http://www.w3.org/2000/svg")) {
		t.Fatal("compare.html is not self-contained")
	}
}

func TestValidate(t *testing.T) {
	sc := quickstart(t, 100, 1)
	a, b := policy(t, "walled-garden"), policy(t, "unified-qr")
	cases := []struct {
		name string
		o    Options
		want string
	}{
		{"no scenario", Options{Policies: []Policy{a, b}}, "no scenario"},
		{"one policy", Options{Scenario: sc, Policies: []Policy{a}}, "at least two policies"},
		{"twice the same", Options{Scenario: sc, Policies: []Policy{a, b, a}}, `"walled-garden" given twice`},
		{"no table", Options{Scenario: sc, Policies: []Policy{a, {Name: "x"}}}, `"x" has no route table`},
		{"replayed source", Options{Scenario: sc, Policies: []Policy{a, b}, Run: run.Options{Source: gen.New(sc)}}, "replayed source"},
		{"fine", Options{Scenario: sc, Policies: []Policy{a, b}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

// fixture is a comparison with known figures, no run needed.
func fixture(t *testing.T) *Comparison {
	a, b := policy(t, "walled-garden"), policy(t, "unified-qr")
	mk := func(p Policy, acc, first, fb float64, declines map[string]int64, fees map[string]map[string]int64, pos []audit.Position, fx map[string]int64) Result {
		s := &run.Summary{
			Payments: run.Payments{Attempted: 1000, Succeeded: int64(1000 * (first + fb)), SuccessRate: first + fb},
			Interop:  run.Interop{AcceptanceRate: acc, FirstWalletRate: first, FallbackRate: fb, AbandonRate: 1 - acc, MeanHops: 1.25},
			Declines: declines, Fees: fees, FXVolume: fx, RouteLatMS: run.Latency{P50: 36.2, P99: 180.45},
			Settlement: run.Settlement{CycleS: 86400, Positions: pos},
			Invariants: run.Invariants{MoneyConserved: true}, Events: run.Events{Digest: "sha256:0123456789abcdef"},
		}
		return FromSummary(p, s)
	}
	return &Comparison{Scenario: "quickstart", Seed: 3, Payments: 1000, Policies: []string{a.Name, b.Name}, Results: []Result{
		mk(a, 0.75, 0.68, 0.05, map[string]int64{"no_accepted_wallet": 250, "insufficient_funds": 20},
			map[string]map[string]int64{"merchant": {"CNY": 12_345}, "wallet": {"CNY": 12_300}, "switch": {"CNY": 45}, "fx": {"CNY": 1_000, "HKD": -1_090}},
			[]audit.Position{{Cycle: 1, From: "bank", To: "unionpay", Currency: "CNY", Net: 10_000, Gross: 10_000, Payments: 3}},
			map[string]int64{"CNY": 1_000}),
		mk(b, 1, 0.97, 0.01, map[string]int64{"insufficient_funds": 15, "limit_exceeded": 5},
			map[string]map[string]int64{"merchant": {"CNY": 14_000, "HKD": 900}, "wallet": {"CNY": 13_000, "HKD": 900}, "switch": {"CNY": 1_000}},
			[]audit.Position{
				{Cycle: 1, From: "weixin", To: "alipay", Currency: "CNY", Net: 123_456, Gross: 200_000, Payments: 9},
				{Cycle: 2, From: "alipay", To: "weixin", Currency: "CNY", Net: 23_456, Gross: 23_456, Payments: 1},
			},
			map[string]int64{"CNY": 5_000, "HKD": 7_000}),
	}}
}

// TestTableGolden pins the terminal table's layout (run go test -update
// after an intended change).
func TestTableGolden(t *testing.T) {
	var b bytes.Buffer
	if err := fixture(t).WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "table.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Fatalf("table changed (go test -update if intended):\n%s", b.String())
	}
}

// TestRowsLineUp: every row has a cell per policy, a pair missing under
// one policy shows as zero there, and positions net across cycles with
// one orientation.
func TestRowsLineUp(t *testing.T) {
	c := fixture(t)
	rows := c.Rows()
	find := func(name, unit string) Row {
		for _, r := range rows {
			if r.Name == name && r.Unit == unit {
				return r
			}
		}
		t.Fatalf("no row %q %s", name, unit)
		return Row{}
	}
	for _, r := range rows {
		if len(r.Cells) != 2 || len(r.Values) != 2 {
			t.Fatalf("row %q has %d cells", r.Name, len(r.Cells))
		}
	}
	// weixin owed alipay 1,234.56 in cycle 1, alipay owed weixin 234.56 in
	// cycle 2: over the run alipay -> weixin is -1,000.00.
	if r := find("net alipay → weixin", "CNY"); r.Cells[0] != "0.00" || r.Cells[1] != "-1,000.00" {
		t.Fatalf("net alipay → weixin: %v", r.Cells)
	}
	if r := find("declined: no_accepted_wallet", ""); r.Cells[0] != "250" || r.Cells[1] != "0" {
		t.Fatalf("abandoned: %v", r.Cells)
	}
	if r := find("fees: merchant", "HKD"); r.Cells[0] != "—" || !math.IsNaN(r.Values[0]) {
		t.Fatalf("a fee a policy never charged shows as missing, got %v", r.Cells)
	}
	// FX desk: +10.00 CNY and -10.90 HKD valued at 0.914 is 0.04 CNY.
	if r := find("fees: fx margin at mid", "CNY"); r.Cells[0] != "0.04" {
		t.Fatalf("fx margin: %v", r.Cells)
	}
	rep := c.Report()
	if len(rep.Metrics) == 0 || len(rep.Settlement.Rows) != 2 || rep.DeclinesByReason["walled-garden"]["no_accepted_wallet"] != 250 {
		t.Fatalf("report: %d metrics, settlement %v", len(rep.Metrics), rep.Settlement.Rows)
	}
}
