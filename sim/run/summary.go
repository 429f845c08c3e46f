package run

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/bus/faults"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/report/coverage"
)

// Summary is summary.json. Field names are a contract: CI gates and later
// tools read them. Add fields freely; never rename.
type Summary struct {
	Scenario   string                      `json:"scenario"`
	Policy     string                      `json:"policy"`
	Seed       int64                       `json:"seed"`
	Payments   Payments                    `json:"payments"`
	Declines   map[string]int64            `json:"declines"`
	Events     Events                      `json:"events"`
	Invariants Invariants                  `json:"invariants"`
	Throughput Throughput                  `json:"throughput"`
	LatencyMS  Latency                     `json:"latency_ms"`
	DurationS  float64                     `json:"duration_s"`
	Interop    Interop                     `json:"interop"`
	Fees       map[string]map[string]int64 `json:"fees"`
	// PnL is each institution's net in each role ("alipay/acquirer"), and
	// Flows the net by kind of holder (institutions, merchants, consumers,
	// in_flight), per currency in minor units; Flows sum to zero.
	PnL         map[string]map[string]int64 `json:"pnl,omitempty"`
	Flows       map[string]map[string]int64 `json:"flows,omitempty"`
	Carbon      Carbon                      `json:"carbon"`
	RouteLatMS  Latency                     `json:"route_latency_ms"`
	FXVolume    map[string]int64            `json:"fx_volume,omitempty"`
	Settlement  Settlement                  `json:"settlement"`
	DeadLetters int64                       `json:"dead_letters"`
	Retries     int64                       `json:"retries"`
	Engine      EngineInfo                  `json:"engine"`
	Manifest    any                         `json:"manifest,omitempty"`
	// StreamHashes locate where two runs' logs part (walletsim diff);
	// PolicyCoverage counts the policy rules and routes the run exercised.
	StreamHashes   *audit.StreamHashes `json:"stream_hashes,omitempty"`
	PolicyCoverage *coverage.Coverage  `json:"policy_coverage,omitempty"`
	// LowCarbon is the enrolment in WeChat Pay's low-carbon programme,
	// when the scenario models it (scenario low_carbon).
	LowCarbon *gen.LowCarbon `json:"low_carbon,omitempty"`
	// Faults is what the scenario's faults key injected (Options.Faults).
	Faults *faults.Report `json:"faults,omitempty"`
}

// Payments counts payments.
type Payments struct {
	Attempted   int64                `json:"attempted"`
	Succeeded   int64                `json:"succeeded"`
	Declined    int64                `json:"declined"`
	SuccessRate float64              `json:"success_rate"`
	ByKind      map[string]KindCount `json:"by_kind"`
}

// KindCount counts one payment kind.
type KindCount struct {
	Attempted int64 `json:"attempted"`
	Succeeded int64 `json:"succeeded"`
	Declined  int64 `json:"declined"`
}

// Events describes the log.
type Events struct {
	Written int64  `json:"written"`
	Digest  string `json:"digest"`
	// StateDigest hashes every wallet's final (balance, seq) as the
	// engine held them; `walletsim replay` must reproduce it from the log.
	StateDigest string `json:"state_digest,omitempty"`
	// Redelivered records were identical copies of records already in the
	// log (a resent produce whose answer was lost): skipped by every
	// reader, not violations, and not in Written or the digest.
	Redelivered int64 `json:"redelivered"`
}

// Invariants is the audit's verdict (audit.Invariants): one type, so a
// summary, verify, chaos and serve can never disagree about a log.
type Invariants = audit.Invariants

// Throughput is measured over the pipeline: first command written to the
// last outcome appended.
type Throughput struct {
	PaymentsPerS float64 `json:"payments_per_s"`
	EventsPerS   float64 `json:"events_per_s"`
}

// Latency percentiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// Interop summarises acceptance under the policy.
type Interop struct {
	AcceptanceRate  float64 `json:"acceptance_rate"`
	FirstWalletRate float64 `json:"first_wallet_rate"`
	FallbackRate    float64 `json:"fallback_rate"`
	AbandonRate     float64 `json:"abandon_rate"`
	MeanHops        float64 `json:"mean_hops"`
}

// Settlement is the net positions between wallet providers, struck once
// per settlement cycle of the policy.
type Settlement struct {
	CycleS    int64            `json:"cycle_s"`
	Positions []audit.Position `json:"positions"`
}

// Carbon is green energy in Ant Forest's green-energy points: its method
// (5 per offline payment or e-receipt, 80 per bus ride, 52 per metro
// ride; cal:carbon.ant-forest), not certified CO2, and more is better.
//
// Points is what the wallets credit. A ride declined at a QR gate is still
// taken, paid another way (Octopus), so the counterfactual rule counts
// rides whatever pays for them: CounterfactualPoints adds the declined
// rides back, and PolicyPoints leaves rides out altogether, keeping the
// paperless payments and e-receipts a policy can actually change. Compare
// policies on PolicyPoints.
type Carbon struct {
	Unit                 string           `json:"unit"`
	Points               int64            `json:"green_energy_points"`
	ByKind               map[string]int64 `json:"by_kind"`
	RidesPaidOtherwise   int64            `json:"rides_paid_otherwise_points"`
	CounterfactualPoints int64            `json:"counterfactual_points"`
	PolicyPoints         int64            `json:"policy_points"`
}

