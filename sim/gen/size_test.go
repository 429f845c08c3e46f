package gen

import (
	"math"
	"testing"
	"unsafe"

	"github.com/walletsim/walletsim/sim/route"
)

// TestWalletInfoSize: ten million WalletInfos live through an xlarge run;
// 64 bytes each instead of 48 was 160 MB of its 4 GiB. QuotaUsed is 32
// bits because the quota it counts toward is.
func TestWalletInfoSize(t *testing.T) {
	if s := unsafe.Sizeof(WalletInfo{}); s > 48 {
		t.Fatalf("WalletInfo is %d bytes, want at most 48 (order the fields by size)", s)
	}
	if route.WithdrawalQuota > math.MaxInt32 {
		t.Fatalf("route.WithdrawalQuota %d does not fit WalletInfo.QuotaUsed (int32)", route.WithdrawalQuota)
	}
}
