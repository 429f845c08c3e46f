package api

import (
	"fmt"
	"testing"

	"github.com/walletsim/walletsim/sim"
)

// TestHugeCrossBorderPayment: a mainland wallet pays an HKD price of 2^48
// cents, the most the API accepts, at a Hong Kong merchant. The FX debit
// used to overflow: the wallet was credited billions of yuan and the
// payment answered "settled". It must be declined (4xx, a decline code),
// the balance must not move, and the drain audit at the end of the
// package (TestMain) must find no FX violation.
func TestHugeCrossBorderPayment(t *testing.T) {
	needServer(t)
	f := pick(t)
	var merchant uint64
	for i, m := range testAPI.Population().Merchants {
		if m.Region == sim.HK && m.Codes&(1<<sim.Alipay) != 0 {
			merchant = uint64(i + 1)
			break
		}
	}
	if merchant == 0 {
		t.Fatal("no Hong Kong merchant shows an Alipay code")
	}
	// The consumer's every wallet: a decline on one falls back to the next.
	pop := testAPI.Population()
	var wallets []uint64
	for _, h := range pop.Holdings[pop.Wallets[f.cn-1].Consumer] {
		if h != 0 {
			wallets = append(wallets, uint64(h))
		}
	}
	balances := func() map[uint64]float64 {
		out := map[uint64]float64{}
		for _, w := range wallets {
			st, m, raw := call(t, "GET", fmt.Sprintf("/v1/wallets/%d", w), nil, nil)
			if st != 200 {
				t.Fatalf("GET wallet: %d %s", st, raw)
			}
			out[w] = m["balance"].(float64)
		}
		return out
	}
	// 2^48 is the bound; 10^13 and 9.3e12 are where the int64 product
	// first wrapped (past 9.22e12).
	for _, amount := range []int64{MaxAmount, 10_000_000_000_000, 9_300_000_000_000} {
		before := balances()
		st, m, raw := call(t, "POST", "/v1/payments", js(`{"wallet_id":%d,"merchant_id":%d,"amount":%d,"currency":"HKD"}`, f.cn, merchant, amount), nil)
		if st/100 != 4 || m["status"] != "declined" {
			t.Fatalf("%d HKD cents from a CN wallet: %d %s", amount, st, raw)
		}
		if after := balances(); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("%d HKD cents: balances %v after the declined payment, %v before", amount, after, before)
		}
	}
}
