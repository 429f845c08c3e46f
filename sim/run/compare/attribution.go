package compare

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/report/html"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Attribution is attribution.json: for two policies on the same seed,
// every payment whose outcome differs, attributed to the rules that
// decided it on each side. The per-payment outcomes come from the
// in-memory ledger, whose events are the engine's (sim/simtest proves it),
// so the two policies' whole traffic is replayed in seconds; Check ties
// the totals to the real runs of the comparison.
type Attribution struct {
	Scenario string `json:"scenario"`
	Seed     int64  `json:"seed"`
	Payments int64  `json:"payments"`
	A        string `json:"a"`
	B        string `json:"b"`
	// SucceededA and SucceededB are the payments that succeeded under
	// each policy.
	SucceededA int64 `json:"succeeded_a"`
	SucceededB int64 `json:"succeeded_b"`
	// Gained: declined under A, succeeded under B; Lost: the reverse.
	// Gained - Lost = SucceededB - SucceededA, always.
	Gained int64 `json:"gained"`
	Lost   int64 `json:"lost"`
	Net    int64 `json:"net"`
	// Rerouted succeeded under both through a different route or on
	// different terms (fees, caps); rule positions alone differing is not
	// a change, since rules[i] of one policy is not rules[i] of another. Reason
	// changed were declined under both for different reasons.
	Rerouted      int64 `json:"rerouted"`
	ReasonChanged int64 `json:"reason_changed"`
	// Changes group the differing payments by what decided them on each
	// side, largest first.
	Changes []Change `json:"changes"`
	// Breakdowns of gained and lost payments.
	ByKind         []Breakdown `json:"by_kind"`
	ByDirection    []Breakdown `json:"by_direction"`
	ByProvider     []Breakdown `json:"by_provider"`
	ByMerchantSize []Breakdown `json:"by_merchant_size"`
	// MerchantSizes says what the merchant size buckets are.
	MerchantSizes string `json:"merchant_sizes"`
	// Rules are the rules the changes cite, with the calibration row each
	// stands on.
	Rules []CitedRule `json:"rules"`
	// Merchants (scan payees) and Consumers whose succeeded payments rose
	// or fell from A to B.
	Merchants Shares `json:"merchants"`
	Consumers Shares `json:"consumers"`
}

