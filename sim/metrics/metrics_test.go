package metrics_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/metrics"
	"github.com/walletsim/walletsim/sim/run"
)

// scrape fetches url over HTTP and parses the text exposition format, as
// Prometheus would.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Untyped != nil:
		return m.Untyped.GetValue()
	}
	return 0
}

// sumBy sums a family's samples grouped by the given labels.
func sumBy(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) map[string]float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("metric %s not exported", name)
	}
	out := map[string]float64{}
	for _, m := range f.GetMetric() {
		key := ""
		for i, l := range labels {
			if i > 0 {
				key += "/"
			}
			key += label(m, l)
		}
		out[key] += value(m)
	}
	return out
}

// TestMetricsAgreeWithAudit runs a real scenario on the embedded broker
// with metrics wired as `run --metrics-addr` wires them, scrapes /metrics
// over HTTP, and checks the counters against the audit of the log: the
// metrics count what the log holds, once each.
func TestMetricsAgreeWithAudit(t *testing.T) {
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments, s.Duration, s.Partitions = 20_000, "", 4
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	table, pol, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{Role: metrics.RoleRun, Policy: pol.Name})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	srv, err := metrics.Serve(ctx, "127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	res, err := run.Run(ctx, run.Options{
		Scenario: sc, Policy: table, PolicyName: pol.Name, Partitions: s.Partitions, Fresh: true,
		OnEngine: func(e *engine.Engine) { m.ObserveEngine(e); m.SetPartitionsOwned(e.Partitions()) },
		OnEvent:  func(ev *event.Event) { m.Observe(ev) },
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := res.Summary
	if !sum.Invariants.OK() {
		t.Fatalf("run broke invariants: %+v", sum.Invariants)
	}
	m.ObserveSummary(sum)
	fams := scrape(t, srv.URL())

	byKind := sumBy(t, fams, "walletsim_payments_total", "kind", "outcome")
	for k, c := range sum.Payments.ByKind {
		if got := byKind[k+"/succeeded"]; got != float64(c.Succeeded) {
			t.Errorf("payments %s succeeded: metrics %v, audit %d", k, got, c.Succeeded)
		}
		if got := byKind[k+"/declined"]; got != float64(c.Declined) {
			t.Errorf("payments %s declined: metrics %v, audit %d", k, got, c.Declined)
		}
	}
	reasons := sumBy(t, fams, "walletsim_payments_total", "outcome", "reason")
	for r, n := range sum.Declines {
		if got := reasons["declined/"+r]; got != float64(n) {
			t.Errorf("declines %s: metrics %v, audit %d", r, got, n)
		}
	}
	if got := sumBy(t, fams, "walletsim_payments_total", "policy")[pol.Name]; got != float64(sum.Payments.Attempted) {
		t.Errorf("payments under policy %s: metrics %v, audit %d attempted", pol.Name, got, sum.Payments.Attempted)
	}
	co2 := sumBy(t, fams, "walletsim_green_energy_points_total", "kind")
	for k, g := range sum.Carbon.ByKind {
		if co2[k] != float64(g) {
			t.Errorf("co2 %s: metrics %v, audit %d", k, co2[k], g)
		}
	}
	fees := sumBy(t, fams, "walletsim_fees_minor_total", "party", "currency")
	paid := sumBy(t, fams, "walletsim_fees_paid_minor_total", "party", "currency")
	for _, role := range sim.Roles() {
		party := role.String()
		for cur, v := range sum.Fees[party] {
			if got := fees[party+"/"+cur] - paid[party+"/"+cur]; got != float64(v) {
				t.Errorf("fees %s %s: metrics %v, audit %d", party, cur, got, v)
			}
		}
	}
	if got := sumBy(t, fams, "walletsim_events_total")[""]; got != float64(sum.Events.Written) {
		t.Errorf("events: metrics %v, log %d", got, sum.Events.Written)
	}
	lat := fams["walletsim_payment_latency_seconds"]
	var latCount uint64
	for _, h := range lat.GetMetric() {
		latCount += h.GetHistogram().GetSampleCount()
	}
	if latCount != uint64(sum.Payments.Attempted) {
		t.Errorf("latency samples %d, payments %d", latCount, sum.Payments.Attempted)
	}
	for name, want := range map[string]float64{
		"walletsim_payments_produced_total": float64(sum.Payments.Attempted),
		"walletsim_payments_resolved_total": float64(sum.Payments.Attempted),
		"walletsim_money_conserved":         1,
		"walletsim_money_imbalance_minor":   0,
		"walletsim_unbalanced_events_total": 0,
		"walletsim_sagas_in_flight":         0,
		"walletsim_suspense_minor":          0,
		"walletsim_invariant_violations":    0,
		"walletsim_consumer_lag_records":    0,
		"walletsim_partitions_owned":        float64(s.Partitions),
		"walletsim_dead_letters_total":      float64(sum.DeadLetters),
	} {
		if got := sumBy(t, fams, name)[""]; got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	in := sumBy(t, fams, "walletsim_money_in_minor_total", "currency")
	out := sumBy(t, fams, "walletsim_money_out_minor_total", "currency")
	for cur, v := range sum.Invariants.ExternalIn {
		if in[cur]-out[cur] != float64(v) {
			t.Errorf("money in less money out %s: metrics %v - %v, audit %d", cur, in[cur], out[cur], v)
		}
	}
	// Every name Names lists is served (histograms under their base name).
	for _, n := range m.Names() {
		if fams[n] == nil && n != "walletsim_http_requests_total" {
			t.Errorf("%s listed by Names but not served", n)
		}
	}
	t.Logf("%d payments, %d events, %d metric families", sum.Payments.Attempted, sum.Events.Written, len(fams))
}

// A failed audit must show on the dashboards even if every event balanced.
func TestSummaryVerdict(t *testing.T) {
	reg := metrics.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{Role: metrics.RoleRun, Policy: "p"})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := metrics.Serve(t.Context(), "127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	m.ObserveSummary(&run.Summary{Invariants: run.Invariants{MoneyConserved: false, SequenceGaps: 2}})
	fams := scrape(t, srv.URL())
	if got := sumBy(t, fams, "walletsim_money_conserved")[""]; got != 0 {
		t.Errorf("money_conserved = %v after a failed audit", got)
	}
	if got := sumBy(t, fams, "walletsim_invariant_violations", "invariant")["sequence_gaps"]; got != 2 {
		t.Errorf("sequence_gaps = %v, want 2", got)
	}
}

func TestOptionsValidate(t *testing.T) {
	if _, err := metrics.New(prometheus.NewRegistry(), metrics.Options{Role: "batch"}); err == nil || !strings.Contains(err.Error(), `role "batch"`) {
		t.Fatalf("unknown role: %v", err)
	}
	reg := prometheus.NewRegistry()
	if _, err := metrics.New(reg, metrics.Options{}); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if _, err := metrics.New(reg, metrics.Options{}); err == nil {
		t.Fatal("a second Metrics on one registry was accepted")
	}
}
