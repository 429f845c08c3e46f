package audit

import (
	"sort"
	"testing"
	"unsafe"

	"github.com/walletsim/walletsim/sim/event"
)

func TestIDSet(t *testing.T) {
	ids := []uint64{
		0, 1, 1<<24 - 1, 1 << 24, 7<<24 | 12345, 1<<48 - 1, // payments
		event.OpenIDBase, event.OpenIDBase + 1, event.OpenIDBase + 10_000_000, // openings
		1 << 48, event.OpenIDBase - 1, 1<<64 - 1, // only a hostile log: the map
	}
	var s idSet
	for _, id := range ids {
		if s.has(id) {
			t.Fatalf("empty set has %d", id)
		}
		if s.add(id) {
			t.Fatalf("first add of %d is a duplicate", id)
		}
		if !s.has(id) || !s.add(id) {
			t.Fatalf("%d: not kept, or its second add not a duplicate", id)
		}
	}
	// A hostile log repeating one ID hundreds of times stays a duplicate
	// (a uint8 counter that wrapped would call the 256th add new).
	for i := 0; i < 600; i++ {
		if !s.add(1<<64 - 1) {
			t.Fatalf("repeat %d of a map-kept ID not a duplicate", i)
		}
	}
	var got []uint64
	s.each(func(id uint64) { got = append(got, id) })
	want := append([]uint64(nil), ids...)
	sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	if len(got) != len(want) {
		t.Fatalf("each gave %d IDs, want %d: %v", len(got), len(want), got)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("each gave %v, want %v", got, want)
		}
	}
}

// Ten million openings must cost bits, not map entries: at 10M wallets a
// map of opening IDs in both sets was 20-40 bytes per wallet.
func TestIDSetOpeningsAreBits(t *testing.T) {
	var s idSet
	for i := uint64(0); i < 100_000; i++ {
		s.add(event.OpenIDBase + i)
	}
	if len(s.other) != 0 {
		t.Fatalf("%d opening IDs kept in the map", len(s.other))
	}
	words := 0
	for _, b := range s.blocks {
		words += len(b)
	}
	if words > 100_000/64+1 {
		t.Fatalf("100,000 openings in %d words", words)
	}
}

// TestWalletAuditSize: the audit keeps one per wallet (ten million at
// xlarge), so the fields of it and its limitState stay ordered by size.
func TestWalletAuditSize(t *testing.T) {
	if s := unsafe.Sizeof(limitState{}); s > 40 {
		t.Fatalf("limitState is %d bytes, want at most 40", s)
	}
	if s := unsafe.Sizeof(walletAudit{}); s > 104 {
		t.Fatalf("walletAudit is %d bytes, want at most 104", s)
	}
}
