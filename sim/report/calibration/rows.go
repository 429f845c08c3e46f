// Package calibration compares what a run generated with what its scenario
// asks for, quantity by quantity, and names the row of
// ../shared/calibration.md ("Calibration table") each target comes from:
// wallet shares, the kind mix, median and mean ticket by kind, transit
// operator shares, the peak multiplier and the cross-border share.
//
// Generated figures are measured from the commands the generator produced
// (a Collector taps the run's source, or Measure regenerates them from the
// seed); targets are what the scenario's configuration makes the generator
// aim for, computed in closed form (lognormal moments with the scenario's
// clamps, the fare models of sim.DefaultFares, the profile's integral). A
// target is labelled with the calibration row its configured value equals,
// or "[A]" when the scenario assumes it: a scenario whose comment cites a
// row but whose value drifted from it shows up as "[A]" in the report.
package calibration

import (
	"math"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Row names, exactly as in calibration.md's "Calibration table".
const (
	RowWalletShares = "Wallet shares (value)"
	RowScanSize     = "Scan payment size"
	RowP2PSize      = "P2P transfer size"
	RowRedPackets   = "P2P transfer size (red packets <= 200, median 10)"
	RowHKSpend      = "HK resident spend in Shenzhen"
	RowFares        = "MTR fare; Bus fare; Tram / Star Ferry fare"
	RowDailyRiders  = "Daily riders"
	RowTransitPeak  = "Diurnal shape, transit (peak hour 2.2x hourly mean)"
	RowRetailPeak   = "Diurnal shape, retail (18:00-22:00 1.8x)"
	RowElevenEleven = "Event peak / day average (11.11: 4x)"
	RowNewYearsEve  = "Event peak / day average (New Year's Eve: 2.5x)"
	Assumed         = "[A] scenario"
)

// walletShareRow is "Wallet shares (value)": Alipay 0.55, WeChat 0.39,
// QuickPass/bank apps 0.04 (together), e-CNY 0.01, telco wallets 0.01.
var walletShareRow = map[sim.Provider]float64{sim.Alipay: 0.55, sim.Weixin: 0.39, sim.ECNY: 0.01, sim.Telco: 0.01}

const quickPassBankRow = 0.04

// dists are the amount rows: lognormal median and sigma in yuan.
var distRows = []struct {
	row           string
	median, sigma float64
}{
	{RowScanSize, 60, 1.2}, // median RMB 60, sigma 1.2 -> mean ~123, 95th pct ~430
	{RowP2PSize, 50, 1.4},  // median RMB 50, sigma 1.4
}

// hkSpend is "HK resident spend in Shenzhen": lognormal, mean RMB 150-250,
// sigma 1.1.
const (
	hkSpendSigma   = 1.1
	hkSpendMeanMin = 150
	hkSpendMeanMax = 250
)

// peakRows are the peak-multiplier rows.
var peakRows = []struct {
	row  string
	peak float64
}{
	{RowTransitPeak, 2.2},
	{RowElevenEleven, 4},
	{RowNewYearsEve, 2.5},
	{RowRetailPeak, 1.8},
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

// walletShareBasis names the row a configured preference comes from.
func walletShareBasis(r sim.Region, p sim.Provider, pref map[string]float64) string {
	if r != sim.CN {
		return Assumed
	}
	if p == sim.UnionPay || p == sim.Bank {
		if near(pref["unionpay"]+pref["bank"], quickPassBankRow) {
			return RowWalletShares
		}
		return Assumed
	}
	if v, ok := walletShareRow[p]; ok && near(pref[p.String()], v) {
		return RowWalletShares
	}
	return Assumed
}

func distBasis(k sim.Kind, d scenario.Dist) string {
	if k == sim.RedPacket && near(d.Median, 10) && (d.Max == 0 || d.Max <= 200) {
		return RowRedPackets
	}
	for _, r := range distRows {
		if near(d.Median, r.median) && near(d.Sigma, r.sigma) {
			return r.row
		}
	}
	return Assumed
}

func crossDistBasis(r sim.Region, d scenario.Dist) string {
	if r == sim.HK && near(d.Sigma, hkSpendSigma) {
		if m := lognormal(d).mean() / 100; m >= hkSpendMeanMin && m <= hkSpendMeanMax {
			return RowHKSpend
		}
	}
	return Assumed
}

func ridersBasis(riders map[string]float64) string {
	if len(riders) == 0 {
		return RowDailyRiders
	}
	for _, o := range sim.Operators() {
		if !near(riders[o.String()], float64(sim.DefaultFares[o].DailyRidersK)) {
			return Assumed
		}
	}
	return RowDailyRiders
}

func peakBasis(target float64) string {
	for _, r := range peakRows {
		if math.Abs(target-r.peak) <= 1e-3 {
			return r.row
		}
	}
	return Assumed
}
