package scenario

import (
	"math"
	"strings"
	"testing"
)

func quick() *Scenario {
	return &Scenario{
		Name: "t", Payments: 200_000, Rate: 32000,
		Population: Population{
			Consumers: map[string]int64{"CN": 55000, "HK": 9000},
			Wallets: map[string]map[string]int64{
				"CN": {"weixin": 42000, "alipay": 36000, "unionpay": 5000, "telco": 1000},
				"HK": {"alipay_hk": 5000, "wechatpay_hk": 4500, "ecny": 200},
			},
		},
		Merchants: Merchants{Count: map[string]int64{"CN": 8000, "HK": 2000}},
	}
}

func totalWallets(s *Scenario) int64 {
	n := int64(0)
	for _, m := range s.Population.Wallets {
		for _, v := range m {
			n += v
		}
	}
	return n
}

func TestScalePresets(t *testing.T) {
	for _, p := range Presets {
		t.Run(p.Name, func(t *testing.T) {
			s := quick()
			if err := Scale(s, p, false); err != nil {
				t.Fatal(err)
			}
			if got := totalWallets(s); got != p.Wallets {
				t.Errorf("wallets = %d, want exactly %d", got, p.Wallets)
			}
			if s.Payments != p.Payments {
				t.Errorf("payments = %d, want %d", s.Payments, p.Payments)
			}
			f := float64(p.Wallets) / 93700
			for r, m := range s.Population.Wallets {
				for pr, n := range m {
					if n < 1 {
						t.Errorf("%s/%s lost its wallets", r, pr)
					}
					if n > s.Population.Consumers[r] {
						t.Errorf("%s/%s: %d wallets > %d consumers", r, pr, n, s.Population.Consumers[r])
					}
				}
			}
			// Shares survive: weixin stays 42000/93700 of wallets.
			if got, want := float64(s.Population.Wallets["CN"]["weixin"]), 42000*f; math.Abs(got-want) > 1 {
				t.Errorf("CN weixin = %v, want %.1f", got, want)
			}
			if got, want := float64(s.Merchants.Count["CN"]), 8000*f; math.Abs(got-want) > 1 && got != 1 {
				t.Errorf("CN merchants = %v, want %.1f", got, want)
			}
		})
	}
}

func TestScaleKeepsPaymentsFlag(t *testing.T) {
	s := quick()
	s.Payments = 1234
	if err := Scale(s, Presets[1], true); err != nil {
		t.Fatal(err)
	}
	if s.Payments != 1234 {
		t.Errorf("payments = %d, want the --payments value 1234 kept", s.Payments)
	}
}

// A duration scenario keeps its day and scales its rate: the planned
// payments become the preset's.
func TestScaleDurationScenario(t *testing.T) {
	s := quick()
	s.Payments, s.Duration, s.Rate = 0, "24h", 5
	s.Profile = []Phase{{From: "0h", To: "1h", Multiplier: 4}, {From: "1h", To: "6h", Multiplier: 0.15}}
	if err := Scale(s, Presets[1], false); err != nil {
		t.Fatal(err)
	}
	got, err := PlannedPayments(s)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-1_000_000) > 1e-6*1_000_000 {
		t.Errorf("planned payments = %.1f, want 1,000,000", got)
	}
	if s.Duration != "24h" || s.Payments != 0 {
		t.Errorf("duration %q payments %d: the day must stay a day", s.Duration, s.Payments)
	}
}

func TestPlannedPayments(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dur     string
		profile []Phase
		want    float64
	}{
		{"flat", "1h", nil, 3600},
		{"one phase", "2h", []Phase{{From: "0h", To: "1h", Multiplier: 2}}, 3 * 3600},
		{"later phase wins", "1h", []Phase{{From: "0m", To: "60m", Multiplier: 2}, {From: "30m", To: "60m", Multiplier: 0}}, 1800 * 2},
		{"phase past the end", "1h", []Phase{{From: "30m", To: "5h", Multiplier: 3}}, 1800 + 1800*3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PlannedPayments(&Scenario{Duration: tc.dur, Rate: 1, Profile: tc.profile})
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestScaleErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Scenario)
		want string
	}{
		{"no wallets", func(s *Scenario) { s.Population.Wallets = nil }, "population.wallets"},
		{"bad duration", func(s *Scenario) { s.Payments, s.Duration = 0, "a day" }, "duration"},
		{"bad phase", func(s *Scenario) { s.Payments, s.Duration, s.Profile = 0, "1h", []Phase{{From: "2h", To: "1h"}} }, "profile[0]"},
		{"zero rate all day", func(s *Scenario) {
			s.Payments, s.Duration, s.Profile = 0, "1h", []Phase{{From: "0h", To: "1h", Multiplier: 0}}
		}, "profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := quick()
			tc.edit(s)
			err := Scale(s, Presets[0], false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
	if _, err := ParsePreset("huge"); err == nil || !strings.Contains(err.Error(), "small, medium, large, xlarge") {
		t.Errorf("ParsePreset(huge) = %v, want the list of presets", err)
	}
}
