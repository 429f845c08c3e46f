package audit

import (
	"slices"
	"testing"
	"time"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/route"
)

// TestContractedDiscount: the fee check's allocation-free test agrees with
// the schedule's list of discounts, for fees on it and just off it.
func TestContractedDiscount(t *testing.T) {
	times := []int64{
		time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
		time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
		time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).UnixMilli(),
	}
	for _, charges := range []bool{true, false} {
		r := &route.Route{ChargesMerchant: charges}
		for _, ts := range times {
			for acq := sim.Provider(0); acq < sim.NumProviders; acq++ {
				for _, amount := range []int64{1, 99, 1000, 123_456, 10_000_000} {
					list := MerchantDiscounts(r, ts, acq, amount)
					for _, fee := range append(slices.Clone(list), list[0]+1, list[0]-1, -1) {
						if got, want := contractedDiscount(r, ts, acq, amount, fee), slices.Contains(list, fee); got != want {
							t.Fatalf("charges %v, t %d, acquirer %v, amount %d, fee %d: %v, list %v says %v", charges, ts, acq, amount, fee, got, list, want)
						}
					}
				}
			}
		}
	}
}
