// Package html renders walletsim reports as self-contained HTML files: one
// file, inline CSS, charts as inline SVG drawn in Go, no script and no
// network fetch of any kind (a Content-Security-Policy in the page forbids
// one). The view models here are plain structs that the engine fills and
// that round-trip through encoding/json.
//
// Units: time on every series is seconds since the start of the run;
// latencies are milliseconds; money is integer minor units with a currency.
package html

import (
	"strconv"
	"time"
)

// Point is one sample of a time series.
type Point struct {
	T     float64 `json:"t"`     // seconds since the start of the run
	Value float64 `json:"value"` // in the unit of the series
}

// KPI is one headline figure. Value is already formatted; use the KPIInt,
// KPIFloat and KPIMoney helpers to format numbers the same way everywhere.
type KPI struct {
	Label string `json:"label"`
	Value string `json:"value"`
	Unit  string `json:"unit,omitempty"`
}

// KPIInt formats an integer KPI with thousands separators.
func KPIInt(label string, v int64, unit string) KPI {
	return KPI{Label: label, Value: formatInt(v), Unit: unit}
}

// KPIFloat formats a float KPI with up to digits decimals (trailing zeros
// dropped). NaN and infinities show as "—".
func KPIFloat(label string, v float64, digits int, unit string) KPI {
	return KPI{Label: label, Value: formatFloat(v, digits), Unit: unit}
}

// KPIMoney formats an amount in minor units (fen, cents) exactly, never
// through a float: KPIMoney("Fees", 123456, "HKD") shows 1,234.56 HKD.
func KPIMoney(label string, minor int64, currency string) KPI {
	return KPI{Label: label, Value: formatMoney(minor, currency), Unit: currency}
}

// KindCount is the outcome of the payments of one kind (P2P, merchant QR,
// cross-border, top-up, ...).
type KindCount struct {
	Kind      string `json:"kind"`
	Attempted int64  `json:"attempted"`
	Succeeded int64  `json:"succeeded"`
	Declined  int64  `json:"declined"`
}

// Invariant is the result of one invariant check.
type Invariant struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Table is a free-form table. Cells that parse as numbers are right-aligned.
type Table struct {
	Title   string     `json:"title"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// LatencySeries holds latency percentiles over time, in milliseconds.
type LatencySeries struct {
	P50 []Point `json:"p50,omitempty"`
	P95 []Point `json:"p95,omitempty"`
	P99 []Point `json:"p99,omitempty"`
}

// RunReport is the report of one simulation run under one policy.
type RunReport struct {
	Title    string `json:"title"`
	Scenario string `json:"scenario"`
	Policy   string `json:"policy"`
	Seed     int64  `json:"seed"`

	KPIs []KPI `json:"kpis,omitempty"`

	// Throughput is completed commands per second over time.
	Throughput []Point       `json:"throughput,omitempty"`
	Latency    LatencySeries `json:"latency"`

	DeclinesByReason map[string]int64 `json:"declines_by_reason,omitempty"`
	PaymentsByKind   []KindCount      `json:"payments_by_kind,omitempty"`
	// GreenPointsByKind is the Ant Forest green-energy points (not CO2)
	// credited to the payments of each kind.
	GreenPointsByKind map[string]int64 `json:"green_points_by_kind,omitempty"`

	Invariants []Invariant `json:"invariants,omitempty"`
	Tables     []Table     `json:"tables,omitempty"`
}

// Better says which direction of a compared metric is better.
const (
	BetterHigher = "higher"
	BetterLower  = "lower"
)

// CompareMetric is one row of the policy comparison: Values[i] belongs to
// Policies[i]. A missing value (a short slice, or NaN) shows as "—".
type CompareMetric struct {
	Name     string    `json:"name"`
	Unit     string    `json:"unit,omitempty"`
	Values   []float64 `json:"values"`
	BetterIs string    `json:"better_is,omitempty"` // BetterHigher, BetterLower or ""
}

// Fee is what one party collected in one currency under one policy.
type Fee struct {
	Policy   string `json:"policy"`
	Party    string `json:"party"`
	Currency string `json:"currency"`
	Minor    int64  `json:"minor"` // minor units (fen, cents)
}

// CompareReport compares the same scenario and seed under several policies.
type CompareReport struct {
	Title    string   `json:"title"`
	Scenario string   `json:"scenario"`
	Seed     int64    `json:"seed"`
	Policies []string `json:"policies"`

	Metrics []CompareMetric `json:"metrics,omitempty"`

	// DeclinesByReason is policy -> decline reason -> count.
	DeclinesByReason map[string]map[string]int64 `json:"declines_by_reason,omitempty"`
	// Fees are drawn as one chart per currency: parties by policy.
	Fees []Fee `json:"fees,omitempty"`
	// GreenPoints is policy -> Ant Forest green-energy points (not CO2)
	// of what the policy changes (rides counted either way).
	GreenPoints map[string]int64 `json:"green_points,omitempty"`

	// Settlement is the net position of each party at settlement.
	Settlement Table `json:"settlement"`
	// PnL is profit and loss by institution and role per policy, with
	// merchants' and consumers' costs.
	PnL Table `json:"pnl"`

	// Sections are further tables, each under its own heading, after the
	// metrics (paired differences over seeds, attribution of changed
	// outcomes).
	Sections []Section `json:"sections,omitempty"`
}

// Section is a headed group of tables in a report.
type Section struct {
	ID     string  `json:"id"`
	Title  string  `json:"title"`
	Note   string  `json:"note,omitempty"`
	Tables []Table `json:"tables"`
}

// AttackLatency holds latency percentiles over time, in milliseconds.
type AttackLatency struct {
	P50 []Point `json:"p50,omitempty"`
	P90 []Point `json:"p90,omitempty"`
	P99 []Point `json:"p99,omitempty"`
	// Max is the largest latency seen in each second, drawn as a heat scatter.
	Max []Point `json:"max,omitempty"`
}

// LatencyStat is one row of the latency table ("mean", "p50", "max", ...).
type LatencyStat struct {
	Name   string  `json:"name"`
	Millis float64 `json:"millis"`
}

// AttackReport is the report of one HTTP load test against the gateway.
type AttackReport struct {
	Title    string        `json:"title"`
	Target   string        `json:"target"`
	Rate     float64       `json:"rate"`     // requested requests per second
	Duration time.Duration `json:"duration"` // nanoseconds in JSON, as vegeta writes it

	Latency AttackLatency `json:"latency"`
	// Throughput is successful responses per second over time.
	Throughput []Point `json:"throughput,omitempty"`
	// SuccessRatio is the share of successful responses over time, 0..1.
	SuccessRatio []Point `json:"success_ratio,omitempty"`

	// StatusCodes is HTTP status code -> count; "0" is a transport error.
	StatusCodes      map[string]int64 `json:"status_codes,omitempty"`
	DeclinesByReason map[string]int64 `json:"declines_by_reason,omitempty"`
	Latencies        []LatencyStat    `json:"latencies,omitempty"`
}

// seedString shows a seed as a plain integer.
func seedString(s int64) string { return strconv.FormatInt(s, 10) }
