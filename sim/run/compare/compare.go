// Package compare runs one scenario, with one seed, under several
// interoperability policies and sets the outcomes side by side: acceptance,
// multi-homing fallback, abandonment, declines by reason, route length and
// latency, fees by party, net settlement between providers and cross-border
// FX volume. Every run goes through the same runner as `walletsim run`
// (engine on Kafka, audit of the log), so each column is a real run with
// its invariants checked, not an estimate.
//
// The traffic is the scenario's seeded traffic, identical under every
// policy: a difference between two columns is the policy's doing.
package compare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Policy is one column of the comparison.
type Policy struct {
	Name   string
	Source string // the file it came from, or builtin:NAME
	Table  *route.Table
}

// Options configure a comparison.
type Options struct {
	Scenario *scenario.Compiled
	Policies []Policy
	// Run is the template of every run: bus, topics, partitions, progress.
	// Scenario, Policy and PolicyName are set per policy; Fresh is forced
	// so that no run sees another's records.
	Run run.Options
	// OnRun, if set, sees each finished run (progress lines, logs).
	OnRun func(i int, p Policy, res *run.Result)
}

// Validate checks the options before anything runs: a bad list of
// policies should cost nothing.
func (o *Options) Validate() error {
	if o.Scenario == nil {
		return errors.New("compare: no scenario")
	}
	if len(o.Policies) < 2 {
		return fmt.Errorf("compare: need at least two policies, got %d", len(o.Policies))
	}
	seen := map[string]bool{}
	for _, p := range o.Policies {
		if p.Table == nil {
			return fmt.Errorf("compare: policy %q has no route table", p.Name)
		}
		if seen[p.Name] {
			return fmt.Errorf("compare: policy %q given twice (columns must differ)", p.Name)
		}
		seen[p.Name] = true
	}
	if o.Run.Source != nil {
		return errors.New("compare: a replayed source would be consumed by the first run; compare generates the scenario's traffic")
	}
	return nil
}

// Comparison is compare.json.
type Comparison struct {
	Scenario string   `json:"scenario"`
	Seed     int64    `json:"seed"`
	Payments int64    `json:"payments"`
	Policies []string `json:"policies"`
	Results  []Result `json:"results"`
	// Paired (compare --seeds N) holds each metric's difference from the
	// first policy over N seeds with its 95% interval; Results are then
	// the first seed's runs.
	Paired *Paired `json:"paired,omitempty"`
	// Attribution (compare --attribution) is written to attribution.json
	// and drawn in compare.html.
	Attribution *Attribution `json:"-"`
}

// Result is one policy's column. Rates are fractions of attempted
// payments; money is integer minor units by currency.
type Result struct {
	Policy   string           `json:"policy"`
	Source   string           `json:"source,omitempty"`
	Payments run.Payments     `json:"payments"`
	Interop  run.Interop      `json:"interop"`
	Declines map[string]int64 `json:"declines"`
	// RouteLatencyMS is the simulated latency of the routes taken.
	RouteLatencyMS run.Latency `json:"route_latency_ms"`
	// Fees by party and currency, as in summary.json: merchant (discount
	// paid), wallet (provider income), switch, fx (the FX desk's position).
	Fees map[string]map[string]int64 `json:"fees"`
	// FXMarginCNY is the FX desk's position valued at the policy's mid
	// rate, in CNY fen: what the FX margins earned.
	FXMarginCNY int64 `json:"fx_margin_cny"`
	// PnL is each institution's profit and loss in each role,
	// "institution/role" (alipay/acquirer, bank/issuer, unionpay/network,
	// netsunion/clearing, weixin/wallet, fx_desk/fx) -> currency -> minor
	// units. PnLChange is its change against the first policy (absent in
	// the first column); a key missing from one side counts as 0 there.
	PnL       map[string]map[string]int64 `json:"pnl"`
	PnLChange map[string]map[string]int64 `json:"pnl_change,omitempty"`
	// Costs are what merchants (discounts) and consumers (withdrawal fees)
	// paid, per currency; the consumers' FX margin is FXMarginCNY.
	Costs Costs `json:"costs"`
	// Flows is the net of all accounts by holder (institutions, merchants,
	// consumers, in_flight) per currency: they sum to zero.
	Flows map[string]map[string]int64 `json:"flows"`
	// NetPositions are the inter-provider positions netted over the whole
	// run; Settlement has them per settlement cycle.
	NetPositions []NetPosition  `json:"net_positions"`
	Settlement   run.Settlement `json:"settlement"`
	// FXVolume is the cross-border amount converted, by source currency.
	FXVolume map[string]int64 `json:"fx_volume"`
	// GreenEnergy is the run's green energy in Ant Forest points (not
	// CO2), with the counterfactual rule applied (run.Carbon).
	GreenEnergy run.Carbon     `json:"green_energy"`
	Invariants  run.Invariants `json:"invariants"`
	Events      run.Events     `json:"events"`
	DurationS   float64        `json:"duration_s"`
}

// Costs are merchants' and consumers' fees paid, currency -> minor units.
type Costs struct {
	Merchants map[string]int64 `json:"merchants"`
	Consumers map[string]int64 `json:"consumers"`
}

// NetPosition is the run's net between two providers in one currency,
// oriented by name (From < To) so that columns line up: a positive Net
// means From owes To, a negative one To owes From.
type NetPosition struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Currency string `json:"currency"`
	Net      int64  `json:"net"`
	Gross    int64  `json:"gross"`
}

