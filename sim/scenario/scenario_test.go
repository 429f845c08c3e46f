package scenario

import (
	"strings"
	"testing"
)

func valid() *Scenario {
	s := quick()
	s.Start, s.Epoch, s.Seed = "2024-07-24T08:00:00+08:00", "1s", 1
	s.PayerRegions = map[string]float64{"CN": 1}
	s.Mix = map[string]float64{"scan_mpm": 1}
	s.Amounts = map[string]Dist{"scan_mpm": {Median: 60, Sigma: 1.2}}
	s.Population.InitialBalance = Dist{Median: 1000, Sigma: 1}
	return s
}

func TestCompileCrossBorderAmounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		amts map[string]Dist
		want string // "" = valid
	}{
		{"valid", map[string]Dist{"HK": {Median: 109, Sigma: 1.1}}, ""},
		{"lower-case region (viper lowercases keys)", map[string]Dist{"hk": {Median: 109, Sigma: 1.1}}, ""},
		{"unknown region", map[string]Dist{"TW": {Median: 109, Sigma: 1.1}}, "cross_border_amounts.TW: unknown region"},
		{"no median", map[string]Dist{"HK": {Sigma: 1.1}}, "cross_border_amounts.HK.median"},
		{"bad sigma", map[string]Dist{"HK": {Median: 1, Sigma: -1}}, "cross_border_amounts.HK.sigma"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := valid()
			s.CrossBorderAmounts = tc.amts
			_, err := Compile(s)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestCompileDeparts(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    []Departure
		want string // "" = valid
	}{
		{"valid", []Departure{{Row: "cal:crossborder.hk-wallets-2021", Reason: "even split [A]"}}, ""},
		{"no cal: prefix", []Departure{{Row: "crossborder.hk-wallets-2021", Reason: "x"}}, "departs[0].row: \"crossborder.hk-wallets-2021\": want a source row cited as cal:<id>"},
		{"no reason", []Departure{{Row: "cal:fees.mdr"}}, "departs[0].reason: empty"},
		{"twice", []Departure{{Row: "cal:fees.mdr", Reason: "a"}, {Row: "cal:fees.mdr", Reason: "b"}}, "departs[1].row: cal:fees.mdr listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := valid()
			s.Departs = tc.d
			_, err := Compile(s)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
			if tc.want == "" {
				if why, ok := s.DepartsFrom("crossborder.hk-wallets-2021"); !ok || why != "even split [A]" {
					t.Errorf("DepartsFrom = %q, %v", why, ok)
				}
			}
		})
	}
}
