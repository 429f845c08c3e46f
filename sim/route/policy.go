package route

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/walletsim/walletsim/sim"
)

// Policy is an interoperability policy as data: the YAML files under
// scenarios/policies decode into it. Rules are matched in order; the first
// rule that matches a (channel, payer, acceptor, regions) cell decides it.
type Policy struct {
	Name        string               `mapstructure:"name"`
	Description string               `mapstructure:"description"`
	Era         string               `mapstructure:"era"`
	Routes      map[string]RouteSpec `mapstructure:"routes"` // named clearing routes
	Rules       []Rule               `mapstructure:"rules"`
	// FX mid rates, e.g. {"HKD/CNY": 0.914}; the reverse pair is derived
	// when absent.
	FX         map[string]float64 `mapstructure:"fx"`
	Settlement SettlementSpec     `mapstructure:"settlement"`
}

// SettlementSpec says how often providers settle their net positions.
type SettlementSpec struct {
	// Cycle is a duration of whole minutes ("24h", "2h"); cycles are
	// aligned to midnight China Standard Time. Empty: DefaultSettleCycle.
	Cycle string `mapstructure:"cycle"`
}

// DefaultSettleCycle is one settlement a day [A]: the simplest reading of
// T+1 net settlement between payment institutions.
const DefaultSettleCycle = 24 * time.Hour

// RouteSpec is a named clearing route.
type RouteSpec struct {
	Clearing   string `mapstructure:"clearing"`
	Hops       []Hop  `mapstructure:"hops"`
	SwitchCBPS int64  `mapstructure:"switch_fee_cbps"`
}

// Rule accepts a set of payers at a set of acceptors through a route.
type Rule struct {
	// ID names the rule in coverage and attribution reports; empty takes
	// its position, "rules[3]". Give one to keep a rule's name when rules
	// are inserted above it.
	ID           string   `mapstructure:"id"`
	Channel      string   `mapstructure:"channel"`
	Payers       []string `mapstructure:"payers"`        // provider names; "*" = all
	PayerRegions []string `mapstructure:"payer_regions"` // empty = all
	Acceptors    []string `mapstructure:"acceptors"`     // code schemes / scanner networks / operators / payee providers; "*" = all
	Regions      []string `mapstructure:"regions"`       // acceptor (merchant, operator, payee) regions; empty = all
	Route        string   `mapstructure:"route"`         // a key of Policy.Routes
	MDRBPS       int64    `mapstructure:"mdr_bps"`
	FXMarginBPS  int64    `mapstructure:"fx_margin_bps"`
	MaxAmount    int64    `mapstructure:"max_amount"`   // minor units of the payer's currency; 0 = none
	ReceiverApp  string   `mapstructure:"receiver_app"` // transfers: the app the payee must scan with
	Deny         bool     `mapstructure:"deny"`         // an explicit "no" that stops later rules matching
	Note         string   `mapstructure:"note"`         // the calibration row the rule stands on
	// Rollout, when set, limits the rule to the share of payer wallets and
	// of merchants (their codes or scanners) the step had reached by the
	// policy's date: WeChat and QuickPass scanned each other's codes in the
	// provincial capitals first (2021), 23 and later about 30 bank apps
	// took part, the 2022 transfer pilot was open to selected senders
	// only. Outside the rollout the cell falls through to later rules.
	Rollout *Rollout `mapstructure:"rollout"`
}

// Rollout is the reach of one step as data. A share omitted is 1 (all).
// Wallets and merchants are ordered once, by Rank (a hash of the seed and
// their ID), and a step reaching share s takes the first s of them: a later
// era that widens the share keeps everyone the earlier one reached, so
// acceptance cannot fall when a rollout grows.
type Rollout struct {
	Wallets   *float64 `mapstructure:"wallets"`
	Merchants *float64 `mapstructure:"merchants"`
}

// maxHops bounds a route's legs; events record the count in a byte.
const maxHops = 16