// Run runs the scenario under each policy in turn and compares them.
func Run(ctx context.Context, o Options) (*Comparison, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	c := &Comparison{Scenario: o.Scenario.Name, Seed: o.Scenario.Seed}
	for i, p := range o.Policies {
		ro := o.Run
		ro.Scenario, ro.Policy, ro.PolicyName, ro.Fresh = o.Scenario, p.Table, p.Name, true
		res, err := run.Run(ctx, ro)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", p.Name, err)
		}
		if o.OnRun != nil {
			o.OnRun(i, p, res)
		}
		c.Policies = append(c.Policies, p.Name)
		c.Results = append(c.Results, FromSummary(p, res.Summary))
	}
	for i := 1; i < len(c.Results); i++ {
		c.Results[i].PnLChange = pnlChange(c.Results[0].PnL, c.Results[i].PnL)
	}
	c.Payments = c.Results[0].Payments.Attempted
	for _, r := range c.Results[1:] {
		if r.Payments.Attempted != c.Payments {
			return nil, fmt.Errorf("policy %s saw %d payments, %s %d: the traffic differed", r.Policy, r.Payments.Attempted, c.Policies[0], c.Payments)
		}
	}
	return c, nil
}

// FromSummary builds a policy's column from its run summary.
func FromSummary(p Policy, s *run.Summary) Result {
	r := Result{
		Policy: p.Name, Source: p.Source, Payments: s.Payments, Interop: s.Interop,
		Declines: nonNil(s.Declines), RouteLatencyMS: s.RouteLatMS, Fees: s.Fees, FXVolume: nonNil(s.FXVolume),
		Settlement: s.Settlement, GreenEnergy: s.Carbon, Invariants: s.Invariants, Events: s.Events,
		DurationS: s.DurationS,
	}
	if r.Fees == nil {
		r.Fees = map[string]map[string]int64{}
	}
	if r.Settlement.Positions == nil {
		r.Settlement.Positions = []audit.Position{}
	}
	r.PnL, r.Flows = nonNil2(s.PnL), nonNil2(s.Flows)
	r.Costs = Costs{Merchants: nonNil(s.Fees["merchant"]), Consumers: nonNil(s.Fees["consumer"])}
	r.NetPositions = netPositions(s.Settlement)
	r.FXMarginCNY = fxMargin(s.Fees["fx"], p.Table)
	return r
}

func nonNil2(m map[string]map[string]int64) map[string]map[string]int64 {
	if m == nil {
		return map[string]map[string]int64{}
	}
	return m
}

// pnlChange is b - a per key and currency over the union of both.
func pnlChange(a, b map[string]map[string]int64) map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	add := func(m map[string]map[string]int64, sign int64) {
		for k, byCur := range m {
			for cur, v := range byCur {
				if out[k] == nil {
					out[k] = map[string]int64{}
				}
				out[k][cur] += sign * v
			}
		}
	}
	add(b, 1)
	add(a, -1)
	return out
}

func nonNil(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

// netPositions folds the per-cycle positions into one net per pair.
func netPositions(s run.Settlement) []NetPosition {
	type key struct{ from, to, cur string }
	sums := map[key]*NetPosition{}
	for _, p := range s.Positions {
		k, sign := key{p.From, p.To, p.Currency}, int64(1)
		if k.from > k.to {
			k.from, k.to, sign = k.to, k.from, -1
		}
		n := sums[k]
		if n == nil {
			n = &NetPosition{From: k.from, To: k.to, Currency: k.cur}
			sums[k] = n
		}
		n.Net += sign * p.Net
		n.Gross += p.Gross
	}
	out := make([]NetPosition, 0, len(sums))
	for _, n := range sums {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Currency != b.Currency {
			return a.Currency < b.Currency
		}
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	return out
}

// fxMargin values the FX desk's positions at the policy's mid rates, in
// CNY: the desk bought at the customer rate (mid less the margin), so at
// mid it holds the margin. Integer arithmetic, rounding down.
func fxMargin(pos map[string]int64, t *route.Table) int64 {
	var total int64
	for name, v := range pos {
		cur, err := sim.ParseCurrency(name)
		if err != nil {
			continue
		}
		if cur == sim.CNY {
			total += v
			continue
		}
		rate, ok := t.Rate(cur, sim.CNY)
		if !ok {
			continue
		}
		// Convert rounds toward zero; a short position is valued the same
		// way as a long one.
		if v < 0 {
			total -= sim.Convert(-v, rate)
		} else {
			total += sim.Convert(v, rate)
		}
	}
	return total
}

// WriteJSON writes the comparison to dir/compare.json.
func (c *Comparison) WriteJSON(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "compare.json")
	return p, os.WriteFile(p, append(b, '\n'), 0o644)
}

// InvariantsOK reports whether every run kept every invariant.
func (c *Comparison) InvariantsOK() bool {
	if c.Paired != nil && !c.Paired.InvariantsOK() {
		return false
	}
	for _, r := range c.Results {
		if !r.Invariants.OK() {
			return false
		}
	}
	return true
}

// Violations names the policies whose runs broke an invariant.
func (c *Comparison) Violations() string {
	var bad []string
	for _, r := range c.Results {
		if !r.Invariants.OK() {
			bad = append(bad, r.Policy)
		}
	}
	if c.Paired != nil {
		for _, r := range c.Paired.Runs {
			if !r.InvariantsOK && r.Seed != c.Seed {
				bad = append(bad, fmt.Sprintf("%s (seed %d)", r.Policy, r.Seed))
			}
		}
	}
	return strings.Join(bad, ", ")
}
