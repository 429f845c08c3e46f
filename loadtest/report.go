package loadtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/report/html"
)

// Report is attack.json: what one attack (or several merged) measured.
// Latencies are milliseconds from an HDR histogram (microsecond
// resolution, 3 significant digits).
type Report struct {
	Scenario string   `json:"scenario"`
	Target   string   `json:"target"`
	Profile  string   `json:"profile"`
	Shards   []string `json:"shards"`
	// StartedAt is when the attack (its earliest shard) began.
	StartedAt time.Time `json:"started_at"`
	// RequestedRate is the mean rate the shape asked for, requests/s.
	RequestedRate float64 `json:"requested_rate"`
	DurationS     float64 `json:"duration_s"` // first to last request sent
	WaitS         float64 `json:"wait_s"`     // last request sent to its answer

	Requests int64 `json:"requests"`
	// Rate is requests sent per second; Throughput is requests answered
	// as the API defines for them (below) per second, wait included.
	Rate       float64 `json:"rate"`
	Throughput float64 `json:"throughput"`
	// SuccessRatio: requests answered as the API defines: a valid one
	// settled, accepted or declined by a business rule (a decline is a
	// correct answer), an invalid one refused with its status and code.
	SuccessRatio float64 `json:"success_ratio"`
	// VegetaSuccessRatio is vegeta's own: status 200-399 over all.
	VegetaSuccessRatio float64 `json:"vegeta_success_ratio"`

	Valid   ValidStats   `json:"valid"`
	Invalid InvalidStats `json:"invalid"`

	LatencyMS LatencyMS `json:"latency_ms"`
	// StatusCodes by HTTP status; "0" is a transport error (no answer).
	StatusCodes map[string]int64 `json:"status_codes"`
	// Declines counts the decline codes of valid requests.
	Declines map[string]int64 `json:"declines"`
	// Errors counts transport errors and unexpected answers by text.
	Errors map[string]int64 `json:"errors"`

	// Planned is how many requests the shape asked for; Dropped those
	// never sent (the attacker could not keep up); Late those sent more
	// than LateThresholdMS after they were due.
	Planned         int64   `json:"planned"`
	Dropped         int64   `json:"dropped"`
	Late            int64   `json:"late"`
	LateThresholdMS float64 `json:"late_threshold_ms"`
	MaxLagMS        float64 `json:"max_lag_ms"`

	BytesIn  uint64 `json:"bytes_in"`
	BytesOut uint64 `json:"bytes_out"`

	// Invariants of the log after an in-process attack (absent against
	// an external target, whose log this process cannot see).
	Invariants *Invariants `json:"invariants,omitempty"`

	// Template is the template the requests came from (builtin: the
	// hand-written encoder of walletsim's API).
	Template string `json:"template,omitempty"`
	// EndState is the end-state balance check (a template with balance:).
	EndState *EndState `json:"end_state,omitempty"`
	// Fired is the --abort-on threshold that stopped the attack.
	Fired *Fired `json:"threshold_fired,omitempty"`

	series []second
}

// ValidStats are the answers to valid requests.
type ValidStats struct {
	Requests     int64   `json:"requests"`
	Settled      int64   `json:"settled"`  // 200
	Accepted     int64   `json:"accepted"` // 202 (async, or a sync wait that timed out)
	Declined     int64   `json:"declined"` // 402, 403, 422 with a decline code
	Failed       int64   `json:"failed"`   // anything else: 5xx, 4xx without a decline code, no answer
	SuccessRatio float64 `json:"success_ratio"`
	SettledRatio float64 `json:"settled_ratio"`
}

// InvalidStats are the answers to invalid requests, by form.
type InvalidStats struct {
	Requests int64                `json:"requests"`
	Refused  int64                `json:"refused"` // with the expected status and code
	ByForm   map[string]FormStats `json:"by_form,omitempty"`
}

// FormStats are the answers to one invalid form.
type FormStats struct {
	Expect     string `json:"expect"`
	Requests   int64  `json:"requests"`
	Refused    int64  `json:"refused"`
	Unexpected int64  `json:"unexpected"`
}