// Compile checks the policy and builds its lookup table. Errors name the
// YAML key (routes.on_us.hops, rules[3].payers) so a bad file can be fixed
// without guessing; routes are checked in name order so the first error
// reported is the same on every run.
func Compile(p *Policy) (*Table, error) {
	if p.Name == "" {
		return nil, errors.New("name: empty")
	}
	t := &Table{Name: p.Name, Routes: []Route{{}}, SettleCycleMS: DefaultSettleCycle.Milliseconds()}
	if p.Settlement.Cycle != "" {
		d, err := time.ParseDuration(p.Settlement.Cycle)
		if err != nil || d < time.Minute || d > 7*24*time.Hour || d%time.Minute != 0 {
			return nil, fmt.Errorf("settlement.cycle: %q is not a whole number of minutes between 1m and 168h", p.Settlement.Cycle)
		}
		t.SettleCycleMS = d.Milliseconds()
	}
	// The YAML loader lowercases map keys, so route names match without
	// regard to case.
	routeByName := map[string]RouteSpec{}
	names := make([]string, 0, len(p.Routes))
	for name := range p.Routes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rs := p.Routes[name]
		if len(rs.Hops) == 0 {
			return nil, fmt.Errorf("routes.%s.hops: a route needs at least one hop", name)
		}
		if len(rs.Hops) > maxHops {
			return nil, fmt.Errorf("routes.%s.hops: %d hops, at most %d", name, len(rs.Hops), maxHops)
		}
		if _, err := ParseClearing(rs.Clearing); err != nil {
			return nil, fmt.Errorf("routes.%s.clearing: %w", name, err)
		}
		if rs.SwitchCBPS < 0 || rs.SwitchCBPS > 1_000_000 {
			return nil, fmt.Errorf("routes.%s.switch_fee_cbps: fee %d out of range 0-1000000 (negative fees are not allowed)", name, rs.SwitchCBPS)
		}
		for i, h := range rs.Hops {
			if h.Name == "" {
				return nil, fmt.Errorf("routes.%s.hops[%d].name: empty", name, i)
			}
			if !(h.LatencyMedian >= 0) || h.LatencyMedian > 600_000 {
				return nil, fmt.Errorf("routes.%s.hops[%d].latency_ms: %v out of range 0-600000", name, i, h.LatencyMedian)
			}
			if !(h.LatencySigma >= 0) || h.LatencySigma > 10 {
				return nil, fmt.Errorf("routes.%s.hops[%d].sigma: %v out of range 0-10", name, i, h.LatencySigma)
			}
		}
		routeByName[strings.ToLower(name)] = rs
	}
	pairs := make([]string, 0, len(p.FX))
	for pair := range p.FX {
		pairs = append(pairs, pair)
	}
	sort.Strings(pairs)
	for _, pair := range pairs {
		rate := p.FX[pair]
		from, to, err := parsePair(pair)
		if err != nil {
			return nil, fmt.Errorf("fx.%s: %w", pair, err)
		}
		// Bounded so that no conversion of an accepted amount overflows
		// (sim.MinRate, sim.MaxRate; the reverse pair stays inside too).
		if !(rate >= 0.001) || rate > 1000 {
			return nil, fmt.Errorf("fx.%s: rate %v out of range 0.001-1000", pair, rate)
		}
		t.Rates[from][to] = int64(rate*sim.RateScale + 0.5)
	}
	for from := sim.Currency(1); from < sim.NumCurrencies; from++ {
		for to := sim.Currency(1); to < sim.NumCurrencies; to++ {
			if from != to && t.Rates[from][to] == 0 && t.Rates[to][from] > 0 {
				t.Rates[from][to] = sim.RateScale * sim.RateScale / t.Rates[to][from]
			}
		}
	}
	ids := map[string]int{}
	for i, r := range p.Rules {
		id, err := ruleID(i, r.ID)
		if err != nil {
			return nil, fmt.Errorf("rules[%d].id: %w", i, err)
		}
		if j, dup := ids[id]; dup {
			return nil, fmt.Errorf("rules[%d].id: %q is already the id of rules[%d]", i, id, j)
		}
		ids[id] = i
		t.Rules = append(t.Rules, RuleRef{ID: id, Channel: r.Channel, Route: strings.ToLower(r.Route), Deny: r.Deny, Note: r.Note})
	}
	chains := make([][]link, int(NumChannels)*int(sim.NumProviders)*int(sim.NumRegions)*int(sim.NumRegions)*numAcceptors)
	closed := make([]bool, len(chains))
	// One Route per (rule, clearing) so that fees and caps travel with it.
	for i, r := range p.Rules {
		where := fmt.Sprintf("rules[%d]", i)
		ch, err := ParseChannel(r.Channel)
		if err != nil {
			return nil, fmt.Errorf("%s.channel: %w", where, err)
		}
		if r.MDRBPS < 0 || r.MDRBPS > 10_000 {
			return nil, fmt.Errorf("%s.mdr_bps: fee %d out of range 0-10000 (negative fees are not allowed)", where, r.MDRBPS)
		}
		if r.FXMarginBPS < 0 || r.FXMarginBPS > sim.MaxFXMarginBPS {
			return nil, fmt.Errorf("%s.fx_margin_bps: fee %d out of range 0-%d (negative fees are not allowed; a margin of half the rate is the most)", where, r.FXMarginBPS, sim.MaxFXMarginBPS)
		}
		if r.MaxAmount < 0 {
			return nil, fmt.Errorf("%s.max_amount: negative amount %d", where, r.MaxAmount)
		}
		payers, err := providerSet(r.Payers)
		if err != nil {
			return nil, fmt.Errorf("%s.payers: %w", where, err)
		}
		pRegions, err := regionSet(r.PayerRegions)
		if err != nil {
			return nil, fmt.Errorf("%s.payer_regions: %w", where, err)
		}
		aRegions, err := regionSet(r.Regions)
		if err != nil {
			return nil, fmt.Errorf("%s.regions: %w", where, err)
		}
		accs, err := acceptorSet(ch, r.Acceptors)
		if err != nil {
			return nil, fmt.Errorf("%s.acceptors: %w", where, err)
		}
		var app sim.Provider
		if r.ReceiverApp != "" {
			if ch != Transfer {
				return nil, fmt.Errorf("%s.receiver_app: only transfer rules have a receiver", where)
			}
			if app, err = sim.ParseProvider(r.ReceiverApp); err != nil {
				return nil, fmt.Errorf("%s.receiver_app: %w", where, err)
			}
			// The receiver scans the sender's code with the sender's app
			// and the money lands in their wallet of it: only senders of
			// that app can use such a rule.
			for _, pp := range payers {
				if pp != app {
					return nil, fmt.Errorf("%s.receiver_app: %s receivers scan with the sender's app, so payers must be [%s], not %s", where, app, app, pp)
				}
			}
		}
		reach, err := rolloutReach(r.Rollout)
		if err != nil {
			return nil, fmt.Errorf("%s.rollout.%w", where, err)
		}
		var id uint16
		if r.Deny {
			if r.Route != "" {
				return nil, fmt.Errorf("%s.route: a deny rule takes no route", where)
			}
		} else {
			if r.Route == "" {
				return nil, fmt.Errorf("%s.route: empty (name one of routes, or set deny: true)", where)
			}
			rs, ok := routeByName[strings.ToLower(r.Route)]
			if !ok {
				return nil, fmt.Errorf("%s.route: unknown route %q (routes: %s)", where, r.Route, strings.Join(names, ", "))
			}
			cl, _ := ParseClearing(rs.Clearing)
			if cl == CrossBorder && len(p.FX) == 0 {
				return nil, fmt.Errorf("%s.route: %q converts currency but the policy has no fx rates", where, r.Route)
			}
			if len(t.Routes) >= 1<<16-1 {
				return nil, fmt.Errorf("%s: too many routes", where)
			}
			id = uint16(len(t.Routes))
			t.Routes = append(t.Routes, Route{
				ID: id, Name: strings.ToLower(r.Route), Clearing: cl, Hops: rs.Hops, NHops: uint8(len(rs.Hops)),
				MDRBPS: r.MDRBPS, ChargesMerchant: r.MDRBPS > 0, SwitchCBPS: rs.SwitchCBPS, FXMarginBPS: r.FXMarginBPS,
				FX: cl == CrossBorder, MaxAmount: r.MaxAmount, ReceiverApp: app, Rule: i,
			})
		}
		for _, pp := range payers {
			for _, pr := range pRegions {
				for _, ar := range aRegions {
					for _, a := range accs {
						if a == selfAcceptor {
							a = uint8(pp)
						}
						// First matching rule wins, a Deny included; a
						// rule with a partial rollout decides only the
						// wallets and merchants it reaches, so the cell
						// keeps listening to later rules for the rest.
						if k := key(ch, pp, pr, ar, a); !closed[k] {
							reach.route = id
							chains[k] = append(chains[k], reach)
							closed[k] = reach.full()
						}
					}
				}
			}
		}
	}
	t.flatten(chains)
	return t, nil
}

