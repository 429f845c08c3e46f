// Package calibration checks a run's generated traffic, row by row, with
// a criterion that tells noise from bias, and names the source row
// (scenarios/calibration/sources.yaml, cited cal:<id>) each target comes
// from.
//
// Two kinds of rows. Generator rows check what the scenario asked for:
// wallet shares, the kind mix, tickets by kind, cross-border shares and
// tickets, operator shares and the peak, against targets computed in
// closed form from the scenario (lognormal moments with the scenario's
// clamps, the fare models of sim.DefaultFares, the profile's integral).
// Source rows check outcomes against the sources wherever the scenario
// claims to follow them: HK residents' mean ticket in Shenzhen, the share
// of cross-border payments by HK residents, WeChat Pay HK's share of HK
// wallets' mainland payments, operator shares, and the peak over the
// day's average measured from per-second arrivals. A scenario that
// deliberately departs from a source lists it under `departs:` with a
// reason, and the row reports "departs".
//
// The criterion (criterion.go): a share passes when |p̂ − p0| ≤ max(ε·p0,
// z*·SE), SE = sqrt(p0(1−p0)/n), z* = Φ⁻¹(1 − α/2m) for m checked rows
// at family-wise α; a group of shares is a Pearson χ² test; lognormal
// amounts are tested on the mean of their logarithms, medians by the
// share of amounts at or below the target median. A row that passes
// only because its sample cannot resolve ε is "unresolved", not "ok".
package calibration

import (
	"math"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Assumed labels a target the scenario assumes rather than takes from a
// source row.
const Assumed = "[A] scenario"

// Source row IDs the code reads (each must exist, with the numbers named
// here: TestBuiltinSourcesHaveWhatTheCodeReads).
const (
	RowWalletShares  = "defaults.wallet-shares"
	RowScanSize      = "defaults.scan-size"
	RowP2PSize       = "defaults.p2p-size"
	RowHKSpend       = "defaults.hk-spend-shenzhen"
	RowDailyRiders   = "defaults.daily-riders"
	RowTransitPeak   = "defaults.diurnal-transit"
	RowRetailPeak    = "defaults.diurnal-retail"
	RowEventPeaks    = "defaults.peak-ratio"
	RowHKSpend2023   = "crossborder.hk-in-shenzhen-2023"
	RowHKSpend2025   = "crossborder.hk-in-shenzhen-2025"
	RowHKWallets2021 = "crossborder.hk-wallets-2021"
	RowSaturday2024  = "crossborder.saturday-2024"
)

// RowFares is the basis of transit tickets: the three fare rows.
const RowFares = "cal:defaults.fare-mtr; cal:defaults.fare-bus; cal:defaults.fare-tram-ferry"

// needs lists the numbers the code reads from each row ("" = value).
var needs = map[string][]string{
	RowWalletShares:  {"alipay", "weixin", "unionpay_bank", "ecny", "telco"},
	RowScanSize:      {"median", "sigma"},
	RowP2PSize:       {"median", "sigma", "red_packet_median", "red_packet_max"},
	RowHKSpend:       {"mean_low", "mean_high", "sigma"},
	RowDailyRiders:   {"mtr", "kmb", "citybus", "long_win", "new_lantao", "tramways", "star_ferry"},
	RowTransitPeak:   {""},
	RowRetailPeak:    {"evening"},
	RowEventPeaks:    {"singles_day", "new_years_eve"},
	RowHKSpend2023:   {""},
	RowHKSpend2025:   {""},
	RowHKWallets2021: {"low", "high"},
	RowSaturday2024:  {""},
}

func cite(id string) string { return "cal:" + id }

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// walletShareBasis names the row a configured preference comes from.
func (s *Sources) walletShareBasis(r sim.Region, p sim.Provider, pref map[string]float64) string {
	if r != sim.CN {
		return Assumed
	}
	if p == sim.UnionPay || p == sim.Bank {
		if v, ok := s.num(RowWalletShares, "unionpay_bank"); ok && near(pref["unionpay"]+pref["bank"], v) {
			return cite(RowWalletShares)
		}
		return Assumed
	}
	if v, ok := s.num(RowWalletShares, p.String()); ok && near(pref[p.String()], v) {
		return cite(RowWalletShares)
	}
	return Assumed
}

func (s *Sources) distBasis(k sim.Kind, d scenario.Dist) string {
	if k == sim.RedPacket {
		m, _ := s.num(RowP2PSize, "red_packet_median")
		hi, _ := s.num(RowP2PSize, "red_packet_max")
		if near(d.Median, m) && d.Max > 0 && d.Max <= hi {
			return cite(RowP2PSize)
		}
	}
	for _, id := range []string{RowScanSize, RowP2PSize} {
		m, ok1 := s.num(id, "median")
		sg, ok2 := s.num(id, "sigma")
		if ok1 && ok2 && near(d.Median, m) && near(d.Sigma, sg) {
			return cite(id)
		}
	}
	return Assumed
}

func (s *Sources) crossDistBasis(r sim.Region, d scenario.Dist) string {
	sg, _ := s.num(RowHKSpend, "sigma")
	lo, _ := s.num(RowHKSpend, "mean_low")
	hi, _ := s.num(RowHKSpend, "mean_high")
	if r == sim.HK && near(d.Sigma, sg) {
		if m := lognormal(d).mean() / 100; m >= lo && m <= hi {
			return cite(RowHKSpend)
		}
	}
	return Assumed
}

// ridersBasis: a scenario without transit.riders rides by
// sim.DefaultFares, which must equal the Daily riders row of the file.
func (s *Sources) ridersBasis(riders map[string]float64) string {
	for _, o := range sim.Operators() {
		want, ok := s.num(RowDailyRiders, o.String())
		got := float64(sim.DefaultFares[o].DailyRidersK)
		if len(riders) > 0 {
			got = riders[o.String()]
		}
		if !ok || !near(got, want) {
			return Assumed
		}
	}
	return cite(RowDailyRiders)
}

// peakRow is the source row (and its value) a planned peak equals, or "".
func (s *Sources) peakRow(target float64) (string, float64) {
	for _, c := range []struct{ id, name string }{
		{RowTransitPeak, ""}, {RowEventPeaks, "singles_day"}, {RowEventPeaks, "new_years_eve"}, {RowRetailPeak, "evening"},
	} {
		if v, ok := s.num(c.id, c.name); ok && math.Abs(target-v) <= 1e-3 {
			return c.id, v
		}
	}
	return "", 0
}
