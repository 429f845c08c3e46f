package compare

import (
	"context"
	"encoding/json"
	"os"
	"testing"
)

// TestComparePnL runs quickstart on the embedded broker under walled-garden
// and netsunion-2018 and checks the economics an architect reads from
// compare.json: in every column institutions', merchants' and consumers'
// flows sum to zero per currency (nothing in flight), the P&L lines add up
// to the institutions' flow, and the two eras accept exactly the same
// payments yet differ in clearing (NetsUnion earns only in 2018) and in
// fees by party, while merchants, who pay their own contracted rate to
// their acquirer, pay the same under both.
func TestComparePnL(t *testing.T) {
	sc := quickstart(t, 12_000, 5)
	c, err := Run(context.Background(), Options{Scenario: sc, Policies: []Policy{policy(t, "walled-garden"), policy(t, "netsunion-2018")}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := c.WriteJSON(dir)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Comparison
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	for _, r := range back.Results {
		if !r.Invariants.OK() {
			t.Fatalf("%s: invariants %+v", r.Policy, r.Invariants)
		}
		for _, h := range []string{"institutions", "merchants", "consumers"} {
			if len(r.Flows[h]) == 0 {
				t.Fatalf("%s: no %s flows in compare.json: %v", r.Policy, h, r.Flows)
			}
		}
		sums := map[string]int64{}
		for holder, byCur := range r.Flows {
			for cur, v := range byCur {
				sums[cur] += v
				if holder == "in_flight" && v != 0 {
					t.Errorf("%s: %d %s still in flight", r.Policy, v, cur)
				}
			}
		}
		for cur, v := range sums {
			if v != 0 {
				t.Errorf("%s: flows sum to %d %s, want 0: %v", r.Policy, v, cur, r.Flows)
			}
		}
		pnl := map[string]int64{}
		for _, byCur := range r.PnL {
			for cur, v := range byCur {
				pnl[cur] += v
			}
		}
		for cur, v := range r.Flows["institutions"] {
			if pnl[cur] != v {
				t.Errorf("%s: P&L lines sum to %d %s, institutions' flow is %d", r.Policy, pnl[cur], cur, v)
			}
		}
		if r.Costs.Merchants["CNY"] <= 0 {
			t.Errorf("%s: merchants paid %v", r.Policy, r.Costs.Merchants)
		}
	}
	wg, nu := back.Results[0], back.Results[1]
	if wg.Interop.AcceptanceRate != nu.Interop.AcceptanceRate || wg.Payments.Succeeded != nu.Payments.Succeeded {
		t.Errorf("acceptance: walled-garden %v (%d ok), netsunion-2018 %v (%d ok); the mandate changed clearing, not acceptance",
			wg.Interop.AcceptanceRate, wg.Payments.Succeeded, nu.Interop.AcceptanceRate, nu.Payments.Succeeded)
	}
	if wg.PnL["netsunion/clearing"]["CNY"] != 0 || nu.PnL["netsunion/clearing"]["CNY"] <= 0 {
		t.Errorf("NetsUnion's clearing P&L: walled-garden %d, netsunion-2018 %d", wg.PnL["netsunion/clearing"]["CNY"], nu.PnL["netsunion/clearing"]["CNY"])
	}
	if d := nu.PnLChange["netsunion/clearing"]["CNY"]; d != nu.PnL["netsunion/clearing"]["CNY"] {
		t.Errorf("pnl_change netsunion/clearing %d, want the whole %d", d, nu.PnL["netsunion/clearing"]["CNY"])
	}
	// Card funding costs the wallets NetsUnion's fee in 2018 and nothing
	// on the direct bank links before: the wallets' P&L falls.
	for _, w := range []string{"alipay/wallet", "weixin/wallet"} {
		if !(nu.PnL[w]["CNY"] < wg.PnL[w]["CNY"]) {
			t.Errorf("%s: netsunion-2018 %d, walled-garden %d; want lower under NetsUnion", w, nu.PnL[w]["CNY"], wg.PnL[w]["CNY"])
		}
	}
	if wg.Costs.Merchants["CNY"] != nu.Costs.Merchants["CNY"] {
		t.Errorf("merchants' cost: walled-garden %d, netsunion-2018 %d; a merchant's rate is its own contract", wg.Costs.Merchants["CNY"], nu.Costs.Merchants["CNY"])
	}
	if wg.PnL["alipay/acquirer"]["CNY"] <= 0 || wg.PnL["bank/issuer"]["CNY"] <= 0 {
		t.Errorf("acquirer and issuer P&L: %v", wg.PnL)
	}
}