// rolloutReach turns a rule's rollout into thresholds on Rank.
func rolloutReach(r *Rollout) (link, error) {
	l := link{wallets: fullReach, merchants: fullReach}
	if r == nil {
		return l, nil
	}
	for _, f := range []struct {
		name string
		v    *float64
		out  *uint32
	}{{"wallets", r.Wallets, &l.wallets}, {"merchants", r.Merchants, &l.merchants}} {
		if f.v == nil {
			continue
		}
		if !(*f.v > 0 && *f.v <= 1) {
			return l, fmt.Errorf("%s: share %v must be within (0, 1]", f.name, *f.v)
		}
		*f.out = uint32(math.Round(*f.v * fullReach))
	}
	return l, nil
}

// flatten lays every cell's chain end to end in t.links.
func (t *Table) flatten(chains [][]link) {
	t.links = []link{{}}
	k := 0
	for ch := range t.cells {
		for p := range t.cells[ch] {
			for pr := range t.cells[ch][p] {
				for ar := range t.cells[ch][p][pr] {
					for a := range t.cells[ch][p][pr][ar] {
						if c := chains[k]; len(c) > 0 {
							t.cells[ch][p][pr][ar][a] = cell{start: uint32(len(t.links)), n: uint8(min(len(c), 255))}
							t.links = append(t.links, c[:min(len(c), 255)]...)
						}
						k++
					}
				}
			}
		}
	}
}