// LatencyMS are latency quantiles in milliseconds.
type LatencyMS struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// Invariants are the audit of the log after an attack on an in-process
// server: money conserved and nothing accepted left without an outcome.
type Invariants struct {
	OK bool `json:"ok"`
	// Violations name what failed (audit.Invariants.Violations).
	Violations         []string `json:"violations,omitempty"`
	Accepted           int64    `json:"accepted"`
	MoneyConserved     bool     `json:"money_conserved"`
	NegativeBalances   int64    `json:"negative_balances"`
	DuplicateEvents    int64    `json:"duplicate_events"`
	UnresolvedCommands int64    `json:"unresolved_commands"`
	DuplicateOutcomes  int64    `json:"duplicate_outcomes"`
	Settled            int64    `json:"settled"`
	Declined           int64    `json:"declined"`
}

// InvariantsOf is the attack report's view of the audit of the log after
// an in-process attack: the audit's own verdict (audit.Invariants).
func InvariantsOf(a *audit.Report, accepted int64) *Invariants {
	return &Invariants{
		OK: a.OK(), Violations: a.Violations(), Accepted: accepted, MoneyConserved: a.MoneyConserved, NegativeBalances: a.NegativeBalances,
		DuplicateEvents: a.DuplicateEvents, UnresolvedCommands: a.UnresolvedCommands, DuplicateOutcomes: a.DuplicateOutcomes,
		Settled: a.Succeeded, Declined: a.Declined,
	}
}

type second struct {
	n, ok int64
	hist  *hdrhistogram.Histogram
}

// Aggregator builds a Report from results, one at a time: an attack feeds
// it live, report feeds it from results.bin files.
type Aggregator struct {
	r     *Report
	hist  *hdrhistogram.Histogram
	first time.Time
	last  time.Time
	end   time.Time
	ok    int64
	vok   int64
	sumUS float64
	// Live attacks only: when each request was due.
	shape *Shape
	began time.Time
}

// LateThreshold is how far behind its due time a request may be sent
// before it counts as late.
const LateThreshold = 10 * time.Millisecond

// NewAggregator starts an empty report.
func NewAggregator() *Aggregator {
	return &Aggregator{
		r: &Report{
			StatusCodes: map[string]int64{}, Declines: map[string]int64{}, Errors: map[string]int64{},
			Invalid:         InvalidStats{ByForm: map[string]FormStats{}},
			LateThresholdMS: float64(LateThreshold) / 1e6,
		},
		hist: hdrhistogram.New(1, 3_600_000_000, 3),
	}
}

// pace tells the aggregator the live attack's shape and start, to count
// late requests.
func (a *Aggregator) pace(s *Shape, began time.Time) { a.shape, a.began = s, began }

// origin sets the start the per-second series counts from.
func (a *Aggregator) origin(t time.Time) { a.began = t }

// Add counts one result.
func (a *Aggregator) Add(res *vegeta.Result) { a.add(res) }

// add counts one result and says whether it was answered as defined.
func (a *Aggregator) add(res *vegeta.Result) bool {
	r := a.r
	r.Requests++
	if a.first.IsZero() || res.Timestamp.Before(a.first) {
		a.first = res.Timestamp
	}
	if res.Timestamp.After(a.last) {
		a.last = res.Timestamp
	}
	if e := res.End(); e.After(a.end) {
		a.end = e
	}
	us := max(res.Latency.Microseconds(), 1)
	_ = a.hist.RecordValue(us)
	a.sumUS += float64(us)
	r.BytesIn += res.BytesIn
	r.BytesOut += res.BytesOut
	r.StatusCodes[strconv.Itoa(int(res.Code))]++
	if res.Code >= 200 && res.Code < 400 {
		a.vok++
	}
	form := Valid
	var tg tagged
	if i := strings.LastIndexByte(res.URL, '#'); i >= 0 {
		if tg = parseTag(res.URL[i+1:]); tg.ok {
			form = tg.form
		} else {
			form = parseForm(res.URL[i+1:])
		}
	}
	good := false
	switch {
	case tg.ok:
		good = a.tagged(res, tg)
	case form == Valid || form >= NumForms:
		good = a.valid(res)
	default:
		good = a.invalid(res, form)
	}
	if good {
		a.ok++
	}
	// A later step is due when the one before it answered, not by the
	// pacer: only first steps can be late.
	if a.shape != nil && !a.began.IsZero() && (!tg.ok || tg.step == 0) {
		if due, ok := a.shape.Due(res.Seq); ok {
			lag := res.Timestamp.Sub(a.began) - due
			if lag > LateThreshold {
				r.Late++
			}
			r.MaxLagMS = max(r.MaxLagMS, float64(lag)/1e6)
		}
	}
	sec := int(res.Timestamp.Sub(a.base()).Seconds())
	if sec >= 0 && sec < 1<<20 {
		for len(r.series) <= sec {
			r.series = append(r.series, second{})
		}
		s := &r.series[sec]
		if s.hist == nil {
			s.hist = hdrhistogram.New(1, 3_600_000_000, 2)
		}
		s.n++
		if good {
			s.ok++
		}
		_ = s.hist.RecordValue(us)
	}
	return good
}

