package html

import (
	"math"
	"time"
)

// The samples are fixed (no randomness, no clock) so that the golden files
// are stable. They look like real runs so that the screenshots are worth
// judging.

func wave(t, period float64) float64 { return math.Sin(2 * math.Pi * t / period) }

func sampleRun() RunReport {
	var tp []Point
	var lat LatencySeries
	for i := 0; i <= 120; i++ {
		t := float64(i)
		ramp := math.Min(1, t/15)
		spike := 0.0
		if i >= 58 && i <= 66 {
			spike = 1 - math.Abs(float64(i-62))/5
		}
		tp = append(tp, Point{t, math.Round(ramp*(5200+300*wave(t, 37)) - 1800*spike)})
		lat.P50 = append(lat.P50, Point{t, round2(1.8 + 0.3*wave(t, 23) + 2*spike)})
		lat.P95 = append(lat.P95, Point{t, round2(6.5 + 1.1*wave(t, 29) + 9*spike)})
		lat.P99 = append(lat.P99, Point{t, round2(14 + 3*wave(t, 31) + 38*spike)})
	}
	return RunReport{
		Title:    "Golden Week payments: mainland and Hong Kong wallets",
		Scenario: "golden-week-2026",
		Policy:   "fee-cap-0.6%",
		Seed:     20260501,
		KPIs: []KPI{
			KPIInt("Commands", 603_118, ""),
			KPIFloat("Mean throughput", 5026.4, 1, "cmd/s"),
			KPIFloat("Success rate", 99.657, 2, "%"),
			KPIFloat("p99 latency", 15.82, 2, "ms"),
			KPIMoney("Fees collected", 18_452_331, "HKD"),
			KPIMoney("Cross-border volume", 912_004_517, "CNY"),
		},
		Throughput: tp,
		Latency:    lat,
		DeclinesByReason: map[string]int64{
			"INSUFFICIENT_FUNDS":    1523,
			"DAILY_LIMIT_EXCEEDED":  412,
			"KYC_TIER_LIMIT":        97,
			"BALANCE_CAP_EXCEEDED":  33,
			"FX_QUOTE_EXPIRED":      12,
			"MERCHANT_SUSPENDED":    3,
			"DUPLICATE_COMMAND_ID":  0,
			"CROSS_BORDER_QUOTA_HK": 41,
		},
		PaymentsByKind: []KindCount{
			{Kind: "merchant QR", Attempted: 351_220, Succeeded: 350_402, Declined: 818},
			{Kind: "P2P transfer", Attempted: 148_906, Succeeded: 148_410, Declined: 496},
			{Kind: "cross-border (FPS ↔ IBPS)", Attempted: 61_430, Succeeded: 60_905, Declined: 525},
			{Kind: "top-up", Attempted: 30_118, Succeeded: 30_101, Declined: 17},
			{Kind: "withdrawal", Attempted: 11_444, Succeeded: 11_179, Declined: 265},
		},
		GreenPointsByKind: map[string]int64{
			"merchant QR":               10_537,
			"P2P transfer":              4_452,
			"cross-border (FPS ↔ IBPS)": 6_091,
			"top-up":                    903,
			"withdrawal":                1_118,
		},
		Invariants: []Invariant{
			{Name: "money is conserved per currency", OK: true, Detail: "CNY and HKD totals change only by top-ups and withdrawals"},
			{Name: "no negative balance", OK: true},
			{Name: "no limit exceeded", OK: true, Detail: "per-transaction, daily, yearly and balance-cap limits"},
			{Name: "exactly one outcome per command", OK: false, Detail: "2 commands without an outcome after the rebalance at t=61s"},
			{Name: "replay yields the same state", OK: true, Detail: "digest 9f2c41e0"},
		},
		Tables: []Table{{
			Title:   "Balances at the end of the run",
			Columns: []string{"Currency", "Wallets", "Total balance", "Mean balance"},
			Rows: [][]string{
				{"CNY", "1,000,000", "812,442,190.55", "812.44"},
				{"HKD", "250,000", "97,118,004.10", "388.47"},
			},
		}},
	}
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func sampleCompare() CompareReport {
	policies := []string{"baseline", "fee-cap-0.6%", "fps-first", "interop-qr"}
	return CompareReport{
		Title:    "Fee and routing policies on the Golden Week scenario",
		Scenario: "golden-week-2026",
		Seed:     20260501,
		Policies: policies,
		Metrics: []CompareMetric{
			{Name: "Throughput", Unit: "cmd/s", Values: []float64{5026.4, 5011.9, 4870.2, 5102.7}, BetterIs: BetterHigher},
			{Name: "p99 latency", Unit: "ms", Values: []float64{15.82, 15.9, 18.41, 14.7}, BetterIs: BetterLower},
			{Name: "Decline rate", Unit: "%", Values: []float64{0.343, 0.351, 0.298, 0.362}, BetterIs: BetterLower},
			{Name: "Cross-border share", Unit: "%", Values: []float64{10.2, 10.2, 12.9, 10.4}},
			{Name: "green-energy points per 1,000 payments", Unit: "points", Values: []float64{38.1, 38.1, 41.6, math.NaN()}, BetterIs: BetterHigher},
		},
		DeclinesByReason: map[string]map[string]int64{
			"baseline":     {"INSUFFICIENT_FUNDS": 1523, "DAILY_LIMIT_EXCEEDED": 412, "KYC_TIER_LIMIT": 97, "FX_QUOTE_EXPIRED": 12},
			"fee-cap-0.6%": {"INSUFFICIENT_FUNDS": 1561, "DAILY_LIMIT_EXCEEDED": 418, "KYC_TIER_LIMIT": 97, "FX_QUOTE_EXPIRED": 14},
			"fps-first":    {"INSUFFICIENT_FUNDS": 1320, "DAILY_LIMIT_EXCEEDED": 388, "KYC_TIER_LIMIT": 97, "FX_QUOTE_EXPIRED": 3},
			"interop-qr":   {"INSUFFICIENT_FUNDS": 1602, "DAILY_LIMIT_EXCEEDED": 455, "KYC_TIER_LIMIT": 104, "FX_QUOTE_EXPIRED": 19},
		},
		Fees: []Fee{
			{Policy: "baseline", Party: "acquirer", Currency: "HKD", Minor: 9_812_331},
			{Policy: "baseline", Party: "wallet issuer", Currency: "HKD", Minor: 6_140_000},
			{Policy: "baseline", Party: "FPS", Currency: "HKD", Minor: 1_250_050},
			{Policy: "fee-cap-0.6%", Party: "acquirer", Currency: "HKD", Minor: 7_902_118},
			{Policy: "fee-cap-0.6%", Party: "wallet issuer", Currency: "HKD", Minor: 6_140_000},
			{Policy: "fee-cap-0.6%", Party: "FPS", Currency: "HKD", Minor: 1_250_050},
			{Policy: "fps-first", Party: "acquirer", Currency: "HKD", Minor: 8_004_551},
			{Policy: "fps-first", Party: "wallet issuer", Currency: "HKD", Minor: 5_800_420},
			{Policy: "fps-first", Party: "FPS", Currency: "HKD", Minor: 3_402_777},
			{Policy: "interop-qr", Party: "acquirer", Currency: "HKD", Minor: 9_100_000},
			{Policy: "interop-qr", Party: "wallet issuer", Currency: "HKD", Minor: 6_622_013},
			{Policy: "interop-qr", Party: "FPS", Currency: "HKD", Minor: 1_199_999},
			{Policy: "baseline", Party: "NetsUnion", Currency: "CNY", Minor: 2_231_870},
			{Policy: "baseline", Party: "FX desk", Currency: "CNY", Minor: 4_410_012},
			{Policy: "fee-cap-0.6%", Party: "NetsUnion", Currency: "CNY", Minor: 2_231_870},
			{Policy: "fee-cap-0.6%", Party: "FX desk", Currency: "CNY", Minor: 3_998_100},
			{Policy: "fps-first", Party: "NetsUnion", Currency: "CNY", Minor: 1_870_441},
			{Policy: "fps-first", Party: "FX desk", Currency: "CNY", Minor: 5_120_300},
			{Policy: "interop-qr", Party: "NetsUnion", Currency: "CNY", Minor: 2_402_115},
			{Policy: "interop-qr", Party: "FX desk", Currency: "CNY", Minor: 4_388_777},
		},
		GreenPoints: map[string]int64{"baseline": 23_101, "fee-cap-0.6%": 23_098, "fps-first": 25_090, "interop-qr": 22_406},
		Settlement: Table{
			Title:   "Settlement net positions",
			Columns: []string{"Party", "Currency", "baseline", "fee-cap-0.6%", "fps-first", "interop-qr"},
			Rows: [][]string{
				{"Bank of East Asia", "HKD", "1,204,332.10", "1,198,870.45", "988,102.00", "1,250,018.33"},
				{"HSBC HK", "HKD", "-842,100.55", "-840,311.20", "-702,998.01", "-901,442.90"},
				{"ICBC (Asia)", "CNY", "-362,231.55", "-358,559.25", "-285,103.99", "-348,575.43"},
				{"Tenpay HK", "HKD", "0.00", "0.00", "0.00", "0.00"},
			},
		},
		PnL: Table{
			Title:   "Profit and loss by institution and role (positive: earned; change against baseline)",
			Columns: []string{"Institution / role", "Currency", "baseline", "fee-cap-0.6%", "fps-first", "interop-qr"},
			Rows: [][]string{
				{"alipay/acquirer", "CNY", "1,204,332.10", "1,198,870.45 (-5,461.65)", "988,102.00 (-216,230.10)", "1,250,018.33 (+45,686.23)"},
				{"bank/issuer", "CNY", "842,100.55", "840,311.20 (-1,789.35)", "702,998.01 (-139,102.54)", "901,442.90 (+59,342.35)"},
				{"weixin/wallet", "CNY", "-362,231.55", "-358,559.25 (+3,672.30)", "-285,103.99 (+77,127.56)", "-348,575.43 (+13,656.12)"},
				{"unionpay/network", "CNY", "12,001.00", "12,001.00 (+0.00)", "9,870.10 (-2,130.90)", "14,002.50 (+2,001.50)"},
				{"netsunion/clearing", "CNY", "40,210.20", "40,210.20 (+0.00)", "38,002.11 (-2,208.09)", "41,990.00 (+1,779.80)"},
				{"merchants' cost (discounts)", "CNY", "2,100,334.00", "2,090,100.20 (-10,233.80)", "1,802,776.10 (-297,557.90)", "2,210,443.00 (+110,109.00)"},
				{"consumers' cost (withdrawal fees)", "CNY", "1,200.10", "1,200.10 (+0.00)", "1,190.00 (-10.10)", "1,230.40 (+30.30)"},
			},
		},
	}
}

func sampleAttack() AttackReport {
	var r AttackReport
	r.Title = "Gateway load test: 500 req/s for five minutes"
	r.Target = "POST http://127.0.0.1:8080/v1/payments"
	r.Rate = 500
	r.Duration = 5 * time.Minute
	for i := 0; i < 300; i++ {
		t := float64(i)
		hot := 0.0
		if i >= 150 && i < 190 { // a compaction stall
			hot = math.Sin(math.Pi * float64(i-150) / 40)
		}
		p50 := round2(3.2 + 0.4*wave(t, 41) + 4*hot)
		r.Latency.P50 = append(r.Latency.P50, Point{t, p50})
		r.Latency.P90 = append(r.Latency.P90, Point{t, round2(p50*2.1 + 0.8*wave(t, 17) + 12*hot)})
		r.Latency.P99 = append(r.Latency.P99, Point{t, round2(p50*4 + 2*wave(t, 13) + 45*hot)})
		r.Latency.Max = append(r.Latency.Max, Point{t, round2(p50*7 + 9*math.Abs(wave(t, 7.3)) + 110*hot + float64(i%23))})
		ok := 0.995 - 0.07*hot - 0.002*math.Abs(wave(t, 11))
		r.SuccessRatio = append(r.SuccessRatio, Point{t, math.Round(ok*10000) / 10000})
		r.Throughput = append(r.Throughput, Point{t, math.Round(500 * ok)})
	}
	r.StatusCodes = map[string]int64{"201": 147_201, "402": 1_730, "409": 12, "429": 688, "503": 355, "0": 14}
	r.DeclinesByReason = map[string]int64{
		"INSUFFICIENT_FUNDS":   1_204,
		"DAILY_LIMIT_EXCEEDED": 390,
		"KYC_TIER_LIMIT":       136,
	}
	r.Latencies = []LatencyStat{
		{"min", 0.91}, {"mean", 4.63}, {"p50", 3.27}, {"p90", 7.48},
		{"p95", 10.9}, {"p99", 17.3}, {"max", 184.2},
	}
	return r
}
