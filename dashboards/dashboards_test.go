package dashboards

import (
	"encoding/json"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/walletsim/walletsim/sim/metrics"
)

// exported is every series name the binary can export: the metrics
// package's names, with the suffixes Prometheus gives histograms.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	m, err := metrics.New(prometheus.NewRegistry(), metrics.Options{Role: metrics.RoleRun, Policy: "p"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range m.Names() {
		out[n] = true
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			out[n+s] = true
		}
	}
	return out
}

func TestEveryQueryNamesExportedMetrics(t *testing.T) {
	have := exported(t)
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	perDashboard := map[string]int{}
	for _, q := range qs {
		perDashboard[q.Dashboard]++
		names := MetricNames(q.Expr)
		if len(names) == 0 {
			t.Errorf("%s / %q %s: query names no metric: %s", q.Dashboard, q.Panel, q.RefID, q.Expr)
		}
		for _, n := range names {
			if !have[n] {
				t.Errorf("%s / %q %s: %s is not a metric walletsim exports (query %s)", q.Dashboard, q.Panel, q.RefID, n, q.Expr)
			}
		}
	}
	for _, d := range []string{"overview.json", "interoperability.json", "transit.json", "reliability.json"} {
		if perDashboard[d] == 0 {
			t.Errorf("dashboard %s: missing or without queries", d)
		}
	}
}

// The extractor must find names where they are, and only those: otherwise
// the test above could pass on a dashboard naming a metric that does not
// exist.
func TestMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`sum by (reason) (rate(walletsim_payments_total{policy=~"$policy",outcome="declined"}[$__rate_interval]))`, []string{"walletsim_payments_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(walletsim_payment_latency_seconds_bucket{kind="transit"}[1m])))`, []string{"walletsim_payment_latency_seconds_bucket"}},
		{`1 - sum(a_total{reason=~"x|y"}) / sum(b_total) * 1e3`, []string{"a_total", "b_total"}},
		{`max by (partition) (walletsim_consumer_lag_records) > bool 0`, []string{"walletsim_consumer_lag_records"}},
		{`count by (role) (walletsim_info) and on (role) walletsim_nosuch_metric`, []string{"walletsim_info", "walletsim_nosuch_metric"}},
	} {
		if got := MetricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("MetricNames(%s) = %v, want %v", c.expr, got, c.want)
		}
	}
	if have := exported(t); have["walletsim_nosuch_metric"] {
		t.Error("a made-up name counts as exported")
	}
}

// Grafana needs a uid, a title and a datasource on every panel to
// provision the files unattended.
func TestDashboardsProvisionable(t *testing.T) {
	files, _ := fs.Glob(FS, "*.json")
	uids := map[string]string{}
	for _, f := range files {
		b, _ := FS.ReadFile(f)
		var d struct {
			UID    string `json:"uid"`
			Title  string `json:"title"`
			Panels []struct {
				Title      string `json:"title"`
				Datasource struct {
					UID string `json:"uid"`
				} `json:"datasource"`
				GridPos struct{ W, H int } `json:"gridPos"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if d.UID == "" || d.Title == "" || !strings.HasPrefix(d.Title, "walletsim") {
			t.Errorf("%s: uid %q title %q", f, d.UID, d.Title)
		}
		if other, dup := uids[d.UID]; dup {
			t.Errorf("%s and %s share uid %s", f, other, d.UID)
		}
		uids[d.UID] = f
		for _, p := range d.Panels {
			if p.Datasource.UID != "walletsim-prometheus" {
				t.Errorf("%s / %q: datasource uid %q, want walletsim-prometheus (compose/grafana provisions it)", f, p.Title, p.Datasource.UID)
			}
			if p.GridPos.W == 0 || p.GridPos.H == 0 {
				t.Errorf("%s / %q: no size", f, p.Title)
			}
		}
	}
}