// tagged counts a result of a template's request by the outcome the
// executor read from it (the URL fragment, see tag).
func (a *Aggregator) tagged(res *vegeta.Result, tg tagged) bool {
	if tg.outcome == "next" {
		return true // a step before the last, answered as the template wants
	}
	if tg.form != Valid && tg.form < NumForms {
		in := &a.r.Invalid
		in.Requests++
		fs := in.ByForm[tg.form.String()]
		fs.Expect = tg.want
		fs.Requests++
		good := tg.outcome == "refused"
		if good {
			fs.Refused++
			in.Refused++
		} else {
			fs.Unexpected++
			msg := res.Error
			if msg == "" {
				msg = strconv.Itoa(int(res.Code))
			}
			a.note(fmt.Sprintf("%s: %s, want %s", tg.form, msg, tg.want))
		}
		in.ByForm[tg.form.String()] = fs
		return good
	}
	v := &a.r.Valid
	v.Requests++
	switch tg.outcome {
	case "settled":
		v.Settled++
		return true
	case "pending":
		v.Accepted++
		return true
	case "declined":
		v.Declined++
		reason := tg.reason
		if reason == "" {
			reason = "(no reason)"
		}
		a.r.Declines[reason]++
		return true
	}
	v.Failed++
	msg := res.Error
	if msg == "" {
		msg = strconv.Itoa(int(res.Code))
	}
	if tg.reason != "" {
		msg += " (" + tg.reason + ")"
	}
	a.note(msg)
	return false
}

func (a *Aggregator) note(msg string) {
	if len(a.r.Errors) < 50 || a.r.Errors[msg] > 0 {
		a.r.Errors[msg]++
	}
}

// base is the origin of the per-second series: the attack's start.
func (a *Aggregator) base() time.Time {
	if !a.began.IsZero() {
		return a.began
	}
	return a.first
}

func (a *Aggregator) valid(res *vegeta.Result) bool {
	v := &a.r.Valid
	v.Requests++
	switch {
	case res.Code == 200:
		v.Settled++
		return true
	case res.Code == 202:
		v.Accepted++
		return true
	case res.Code == 402 || res.Code == 403 || res.Code == 422:
		if code := bodyCode(res.Body); isDecline(code) {
			v.Declined++
			a.r.Declines[code]++
			return true
		}
	}
	v.Failed++
	a.noteError(res, Valid)
	return false
}

func (a *Aggregator) invalid(res *vegeta.Result, f Form) bool {
	in := &a.r.Invalid
	in.Requests++
	st, code := f.Expect()
	fs := in.ByForm[f.String()]
	fs.Expect = strconv.Itoa(st) + " " + code
	fs.Requests++
	good := int(res.Code) == st && bodyCode(res.Body) == code
	if good {
		fs.Refused++
		in.Refused++
	} else {
		fs.Unexpected++
		a.noteError(res, f)
	}
	in.ByForm[f.String()] = fs
	return good
}

func (a *Aggregator) noteError(res *vegeta.Result, f Form) {
	msg := res.Error
	if msg == "" {
		msg = strconv.Itoa(int(res.Code))
	}
	if c := bodyCode(res.Body); c != "" {
		msg += " (" + c + ")"
	}
	if f != Valid && f < NumForms {
		st, code := f.Expect()
		msg = fmt.Sprintf("%s: %s, want %d %s", f, msg, st, code)
	}
	if len(a.r.Errors) < 50 || a.r.Errors[msg] > 0 {
		a.r.Errors[msg]++
	}
}

