package route_test

import (
	"strings"
	"testing"

	"github.com/walletsim/walletsim/sim/route"
)

// TestRuleIDs: a rule is named by its id key, else by its position; IDs
// are unique and plain, and a route knows the rule it came from.
func TestRuleIDs(t *testing.T) {
	base := func(ids ...string) *route.Policy {
		p := &route.Policy{Name: "x", Routes: map[string]route.RouteSpec{"on_us": {Clearing: "on_us", Hops: []route.Hop{{Name: "wallet"}}}}}
		for _, id := range ids {
			p.Rules = append(p.Rules, route.Rule{ID: id, Channel: "mpm", Payers: []string{"alipay"}, Acceptors: []string{"self"}, Route: "on_us"})
		}
		return p
	}
	table, err := route.Compile(base("", "alipay-own", ""))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range table.Rules {
		got = append(got, r.ID)
	}
	if strings.Join(got, " ") != "rules[0] alipay-own rules[2]" {
		t.Fatalf("rule IDs %v", got)
	}
	for id := 1; id < len(table.Routes); id++ {
		if rr := table.RuleOf(uint16(id)); rr == nil || rr.ID != table.Rules[table.Routes[id].Rule].ID {
			t.Fatalf("route %d: rule %+v", id, rr)
		}
	}
	if table.RuleOf(0) != nil || table.RuleOf(999) != nil {
		t.Fatal("no route has a rule")
	}
	for _, tc := range []struct {
		ids  []string
		want string
	}{
		{[]string{"a", "a"}, `rules[1].id: "a" is already the id of rules[0]`},
		{[]string{"rules[1]", ""}, `rules[0].id: "rules[1]": use letters`},
		{[]string{"has space"}, `rules[0].id: "has space": use letters`},
	} {
		if _, err := route.Compile(base(tc.ids...)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ids %q: %v, want %q", tc.ids, err, tc.want)
		}
	}
}
