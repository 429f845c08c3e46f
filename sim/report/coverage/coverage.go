// Package coverage counts which rules and routes of a policy a run
// exercised, from the run's own log: every settled payment, transfer debit
// and top-up names the route it took, and each route comes from one rule.
// A gate can then insist that the rules a policy change touches were
// exercised, so a change is never "tested" by traffic that never reached it.
package coverage

import (
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/route"
)

// Counter counts route decisions by route ID. The zero value is ready.
type Counter struct {
	byRoute []int64
}

// Event counts e if it is a routing decision: the event that took a route
// (a settled payment, a transfer's debit, a top-up or a withdrawal). A transfer's credit or
// refund repeats its debit's route and is not a second decision.
func (c *Counter) Event(e *event.Event) {
	switch e.Type {
	case event.PaymentSettled, event.TransferDebited, event.ToppedUp, event.Withdrawn:
	default:
		return
	}
	if e.Route == 0 {
		return
	}
	for len(c.byRoute) <= int(e.Route) {
		c.byRoute = append(c.byRoute, 0)
	}
	c.byRoute[e.Route]++
}

// Coverage is summary.json's policy_coverage.
type Coverage struct {
	Policy string `json:"policy"`
	// Decisions is every routing decision counted.
	Decisions int64       `json:"decisions"`
	Rules     []RuleCount `json:"rules"`
	// Routes counts decisions by route name.
	Routes map[string]int64 `json:"routes"`
	// NeverFired lists the IDs of accepting rules that decided nothing.
	NeverFired []string `json:"never_fired"`
	// DenyRules are listed apart: a deny rule's decline records no route,
	// so the log cannot say whether it, or no rule at all, refused.
	DenyRules []string `json:"deny_rules,omitempty"`
	// UnknownRoutes counts decisions naming a route the policy lacks (a
	// log written under another policy).
	UnknownRoutes int64 `json:"unknown_routes,omitempty"`
}

// RuleCount is one rule's count.
type RuleCount struct {
	ID      string `json:"id"`
	Index   int    `json:"index"`
	Channel string `json:"channel"`
	Route   string `json:"route,omitempty"`
	Deny    bool   `json:"deny,omitempty"`
	Fired   int64  `json:"fired"`
}

// Build lays the counts out by the policy's rules.
func Build(t *route.Table, c *Counter) *Coverage {
	cov := &Coverage{Policy: t.Name, Routes: map[string]int64{}, NeverFired: []string{}}
	fired := make([]int64, len(t.Rules))
	for id, n := range c.byRoute {
		if n == 0 {
			continue
		}
		cov.Decisions += n
		if id >= len(t.Routes) {
			cov.UnknownRoutes += n
			continue
		}
		r := &t.Routes[id]
		cov.Routes[r.Name] += n
		if r.Rule >= 0 && r.Rule < len(fired) {
			fired[r.Rule] += n
		}
	}
	for i, r := range t.Rules {
		cov.Rules = append(cov.Rules, RuleCount{ID: r.ID, Index: i, Channel: r.Channel, Route: r.Route, Deny: r.Deny, Fired: fired[i]})
		switch {
		case r.Deny:
			cov.DenyRules = append(cov.DenyRules, r.ID)
		case fired[i] == 0:
			cov.NeverFired = append(cov.NeverFired, r.ID)
		}
	}
	return cov
}

// Fired returns how often rule id fired, and whether the policy has it.
func (c *Coverage) Fired(id string) (int64, bool) {
	for _, r := range c.Rules {
		if r.ID == id {
			return r.Fired, true
		}
	}
	return 0, false
}

// WriteTable prints the coverage: one line per rule, then the rules that
// never fired.
func (c *Coverage) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "policy coverage\t%s: %d routing decisions, %d of %d rules fired\n", c.Policy, c.Decisions, len(c.Rules)-len(c.NeverFired)-len(c.DenyRules), len(c.Rules))
	fmt.Fprintln(tw, "rule\tchannel\troute\tfired\tshare")
	for _, r := range c.Rules {
		rt, share := r.Route, "—"
		if r.Deny {
			rt = "(deny)"
		} else if c.Decisions > 0 {
			share = fmt.Sprintf("%.2f%%", 100*float64(r.Fired)/float64(c.Decisions))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", r.ID, r.Channel, rt, r.Fired, share)
	}
	names := make([]string, 0, len(c.Routes))
	for n := range c.Routes {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %d", n, c.Routes[n]))
	}
	fmt.Fprintf(tw, "routes\t%s\n", strings.Join(parts, ", "))
	if len(c.NeverFired) > 0 {
		fmt.Fprintf(tw, "never fired\t%s\n", strings.Join(c.NeverFired, ", "))
	} else {
		fmt.Fprintln(tw, "never fired\tnone")
	}
	if len(c.DenyRules) > 0 {
		fmt.Fprintf(tw, "deny rules\t%s (a deny records no route: not counted)\n", strings.Join(c.DenyRules, ", "))
	}
	return tw.Flush()
}

// Touched returns the IDs (in next) of the rules a change from prev to
// next touches: rules of next with no identical rule in prev (notes and
// IDs aside), and rules whose route's definition changed. Rules removed
// from prev cannot fire under next and are not listed.
func Touched(prev, next *route.Policy, nextTable *route.Table) []string {
	norm := func(r route.Rule) route.Rule {
		r.Note, r.ID = "", ""
		r.Route = strings.ToLower(r.Route)
		return r
	}
	routeOf := func(p *route.Policy, name string) (route.RouteSpec, bool) {
		for k, v := range p.Routes {
			if strings.EqualFold(k, name) {
				return v, true
			}
		}
		return route.RouteSpec{}, false
	}
	used := make([]bool, len(prev.Rules))
	var out []string
	for i, r := range next.Rules {
		nr := norm(r)
		same := false
		for j, o := range prev.Rules {
			if !used[j] && reflect.DeepEqual(norm(o), nr) {
				used[j], same = true, true
				break
			}
		}
		if same && !r.Deny {
			a, okA := routeOf(prev, r.Route)
			b, okB := routeOf(next, r.Route)
			same = okA == okB && reflect.DeepEqual(a, b)
		}
		if !same {
			id := fmt.Sprintf("rules[%d]", i)
			if nextTable != nil && i < len(nextTable.Rules) {
				id = nextTable.Rules[i].ID
			}
			out = append(out, id)
		}
	}
	return out
}

// Shortfall is a touched rule that fired fewer than the required times.
type Shortfall struct {
	ID    string `json:"id"`
	Fired int64  `json:"fired"`
	Want  int64  `json:"want"`
	// Missing: the gated run's policy has no such rule (gated against the
	// wrong policy).
	Missing bool `json:"missing,omitempty"`
}

// Require checks that each rule in ids fired at least k times.
func (c *Coverage) Require(ids []string, k int64) []Shortfall {
	var out []Shortfall
	for _, id := range ids {
		n, ok := c.Fired(id)
		if !ok {
			out = append(out, Shortfall{ID: id, Want: k, Missing: true})
			continue
		}
		if n < k {
			out = append(out, Shortfall{ID: id, Fired: n, Want: k})
		}
	}
	return out
}