// ruleID is a rule's stable name: its id key, or its position.
func ruleID(i int, id string) (string, error) {
	if id == "" {
		return fmt.Sprintf("rules[%d]", i), nil
	}
	if len(id) > 64 {
		return "", fmt.Errorf("%q is longer than 64 characters", id)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "", fmt.Errorf("%q: use letters, digits, '_', '-' and '.'", id)
		}
	}
	return id, nil
}

func key(ch Channel, p sim.Provider, pr, ar sim.Region, a uint8) int {
	return (((int(ch)*int(sim.NumProviders)+int(p))*int(sim.NumRegions)+int(pr))*int(sim.NumRegions)+int(ar))*numAcceptors + int(a)
}

// cost orders routes for the multi-code choice: on-us before switched, then
// lower merchant fee, then fewer hops, then lower ID (stable).
func (t *Table) cost(id uint16) (int, int64, int, uint16) {
	r := &t.Routes[id]
	onus := 1
	if r.Clearing == OnUs {
		onus = 0
	}
	return onus, r.MDRBPS + r.FXMarginBPS, len(r.Hops), id
}

func (t *Table) better(a, b uint16) bool {
	if b == 0 {
		return true
	}
	a1, a2, a3, a4 := t.cost(a)
	b1, b2, b3, b4 := t.cost(b)
	if a1 != b1 {
		return a1 < b1
	}
	if a2 != b2 {
		return a2 < b2
	}
	if a3 != b3 {
		return a3 < b3
	}
	return a4 < b4
}

func parsePair(s string) (sim.Currency, sim.Currency, error) {
	if len(s) != 7 || s[3] != '/' {
		return 0, 0, fmt.Errorf("want FROM/TO like HKD/CNY")
	}
	from, err := sim.ParseCurrency(s[:3])
	if err != nil {
		return 0, 0, err
	}
	to, err := sim.ParseCurrency(s[4:])
	if err != nil {
		return 0, 0, err
	}
	if from == to {
		return 0, 0, fmt.Errorf("same currency on both sides")
	}
	return from, to, nil
}

func providerSet(names []string) ([]sim.Provider, error) {
	if len(names) == 0 {
		return nil, errors.New("empty: name providers or \"*\"")
	}
	var out []sim.Provider
	for _, n := range names {
		if n == "*" {
			return sim.Providers(), nil
		}
		p, err := sim.ParseProvider(n)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func regionSet(names []string) ([]sim.Region, error) {
	if len(names) == 0 {
		return sim.Regions(), nil
	}
	var out []sim.Region
	for _, n := range names {
		r, err := sim.ParseRegion(n)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// selfAcceptor stands for "the payer's own provider" in a rule.
const selfAcceptor = 255

func acceptorSet(ch Channel, names []string) ([]uint8, error) {
	if len(names) == 0 {
		return nil, errors.New("empty: name acceptors or \"*\"")
	}
	var out []uint8
	for _, n := range names {
		if ch == Gate {
			if n == "*" {
				out = out[:0]
				for _, o := range sim.Operators() {
					out = append(out, uint8(o))
				}
				return out, nil
			}
			o, err := sim.ParseOperator(n)
			if err != nil {
				return nil, err
			}
			out = append(out, uint8(o))
			continue
		}
		if n == "self" {
			out = append(out, selfAcceptor)
			continue
		}
		if n == "*" {
			out = out[:0]
			for _, p := range sim.Providers() {
				out = append(out, uint8(p))
			}
			return out, nil
		}
		p, err := sim.ParseProvider(n)
		if err != nil {
			return nil, err
		}
		out = append(out, uint8(p))
	}
	return out, nil
}
