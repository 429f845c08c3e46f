package run

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/scenario"
)

// TestLowCarbonInSummary: a scenario with WeChat Pay's low-carbon
// programme reports its enrolment in summary.json (and quickstart, which
// has none, reports none).
func TestLowCarbonInSummary(t *testing.T) {
	sc, src, err := scenarios.LoadScenario("low-carbon-challenge")
	if err != nil {
		t.Fatal(err)
	}
	if sc.LowCarbon.WeixinEnrolled != 0.00046 { // cal:carbon.wechat-enrolled
		t.Fatalf("low-carbon-challenge enrols %v of Weixin holders, want cal:carbon.wechat-enrolled's 0.00046", sc.LowCarbon.WeixinEnrolled)
	}
	s := *sc.Scenario
	if err := scenario.Scale(&s, scenario.Presets[0], false); err != nil {
		t.Fatal(err)
	}
	s.Payments, s.Duration, s.LowCarbon.WeixinEnrolled = 2_000, "", 0.3 // enough enrolled to count
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	table, pol, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Scenario: sc, Policy: table, PolicyName: pol.Name, Partitions: 2, Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	lc, want := res.Summary.LowCarbon, gen.NewPopulation(sc).LowCarbon()
	if lc == nil || want == nil || *lc != *want || lc.Enrolled == 0 || lc.Enrolled >= lc.Holders {
		t.Fatalf("summary low_carbon %+v, population's %+v", lc, want)
	}
	dir := t.TempDir()
	path, err := res.Summary.WriteJSON(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"low_carbon"`) || !strings.Contains(string(b), `"weixin_enrolled_share": 0.3`) {
		t.Fatalf("summary.json has no low_carbon section:\n%s", b)
	}
	res, err = Run(context.Background(), load(t, 1_000, 7))
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.LowCarbon != nil {
		t.Fatalf("quickstart reports a low-carbon enrolment: %+v", res.Summary.LowCarbon)
	}
}
