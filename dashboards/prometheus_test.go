package dashboards

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/walletsim/walletsim/internal/testbin"
)

// TestPanelsReturnData runs `walletsim run` with --metrics-addr, has a real
// Prometheus (Debian's package) scrape it every second, and evaluates every
// dashboard query through Prometheus's HTTP API: each must return data. It
// skips when Prometheus is missing, unless WALLETSIM_PROM_TESTS is set (CI
// sets it), in which case a missing Prometheus is a failure.

const promPayments = 200_000

func findPrometheus(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/prometheus"); err == nil {
		return "/usr/bin/prometheus"
	}
	if os.Getenv("WALLETSIM_PROM_TESTS") != "" {
		t.Fatal("WALLETSIM_PROM_TESTS is set but prometheus is not installed; install it with apt-get install -y prometheus")
	}
	t.Skip("prometheus not installed; set WALLETSIM_PROM_TESTS=1 to make this a failure")
	return ""
}

// freeAddr picks a loopback port for Prometheus, which cannot report the
// port it bound when given port 0.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lineWatcher collects a process's output and finds lines in it.
type lineWatcher struct {
	lines chan string
	all   strings.Builder
}

func watch(r io.Reader) *lineWatcher {
	w := &lineWatcher{lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
	}()
	return w
}

// await returns the first submatch of re in the next lines, or fails.
func (w *lineWatcher) await(t *testing.T, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-w.lines:
			if !ok {
				t.Fatalf("process ended before printing %s; output:\n%s", re, w.all.String())
			}
			w.all.WriteString(l + "\n")
			if m := re.FindStringSubmatch(l); m != nil {
				if len(m) > 1 {
					return m[1]
				}
				return m[0]
			}
		case <-deadline:
			t.Fatalf("no line matching %s within %v; output:\n%s", re, timeout, w.all.String())
		}
	}
}

func stop(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
}

type promResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string            `json:"resultType"`
		Result     []json.RawMessage `json:"result"`
	} `json:"data"`
}

func promQuery(ctx context.Context, base, expr string) (promResponse, error) {
	var r promResponse
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/query?"+url.Values{"query": {expr}}.Encode(), nil)
	if err != nil {
		return r, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %s", resp.Status, b)
	}
	if r.Status != "success" {
		return r, fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	return r, nil
}

// scalarValue is the value of a one-sample instant vector.
func scalarValue(r promResponse) (float64, bool) {
	if len(r.Data.Result) != 1 {
		return 0, false
	}
	var s struct {
		Value [2]any `json:"value"`
	}
	if json.Unmarshal(r.Data.Result[0], &s) != nil {
		return 0, false
	}
	str, _ := s.Value[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	return v, err == nil
}

func TestPanelsReturnData(t *testing.T) {
	prom := findPrometheus(t)
	bin := testbin.Path(t)
	dir := t.TempDir()
	start := time.Now()

	// Prometheus first, so that it scrapes the run from its start.
	target, promAddr := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: walletsim
    scrape_interval: 1s
    static_configs:
      - targets: [%q]
        labels: {role: run}
`, target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var promLog syncBuilder
	p := exec.Command(prom, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr, "--log.level=warn")
	p.Stdout, p.Stderr = &promLog, &promLog
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(p) })
	base := "http://" + promAddr
	ready := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(ready) {
			t.Fatalf("prometheus not ready after a minute: %v\n%s", err, promLog.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The run: long enough for a few scrapes while it works, then held so
	// Prometheus also scrapes its final state (the audit's verdict).
	run := exec.Command(bin, "run", "quickstart", "--payments", strconv.Itoa(promPayments), "--quiet",
		"--metrics-addr", target, "--metrics-hold", "10m")
	stderr, err := run.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := run.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(run) })
	runErr, runOut := watch(stderr), watch(stdout)
	runErr.await(t, regexp.MustCompile(`metrics: serving http://`+regexp.QuoteMeta(target)+`/metrics`), 60*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The run's table ends with its carbon line; then the hold begins.
	runOut.await(t, regexp.MustCompile(`^invariants\s+OK`), 3*time.Minute)
	// Wait until Prometheus has scraped the finished run (every payment
	// resolved, the audit's verdict in) and holds enough samples for
	// rate() over the dashboards' one-minute windows.
	for {
		r, err := promQuery(ctx, base, `walletsim_payments_resolved_total`)
		v, ok := scalarValue(r)
		n, _ := promQuery(ctx, base, `count_over_time(walletsim_payments_resolved_total[1m])`)
		samples, _ := scalarValue(n)
		if err == nil && ok && v == promPayments && samples >= 3 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("Prometheus never saw %d payments resolved (last: %v %v %v)\nprometheus log:\n%s", promPayments, v, ok, err, promLog.String())
		case <-time.After(250 * time.Millisecond):
		}
	}
	t.Logf("run scraped to completion after %v", time.Since(start).Round(time.Millisecond))

	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		expr := Expand(q.Expr)
		r, err := promQuery(ctx, base, expr)
		switch {
		case err != nil:
			t.Errorf("%s / %q %s: %v\n  query: %s", q.Dashboard, q.Panel, q.RefID, err, expr)
		case len(r.Data.Result) == 0:
			t.Errorf("%s / %q %s: no data\n  query: %s", q.Dashboard, q.Panel, q.RefID, expr)
		}
	}
	// A sanity check of the values behind the panels, not just their
	// presence: the audit held and every payment is counted once.
	for expr, want := range map[string]float64{
		`min(walletsim_money_conserved)`:         1,
		`sum(walletsim_payments_total)`:          promPayments,
		`sum(walletsim_invariant_violations)`:    0,
		`sum(walletsim_sagas_in_flight)`:         0,
		`sum(walletsim_consumer_lag_records)`:    0,
		`sum(walletsim_payments_produced_total)`: promPayments,
	} {
		// Gauges such as the consumer lag are sampled by the run's own
		// poller: the scrape that saw every payment resolved may hold a
		// lag sampled just before. Ask again for a while (the hold keeps
		// serving the final values), then judge.
		var v float64
		var ok bool
		var err error
		for deadline := time.Now().Add(20 * time.Second); ; {
			var r promResponse
			r, err = promQuery(ctx, base, expr)
			v, ok = scalarValue(r)
			if (err == nil && ok && v == want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		if err != nil || !ok || v != want {
			t.Errorf("%s = %v (ok %v, err %v), want %v", expr, v, ok, err, want)
		}
	}
	// The emptiness check above can fail: a name nothing exports has no data.
	if r, err := promQuery(ctx, base, `walletsim_nosuch_metric`); err != nil || len(r.Data.Result) != 0 {
		t.Errorf("a metric nobody exports returned %d series (err %v)", len(r.Data.Result), err)
	}
	t.Logf("%d dashboard queries evaluated in %v total", len(qs), time.Since(start).Round(time.Millisecond))
}

// syncBuilder is a strings.Builder safe for a process's stdout and stderr
// writing at once.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
