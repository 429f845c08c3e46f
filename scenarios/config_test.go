package scenarios

import (
	"strings"
	"testing"
)

// TestLoadScaled: a built-in scenario at a preset has the preset's wallets
// and payments; "" leaves it as written; an unknown preset is an error
// naming the presets.
func TestLoadScaled(t *testing.T) {
	for _, tc := range []struct {
		preset   string
		payments int64
		wallets  int64 // 0: not checked
		err      string
	}{
		{preset: "", payments: 200_000},
		{preset: "small", payments: 20_000, wallets: 1_000},
		{preset: "medium", payments: 1_000_000, wallets: 100_000},
		{preset: "huge", err: "small, medium, large, xlarge"},
	} {
		t.Run(tc.preset, func(t *testing.T) {
			sc, _, err := LoadScaled("quickstart", tc.preset)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one naming %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var wallets int64
			for _, byProv := range sc.Population.Wallets {
				for _, n := range byProv {
					wallets += n
				}
			}
			if sc.Payments != tc.payments || tc.wallets > 0 && (wallets < tc.wallets*99/100 || wallets > tc.wallets*101/100) {
				t.Errorf("%d payments over %d wallets, want %d over about %d", sc.Payments, wallets, tc.payments, tc.wallets)
			}
		})
	}
}
