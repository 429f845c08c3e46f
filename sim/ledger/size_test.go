package ledger

import (
	"testing"
	"unsafe"
)

// TestWalletSize: the engine keeps one Wallet per wallet (ten million at
// xlarge), so its small fields stay ordered by size.
func TestWalletSize(t *testing.T) {
	if s := unsafe.Sizeof(Wallet{}); s > 80 {
		t.Fatalf("Wallet is %d bytes, want at most 80", s)
	}
}