// declines are the API's decline codes (sim.Reason names).
var declines = map[string]bool{
	"insufficient_funds": true, "limit_exceeded": true, "balance_cap_exceeded": true, "no_accepted_wallet": true,
	"route_unavailable": true, "fx_unavailable": true, "route_limit_exceeded": true, "wallet_unknown": true,
	"currency_mismatch": true, "invalid_amount": true,
}

func isDecline(code string) bool { return declines[code] }

// bodyCode finds "code":"..." in an answer without decoding all of it.
func bodyCode(b []byte) string {
	i := bytes.Index(b, []byte(`"code":"`))
	if i < 0 {
		return ""
	}
	b = b[i+len(`"code":"`):]
	j := bytes.IndexByte(b, '"')
	if j < 0 || j > 64 {
		return ""
	}
	return string(b[:j])
}

// Finish computes the ratios and quantiles.
func (a *Aggregator) Finish() *Report {
	r := a.r
	ms := func(us int64) float64 { return float64(us) / 1000 }
	if r.Requests > 0 {
		n := float64(r.Requests)
		r.SuccessRatio = float64(a.ok) / n
		r.VegetaSuccessRatio = float64(a.vok) / n
		r.LatencyMS = LatencyMS{
			Mean: a.sumUS / n / 1000, P50: ms(a.hist.ValueAtQuantile(50)), P90: ms(a.hist.ValueAtQuantile(90)),
			P95: ms(a.hist.ValueAtQuantile(95)), P99: ms(a.hist.ValueAtQuantile(99)), Max: ms(a.hist.Max()),
		}
		r.DurationS = a.last.Sub(a.first).Seconds()
		r.WaitS = max(a.end.Sub(a.last).Seconds(), 0)
		if r.DurationS > 0 {
			r.Rate = float64(r.Requests) / r.DurationS
		}
		if t := r.DurationS + r.WaitS; t > 0 {
			r.Throughput = float64(a.ok) / t
		}
	}
	if v := &r.Valid; v.Requests > 0 {
		v.SuccessRatio = float64(v.Settled+v.Accepted+v.Declined) / float64(v.Requests)
		v.SettledRatio = float64(v.Settled) / float64(v.Requests)
	}
	r.StartedAt = a.base()
	if a.shape != nil {
		r.Planned = int64(a.shape.Planned())
		r.Dropped = max(r.Planned-r.Requests, 0)
	}
	return r
}

// WriteJSON writes DIR/attack.json.
func (r *Report) WriteJSON(dir string) (string, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "attack.json")
	return p, os.WriteFile(p, append(b, '\n'), 0o644)
}

// ReadReport reads DIR/attack.json.
func ReadReport(dir string) (*Report, error) {
	b, err := os.ReadFile(filepath.Join(dir, "attack.json"))
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "attack.json"), err)
	}
	return &r, nil
}