// CarbonUnit names the unit wherever green energy is shown.
const CarbonUnit = "Ant Forest green-energy points (not certified CO2)"

// NewCarbon applies the counterfactual rule to what the audit counted.
func NewCarbon(points, ridePoints, ridesElsewhere int64, byKind map[string]int64) Carbon {
	return Carbon{Unit: CarbonUnit, Points: points, ByKind: byKind, RidesPaidOtherwise: ridesElsewhere,
		CounterfactualPoints: points + ridesElsewhere, PolicyPoints: points - ridePoints}
}

// EngineInfo records how the run was executed.
type EngineInfo struct {
	Partitions int     `json:"partitions"`
	Epochs     int64   `json:"epochs"`
	EpochMS    int64   `json:"epoch_ms"`
	Wallets    int64   `json:"wallets"`
	Broker     string  `json:"broker"` // "embedded" or "external"
	VerifyS    float64 `json:"verify_s"`
	// AuditedInWindow is how many records (events, commands, dead
	// letters) the audit had taken when the pipeline's last outcome was
	// written, of AuditRecords in all: the audit reads alongside the
	// pipeline, and the rest is its tail (VerifyS).
	AuditedInWindow int64 `json:"audited_in_window"`
	AuditRecords    int64 `json:"audit_records"`
	SagaRecords     int64 `json:"saga_records"`
	StaleRecords    int64 `json:"stale_records"`
}

// WriteJSON writes the summary to dir/summary.json.
func (s *Summary) WriteJSON(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "summary.json")
	return p, os.WriteFile(p, append(b, '\n'), 0o644)
}

// WriteTable prints the human summary.
func (s *Summary) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s (policy %s, seed %d)\n", s.Scenario, s.Policy, s.Seed)
	fmt.Fprintf(tw, "payments\t%d attempted, %d succeeded, %d declined (%.2f%% success)\n", s.Payments.Attempted, s.Payments.Succeeded, s.Payments.Declined, 100*s.Payments.SuccessRate)
	kinds := keys(s.Payments.ByKind)
	for _, k := range kinds {
		c := s.Payments.ByKind[k]
		fmt.Fprintf(tw, "  %s\t%d / %d ok\n", k, c.Succeeded, c.Attempted)
	}
	if len(s.Declines) > 0 {
		var parts []string
		for _, k := range keys(s.Declines) {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.Declines[k]))
		}
		fmt.Fprintf(tw, "declines\t%s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(tw, "interop\tacceptance %.2f%%, first wallet %.2f%%, fallback %.2f%%, abandoned %.2f%%, mean hops %.2f\n", 100*s.Interop.AcceptanceRate, 100*s.Interop.FirstWalletRate, 100*s.Interop.FallbackRate, 100*s.Interop.AbandonRate, s.Interop.MeanHops)
	fmt.Fprintf(tw, "throughput\t%.0f payments/s, %.0f events/s over %.2fs\n", s.Throughput.PaymentsPerS, s.Throughput.EventsPerS, s.DurationS)
	fmt.Fprintf(tw, "latency ms\tp50 %.0f  p95 %.0f  p99 %.0f  max %.0f (command in to outcome out)\n", s.LatencyMS.P50, s.LatencyMS.P95, s.LatencyMS.P99, s.LatencyMS.Max)
	fmt.Fprintf(tw, "events\t%d, digest %s\n", s.Events.Written, s.Events.Digest)
	verdict := "OK"
	if !s.Invariants.OK() {
		verdict = "VIOLATED"
	}
	fmt.Fprintf(tw, "invariants\t%s: money conserved %v, negative balances %d, duplicate events %d, unresolved commands %d\n", verdict,
		s.Invariants.MoneyConserved, s.Invariants.NegativeBalances, s.Invariants.DuplicateEvents, s.Invariants.UnresolvedCommands)
	if e := s.Engine; e.AuditRecords > 0 {
		fmt.Fprintf(tw, "audit\t%d of %d records audited alongside the pipeline (%.1f%%), the rest in %.2fs after its last outcome\n",
			e.AuditedInWindow, e.AuditRecords, 100*float64(e.AuditedInWindow)/float64(e.AuditRecords), e.VerifyS)
	}
	if s.DeadLetters > 0 || s.Retries > 0 {
		fmt.Fprintf(tw, "faults\t%d dead letters, %d write retries\n", s.DeadLetters, s.Retries)
	}
	fmt.Fprintf(tw, "green energy\t%d Ant Forest points (not CO2); %d from paperless payments (the policy's), %d from rides paid otherwise\n", s.Carbon.Points, s.Carbon.PolicyPoints, s.Carbon.RidesPaidOtherwise)
	if lc := s.LowCarbon; lc != nil {
		fmt.Fprintf(tw, "low-carbon\t%d of %d mainland Weixin holders enrolled in WeChat Pay's challenge (uptake only: no points)\n", lc.Enrolled, lc.Holders)
	}
	tw.Flush()
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