// CitedRule is a rule named by a change.
type CitedRule struct {
	Policy string `json:"policy"`
	Rule   string `json:"rule"`
	Route  string `json:"route,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Side is how one policy decided a payment.
type Side struct {
	// Rule is the policy rule's ID ("rules[3]" or its id key), "none"
	// when no rule accepts the payment for any of the consumer's wallets.
	Rule  string `json:"rule"`
	Route string `json:"route,omitempty"`
	// Outcome is "succeeded" or the decline reason.
	Outcome string `json:"outcome"`
}

// Change is one group of payments decided alike.
type Change struct {
	Effect string           `json:"effect"` // gained, lost, rerouted, reason_changed
	A      Side             `json:"a"`
	B      Side             `json:"b"`
	Count  int64            `json:"count"`
	ByKind map[string]int64 `json:"by_kind"`
}

// Breakdown is gained and lost payments of one kind, direction, provider
// or merchant size.
type Breakdown struct {
	Key      string `json:"key"`
	Payments int64  `json:"payments"`
	Gained   int64  `json:"gained"`
	Lost     int64  `json:"lost"`
	Net      int64  `json:"net"`
}

// Shares counts parties whose succeeded payments rose or fell.
type Shares struct {
	Total     int64   `json:"total"` // parties with at least one payment
	Rose      int64   `json:"rose"`
	Fell      int64   `json:"fell"`
	RoseShare float64 `json:"rose_share"`
	FellShare float64 `json:"fell_share"`
}

// payment is what attribution keeps of a generated payment.
type payment struct {
	cmd     event.Command
	outcome [2]outcome
}

type outcome struct {
	done      bool
	succeeded bool
	reason    sim.Reason
	route     uint16
	attempt   uint8
}

// Outcomes collects what attribution needs from two runs of the same
// traffic: the payments (from the first run's commands) and each
// payment's outcome under each side. Payments whose command it never saw
// (generated before a fork) are ignored.
type Outcomes struct {
	pays  map[uint64]*payment
	order []uint64
}

// NewOutcomes returns an empty collection.
func NewOutcomes() *Outcomes { return &Outcomes{pays: map[uint64]*payment{}} }

// Command records a generated payment (other commands are ignored).
func (o *Outcomes) Command(c *event.Command) {
	if c.Type != event.CmdPay {
		return
	}
	if _, dup := o.pays[c.ID]; !dup {
		o.pays[c.ID] = &payment{cmd: *c}
		o.order = append(o.order, c.ID)
	}
}

// Event records side's (0 or 1) outcome of a payment.
func (o *Outcomes) Event(side int, e *event.Event) {
	if side < 0 || side > 1 || !e.Type.IsOutcome() || !e.Kind.IsPayment() {
		return
	}
	pay := o.pays[e.Command]
	if pay == nil || pay.outcome[side].done {
		return
	}
	pay.outcome[side] = outcome{done: true, succeeded: e.Type.Succeeded(), reason: e.Reason, route: e.Route, attempt: e.Attempt}
}

// Attribute replays the scenario's traffic in memory under a and b and
// attributes every payment whose outcome differs.
func Attribute(sc *scenario.Compiled, a, b Policy) (*Attribution, error) {
	if a.Table == nil || b.Table == nil {
		return nil, fmt.Errorf("attribution: a policy has no route table")
	}
	o := NewOutcomes()
	var pop *gen.Population
	for side, p := range []Policy{a, b} {
		g := gen.New(sc)
		pop = g.Pop
		parts := sc.Partitions
		if parts <= 0 {
			parts = 8
		}
		m := ledger.Memory{Routes: p.Table, Parts: parts, Seed: uint64(sc.Seed), Clock: g.Clock,
			OnCommand: func(c *event.Command) {
				if side == 0 {
					o.Command(c)
				}
			},
			OnEvent: func(e *event.Event) { o.Event(side, e) }}
		if err := m.Run(g); err != nil {
			return nil, fmt.Errorf("attribution: policy %s: %w", p.Name, err)
		}
	}
	return o.Attribute(sc.Name, sc.Seed, pop, a, b)
}

// Attribute attributes the collected payments whose outcome differs
// between side 0 (policy a) and side 1 (policy b).
func (o *Outcomes) Attribute(scenarioName string, seed int64, pop *gen.Population, a, b Policy) (*Attribution, error) {
	pays, order := o.pays, o.order
	at := &Attribution{Scenario: scenarioName, Seed: seed, Payments: int64(len(order)), A: a.Name, B: b.Name}
	sizeOf, sizes := merchantSizes(pays)
	at.MerchantSizes = sizes
	type changeKey struct {
		effect string
		a, b   Side
	}
	changes := map[changeKey]*Change{}
	dims := []map[string]*Breakdown{{}, {}, {}, {}}
	merchant := map[uint64]int64{} // succeeded B - succeeded A
	consumer := map[uint32]int64{} // by consumer
	merchSeen := map[uint64]bool{}
	consSeen := map[uint32]bool{}
	tables := [2]*route.Table{a.Table, b.Table}
	for _, id := range order {
		p := pays[id]
		oa, ob := p.outcome[0], p.outcome[1]
		if !oa.done || !ob.done {
			return nil, fmt.Errorf("attribution: payment %d has no outcome under %s", id, map[bool]string{true: a.Name, false: b.Name}[!oa.done])
		}
		w, _ := pop.Wallet(p.cmd.Wallet)
		if oa.succeeded {
			at.SucceededA++
		}
		if ob.succeeded {
			at.SucceededB++
		}
		delta := int64(0)
		if ob.succeeded && !oa.succeeded {
			delta = 1
		} else if oa.succeeded && !ob.succeeded {
			delta = -1
		}
		isScan := p.cmd.Kind == sim.ScanMPM || p.cmd.Kind == sim.ScanCPM
		if isScan {
			merchSeen[p.cmd.Counterparty] = true
			merchant[p.cmd.Counterparty] += delta
		}
		consSeen[w.Consumer] = true
		consumer[w.Consumer] += delta
		keys := []string{p.cmd.Kind.String(), direction(w.Region, p.cmd.AccRegion), w.Provider.String(), sizeOf(&p.cmd)}
		for i, k := range keys {
			bd := dims[i][k]
			if bd == nil {
				bd = &Breakdown{Key: k}
				dims[i][k] = bd
			}
			bd.Payments++
			switch delta {
			case 1:
				bd.Gained++
			case -1:
				bd.Lost++
			}
		}
		sa, sb := side(tables[0], pop, &p.cmd, oa), side(tables[1], pop, &p.cmd, ob)
		effect := ""
		switch {
		case delta == 1:
			effect = "gained"
			at.Gained++
		case delta == -1:
			effect = "lost"
			at.Lost++
		case oa.succeeded && !sameTerms(tables[0], oa.route, tables[1], ob.route):
			effect = "rerouted"
			at.Rerouted++
		case !oa.succeeded && oa.reason != ob.reason:
			effect = "reason_changed"
			at.ReasonChanged++
		default:
			continue
		}
		k := changeKey{effect, sa, sb}
		ch := changes[k]
		if ch == nil {
			ch = &Change{Effect: effect, A: sa, B: sb, ByKind: map[string]int64{}}
			changes[k] = ch
		}
		ch.Count++
		ch.ByKind[p.cmd.Kind.String()]++
	}
	at.Net = at.Gained - at.Lost
	cited := map[[2]string]bool{}
	cite := func(pi int, s Side) {
		k := [2]string{[]string{a.Name, b.Name}[pi], s.Rule}
		if s.Rule == "none" || cited[k] {
			return
		}
		cited[k] = true
		for _, r := range tables[pi].Rules {
			if r.ID == s.Rule {
				at.Rules = append(at.Rules, CitedRule{Policy: k[0], Rule: r.ID, Route: r.Route, Note: r.Note})
			}
		}
	}
	for _, ch := range changes {
		at.Changes = append(at.Changes, *ch)
		cite(0, ch.A)
		cite(1, ch.B)
	}
	sort.Slice(at.Rules, func(i, j int) bool {
		x, y := at.Rules[i], at.Rules[j]
		if x.Policy != y.Policy {
			return x.Policy == a.Name
		}
		return x.Rule < y.Rule
	})
	effectOrder := map[string]int{"gained": 0, "lost": 1, "rerouted": 2, "reason_changed": 3}
	sort.Slice(at.Changes, func(i, j int) bool {
		x, y := at.Changes[i], at.Changes[j]
		if x.Effect != y.Effect {
			return effectOrder[x.Effect] < effectOrder[y.Effect]
		}
		if x.Count != y.Count {
			return x.Count > y.Count
		}
		return fmt.Sprint(x.A, x.B) < fmt.Sprint(y.A, y.B)
	})
	out := []*[]Breakdown{&at.ByKind, &at.ByDirection, &at.ByProvider, &at.ByMerchantSize}
	for i, d := range dims {
		for _, bd := range d {
			bd.Net = bd.Gained - bd.Lost
			*out[i] = append(*out[i], *bd)
		}
		sort.Slice(*out[i], func(x, y int) bool { return (*out[i])[x].Key < (*out[i])[y].Key })
	}
	at.Merchants = shares(merchant, len(merchSeen))
	at.Consumers = shares(consumer, len(consSeen))
	return at, nil
}

func shares[K comparable](delta map[K]int64, total int) Shares {
	s := Shares{Total: int64(total)}
	for _, d := range delta {
		switch {
		case d > 0:
			s.Rose++
		case d < 0:
			s.Fell++
		}
	}
	if total > 0 {
		s.RoseShare, s.FellShare = float64(s.Rose)/float64(total), float64(s.Fell)/float64(total)
	}
	return s
}

// side names the rule and route that decided a payment under one policy.
// A success names the route it took. A decline names the route of the
// last wallet that had one (it could pay there but did not: funds,
// limits, a route's cap), or "none" when no wallet had one.
func side(t *route.Table, pop *gen.Population, c *event.Command, o outcome) Side {
	s := Side{Rule: "none", Outcome: "succeeded"}
	if !o.succeeded {
		s.Outcome = o.reason.String()
	}
	id := o.route
	if id == 0 && !o.succeeded {
		for k := int(min(o.attempt, c.NCandidates-1)); k >= 0; k-- {
			cand := c.Candidates[k]
			if c.NCandidates == 0 {
				cand = c.Wallet
			}
			w, ok := pop.Wallet(cand)
			if !ok {
				continue
			}
			cc := *c
			cc.Wallet, cc.Attempt = cand, uint8(k)
			if r, _ := ledger.Decide(t, &cc, w.Provider, w.Region); r != nil {
				id = r.ID
				break
			}
		}
	}
	if id != 0 && int(id) < len(t.Routes) {
		s.Route = t.Routes[id].Name
		if rr := t.RuleOf(id); rr != nil {
			s.Rule = rr.ID
		}
	}
	return s
}

// sameTerms reports whether two routes of two policies are the same
// decision: the same clearing, hops, fees, cap and receiver condition.
func sameTerms(ta *route.Table, a uint16, tb *route.Table, b uint16) bool {
	if int(a) >= len(ta.Routes) || int(b) >= len(tb.Routes) {
		return false
	}
	ra, rb := ta.Routes[a], tb.Routes[b]
	ra.ID, rb.ID, ra.Rule, rb.Rule = 0, 0, 0, 0
	return reflect.DeepEqual(ra, rb)
}

func direction(payer, acceptor sim.Region) string {
	if payer == acceptor {
		return "domestic " + payer.String()
	}
	return payer.String() + "→" + acceptor.String()
}

// merchantSizes buckets scan merchants by the scan payments they receive
// in the run (the population has no size of its own): the smallest third,
// the middle third and the largest third of merchants.
func merchantSizes(pays map[uint64]*payment) (func(c *event.Command) string, string) {
	count := map[uint64]int{}
	for _, p := range pays {
		if p.cmd.Kind == sim.ScanMPM || p.cmd.Kind == sim.ScanCPM {
			count[p.cmd.Counterparty]++
		}
	}
	ns := make([]int, 0, len(count))
	for _, n := range count {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	lo, hi := 0, 0
	if len(ns) > 0 {
		lo, hi = ns[len(ns)/3], ns[2*len(ns)/3]
	}
	small, medium, large := fmt.Sprintf("small (<= %d payments)", lo), fmt.Sprintf("medium (%d-%d)", lo+1, hi), fmt.Sprintf("large (> %d)", hi)
	if hi <= lo {
		medium = large
	}
	desc := fmt.Sprintf("scan merchants by scan payments received in the run: small <= %d, medium <= %d, large > %d (terciles of %d merchants)", lo, hi, hi, len(ns))
	return func(c *event.Command) string {
		if c.Kind != sim.ScanMPM && c.Kind != sim.ScanCPM {
			return "no merchant (" + c.Kind.String() + ")"
		}
		n := count[c.Counterparty]
		switch {
		case n <= lo:
			return small
		case n <= hi:
			return medium
		}
		return large
	}, desc
}

// Check ties the attribution to the real runs of the comparison: the same
// payments, and the same number succeeded under each policy. A mismatch
// means the in-memory ledger and the engine disagree, and the attribution
// would explain something other than what the runs measured.
func (at *Attribution) Check(c *Comparison) error {
	if len(c.Results) < 2 {
		return fmt.Errorf("attribution: the comparison has %d results", len(c.Results))
	}
	ra, rb := c.Results[0], c.Results[1]
	if ra.Policy != at.A || rb.Policy != at.B || c.Seed != at.Seed {
		return fmt.Errorf("attribution of %s/%s seed %d against a comparison of %s/%s seed %d", at.A, at.B, at.Seed, ra.Policy, rb.Policy, c.Seed)
	}
	if at.Payments != ra.Payments.Attempted || at.SucceededA != ra.Payments.Succeeded || at.SucceededB != rb.Payments.Succeeded {
		return fmt.Errorf("attribution (in memory) found %d payments, %d and %d succeeded; the runs on Kafka %d, %d and %d: the ledger and the engine disagree",
			at.Payments, at.SucceededA, at.SucceededB, ra.Payments.Attempted, ra.Payments.Succeeded, rb.Payments.Succeeded)
	}
	return nil
}

// WriteJSON writes dir/attribution.json.
func (at *Attribution) WriteJSON(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(at, "", "  ")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "attribution.json")
	return p, os.WriteFile(p, append(b, '\n'), 0o644)
}

func (s Side) String() string {
	if s.Route == "" {
		return fmt.Sprintf("%s: %s", s.Rule, s.Outcome)
	}
	return fmt.Sprintf("%s (%s): %s", s.Rule, s.Route, s.Outcome)
}

// maxChangeRows bounds the printed table; attribution.json has them all.
const maxChangeRows = 25

// WriteTable prints the attribution.
func (at *Attribution) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "who gains: %s -> %s, seed %d, %d payments: %d gained, %d lost (net %+d = %d - %d succeeded), %d rerouted, %d declined for another reason\n",
		at.A, at.B, at.Seed, at.Payments, at.Gained, at.Lost, at.Net, at.SucceededB, at.SucceededA, at.Rerouted, at.ReasonChanged)
	fmt.Fprintf(tw, "effect\tpayments\tunder %s\tunder %s\n", at.A, at.B)
	for i, ch := range at.Changes {
		if i == maxChangeRows {
			fmt.Fprintf(tw, "…\t\t%d more groups in attribution.json\t\n", len(at.Changes)-i)
			break
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", ch.Effect, ch.Count, ch.A, ch.B)
	}
	for _, d := range []struct {
		name string
		b    []Breakdown
	}{{"kind", at.ByKind}, {"direction", at.ByDirection}, {"payer provider", at.ByProvider}, {"merchant size", at.ByMerchantSize}} {
		var parts []string
		for _, b := range d.b {
			if b.Gained != 0 || b.Lost != 0 {
				parts = append(parts, fmt.Sprintf("%s +%d/-%d", b.Key, b.Gained, b.Lost))
			}
		}
		fmt.Fprintf(tw, "by %s\t%s\n", d.name, strings.Join(parts, ", "))
	}
	fmt.Fprintf(tw, "merchants\t%.2f%% rose, %.2f%% fell (of %d)\n", 100*at.Merchants.RoseShare, 100*at.Merchants.FellShare, at.Merchants.Total)
	fmt.Fprintf(tw, "consumers\t%.2f%% rose, %.2f%% fell (of %d)\n", 100*at.Consumers.RoseShare, 100*at.Consumers.FellShare, at.Consumers.Total)
	return tw.Flush()
}

// section is the attribution as a compare.html section.
func (at *Attribution) section() html.Section {
	changes := html.Table{Title: "Payments whose outcome differs, by the rules that decided them",
		Columns: []string{"Effect", "Payments", "Under " + at.A, "Under " + at.B, "Kinds"}}
	for _, ch := range at.Changes {
		var kinds []string
		for _, k := range mapKeys(ch.ByKind) {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, ch.ByKind[k]))
		}
		changes.Rows = append(changes.Rows, []string{ch.Effect, thousands(ch.Count), ch.A.String(), ch.B.String(), strings.Join(kinds, ", ")})
	}
	tables := []html.Table{changes}
	for _, d := range []struct {
		name string
		b    []Breakdown
	}{{"payment kind", at.ByKind}, {"region and direction", at.ByDirection}, {"payer's wallet provider", at.ByProvider}, {"merchant size", at.ByMerchantSize}} {
		t := html.Table{Title: "By " + d.name, Columns: []string{d.name, "Payments", "Gained", "Lost", "Net"}}
		for _, b := range d.b {
			t.Rows = append(t.Rows, []string{b.Key, thousands(b.Payments), thousands(b.Gained), thousands(b.Lost), thousands(b.Net)})
		}
		tables = append(tables, t)
	}
	parties := html.Table{Title: "Merchants and consumers whose succeeded payments rose or fell", Columns: []string{"Party", "With payments", "Rose", "Fell"}}
	for _, p := range []struct {
		name string
		s    Shares
	}{{"merchants", at.Merchants}, {"consumers", at.Consumers}} {
		parties.Rows = append(parties.Rows, []string{p.name, thousands(p.s.Total),
			fmt.Sprintf("%s (%.2f%%)", thousands(p.s.Rose), 100*p.s.RoseShare), fmt.Sprintf("%s (%.2f%%)", thousands(p.s.Fell), 100*p.s.FellShare)})
	}
	tables = append(tables, parties)
	rules := html.Table{Title: "Rules cited", Columns: []string{"Policy", "Rule", "Route", "Source"}}
	for _, r := range at.Rules {
		rules.Rows = append(rules.Rows, []string{r.Policy, r.Rule, r.Route, r.Note})
	}
	tables = append(tables, rules)
	return html.Section{ID: "attribution", Title: fmt.Sprintf("Who gains: %s to %s", at.A, at.B),
		Note: fmt.Sprintf("Seed %d, %s payments: %s gained, %s lost (net %+d, the difference in succeeded payments). Each payment names the rule (and route) that decided it under each policy; \"none\" means no rule accepted it for any of the consumer's wallets. Merchant size: %s.",
			at.Seed, thousands(at.Payments), thousands(at.Gained), thousands(at.Lost), at.Net, at.MerchantSizes),
		Tables: tables}
}