// WriteText writes the terminal report.
func (r *Report) WriteText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "target\t%s (%s, shards %s)\n", r.Target, r.Scenario, strings.Join(r.Shards, " "))
	fmt.Fprintf(tw, "requests\t%d sent of %d planned (%s profile, %.0f/s asked), %.1f/s sent over %.2fs\n",
		r.Requests, r.Planned, r.Profile, r.RequestedRate, r.Rate, r.DurationS)
	fmt.Fprintf(tw, "late, dropped\t%d sent over %.0f ms late (max lag %.1f ms), %d dropped\n", r.Late, r.LateThresholdMS, r.MaxLagMS, r.Dropped)
	fmt.Fprintf(tw, "throughput\t%.1f/s answered as defined\n", r.Throughput)
	fmt.Fprintf(tw, "latency ms\tmean %.2f  p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f  max %.2f\n",
		r.LatencyMS.Mean, r.LatencyMS.P50, r.LatencyMS.P90, r.LatencyMS.P95, r.LatencyMS.P99, r.LatencyMS.Max)
	v := r.Valid
	fmt.Fprintf(tw, "valid\t%d: %d settled, %d accepted, %d declined, %d failed (success %.4f, settled %.4f)\n",
		v.Requests, v.Settled, v.Accepted, v.Declined, v.Failed, v.SuccessRatio, v.SettledRatio)
	fmt.Fprintf(tw, "invalid\t%d: %d refused with the expected status and code\n", r.Invalid.Requests, r.Invalid.Refused)
	fmt.Fprintf(tw, "success\t%.4f as defined; %.4f by vegeta (status 200-399)\n", r.SuccessRatio, r.VegetaSuccessRatio)
	fmt.Fprintf(tw, "status codes\t%s\n", joinCounts(r.StatusCodes))
	if len(r.Declines) > 0 {
		fmt.Fprintf(tw, "declines\t%s\n", joinCounts(r.Declines))
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(tw, "errors\t%s\n", joinCounts(r.Errors))
	}
	if r.Template != "" {
		fmt.Fprintf(tw, "template\t%s\n", r.Template)
	}
	if es := r.EndState; es != nil {
		verdict := "OK"
		if !es.OK {
			verdict = "MONEY UNEXPLAINED"
		}
		fmt.Fprintf(tw, "end state\t%s: %d accounts checked, %d settled and %d indeterminate payments, %d minor units lost, %d created\n",
			verdict, es.AccountsChecked, es.Settled, es.Indeterminate, es.LostMinor, es.CreatedMinor)
		for i, u := range es.Unexplained {
			if i == 20 {
				fmt.Fprintf(tw, "\t... %d more in attack.json\n", es.UnexplainedAccounts-20)
				break
			}
			fmt.Fprintf(tw, "\t%s: before %d, after %d: %s\n", u.Account, u.Before, u.After, u.Why)
		}
	}
	if f := r.Fired; f != nil {
		fmt.Fprintf(tw, "threshold\t'%s' fired at %.1fs (value %.4g)\n", f.Threshold, f.AtS, f.Value)
	}
	if inv := r.Invariants; inv != nil {
		verdict := "OK"
		if !inv.OK {
			verdict = "VIOLATED"
		}
		fmt.Fprintf(tw, "invariants\t%s: money conserved %v, %d accepted, %d unresolved, %d negative balances\n",
			verdict, inv.MoneyConserved, inv.Accepted, inv.UnresolvedCommands, inv.NegativeBalances)
	}
	tw.Flush()
}

func joinCounts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// HTML is the report's view model for attack.html (latency and
// throughput over time).
func (r *Report) HTML() html.AttackReport {
	h := html.AttackReport{
		Title:            "walletsim attack: " + r.Scenario,
		Target:           r.Target,
		Rate:             r.RequestedRate,
		Duration:         time.Duration(r.DurationS * float64(time.Second)),
		StatusCodes:      r.StatusCodes,
		DeclinesByReason: r.Declines,
		Latencies: []html.LatencyStat{
			{Name: "mean", Millis: r.LatencyMS.Mean}, {Name: "p50", Millis: r.LatencyMS.P50},
			{Name: "p90", Millis: r.LatencyMS.P90}, {Name: "p95", Millis: r.LatencyMS.P95},
			{Name: "p99", Millis: r.LatencyMS.P99}, {Name: "max", Millis: r.LatencyMS.Max},
		},
	}
	for i, s := range r.series {
		if s.n == 0 {
			continue
		}
		t := float64(i)
		q := func(p float64) float64 { return float64(s.hist.ValueAtQuantile(p)) / 1000 }
		h.Latency.P50 = append(h.Latency.P50, html.Point{T: t, Value: q(50)})
		h.Latency.P90 = append(h.Latency.P90, html.Point{T: t, Value: q(90)})
		h.Latency.P99 = append(h.Latency.P99, html.Point{T: t, Value: q(99)})
		h.Latency.Max = append(h.Latency.Max, html.Point{T: t, Value: float64(s.hist.Max()) / 1000})
		h.Throughput = append(h.Throughput, html.Point{T: t, Value: float64(s.ok)})
		h.SuccessRatio = append(h.SuccessRatio, html.Point{T: t, Value: float64(s.ok) / float64(s.n)})
	}
	return h
}

// WriteHTML writes DIR/attack.html.
func (r *Report) WriteHTML(dir string) (string, error) {
	p := filepath.Join(dir, "attack.html")
	return p, html.WriteAttackFile(p, r.HTML())
}

// finite keeps NaN and infinities out of JSON (encoding/json refuses them).
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
