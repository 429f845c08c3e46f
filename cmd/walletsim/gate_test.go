package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/internal/cli"
)

// gateSummary is a summary.json as the engine writes it.
func gateSummary(paymentsPerS float64, p99 float64, conserved bool) string {
	return fmt.Sprintf(`{
  "scenario": "gba-lunch-rush", "policy": "pboc-2018", "seed": 42,
  "payments": {"attempted": 100000, "succeeded": 99950, "declined": 50, "by_kind": {"qr_merchant": 100000}},
  "declines": {"insufficient_funds": 30, "daily_limit": 20},
  "events": {"written": 299850, "digest": "sha256:9f2c"},
  "invariants": {"money_conserved": %v, "negative_balances": 0, "duplicate_events": 0, "unresolved_commands": 0},
  "throughput": {"payments_per_s": %v, "events_per_s": 149925},
  "latency_ms": {"p50": 3.2, "p95": 11.8, "p99": %v, "max": 48},
  "duration_s": 2,
  "manifest": {"walletsim_version": "(devel)", "commit": "abc", "go_version": "go1.26.8", "goos": "linux",
               "goarch": "amd64", "cpu_model": "Test CPU", "cpu_count": 2, "gomaxprocs": 2, "seed": 42,
               "policy": "pboc-2018", "broker": "embedded"}
}`, conserved, paymentsPerS, p99)
}

const gateThresholds = `thresholds:
  - "latency_ms.p99 < 25"
  - "payments.success_rate >= 0.999"
  - "invariants.money_conserved == true"
  - "throughput.payments_per_s > 40000"
tolerances:
  throughput.payments_per_s: -10%
  latency_ms.p99: +20%
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGateCLI builds the binary once and checks what a CI job sees: exit
// codes, the table and the messages.
func TestGateCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the walletsim binary")
	}
	bin := filepath.Join(t.TempDir(), "walletsim")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	summary := writeFile(t, dir, "summary.json", gateSummary(50000, 19.5, true))
	faster := writeFile(t, dir, "baseline.json", gateSummary(60000, 18, true)) // 20% faster
	similar := writeFile(t, dir, "similar.json", gateSummary(52000, 18, true))
	thresholds := writeFile(t, dir, "gate.yaml", gateThresholds)

	run := func(t *testing.T, args ...string) (code int, stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"gate"}, args...)...)
		cmd.Dir = dir
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			code = ee.ExitCode()
		case err != nil:
			t.Fatal(err)
		}
		return code, o.String(), e.String()
	}

	t.Run("passing thresholds exit 0", func(t *testing.T) {
		code, out, errOut := run(t, summary, "--thresholds", thresholds)
		if code != 0 {
			t.Fatalf("exit %d, want 0\n%s%s", code, out, errOut)
		}
		if !strings.Contains(out, "PASS: all 4 checks passed") || !strings.Contains(out, "payments.success_rate") {
			t.Errorf("stdout:\n%s", out)
		}
		if !strings.Contains(out, "2 tolerance(s) not checked") {
			t.Errorf("no warning that the tolerances went unchecked:\n%s", out)
		}
	})

	t.Run("baseline within tolerance exit 0", func(t *testing.T) {
		code, out, errOut := run(t, summary, "--baseline", similar, "--thresholds", thresholds)
		if code != 0 {
			t.Fatalf("exit %d, want 0\n%s%s", code, out, errOut)
		}
	})

	t.Run("baseline 20% faster exit 1 naming the metric", func(t *testing.T) {
		junit, md, js := filepath.Join(dir, "gate.xml"), filepath.Join(dir, "summary.md"), filepath.Join(dir, "gate.json")
		code, out, errOut := run(t, summary, "--baseline", faster, "--thresholds", thresholds,
			"--junit", junit, "--markdown", md, "--json", js)
		if code != 1 {
			t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
		}
		var row string
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "throughput.payments_per_s ") && strings.Contains(line, "60000") {
				row = line
			}
		}
		for _, want := range []string{"60000", "50000", "-16.7%", ">= 54000 (-10%)", "FAIL"} {
			if !strings.Contains(row, want) {
				t.Errorf("table row %q lacks %q; table:\n%s", row, want, out)
			}
		}
		if !strings.Contains(out, "FAIL: 1 of 6 checks failed") || !strings.Contains(out, "throughput.payments_per_s fell 16.7%") {
			t.Errorf("stdout:\n%s", out)
		}
		if errOut != "" {
			t.Errorf("stderr %q, want nothing: the table says it all", errOut)
		}
		// The report files are written on failure too.
		var suites struct {
			Suites []struct {
				Failures int `xml:"failures,attr"`
				Cases    []struct {
					Name    string    `xml:"name,attr"`
					Failure *struct{} `xml:"failure"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		data, err := os.ReadFile(junit)
		if err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(data, &suites); err != nil {
			t.Fatal(err)
		}
		if len(suites.Suites) != 1 || suites.Suites[0].Failures != 1 || len(suites.Suites[0].Cases) != 6 {
			t.Fatalf("JUnit: %+v", suites)
		}
		for _, c := range suites.Suites[0].Cases {
			if (c.Failure != nil) != (c.Name == "throughput.payments_per_s -10%") {
				t.Errorf("testcase %q failure=%v", c.Name, c.Failure != nil)
			}
		}
		mdText, err := os.ReadFile(md)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(mdText), "| `throughput.payments_per_s` | 60000 | 50000 | -16.7% | `>= 54000 (-10%)` | ❌ **FAIL** |") {
			t.Errorf("Markdown:\n%s", mdText)
		}
		var rep struct {
			Pass   bool
			Checks []json.RawMessage
		}
		data, err = os.ReadFile(js)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &rep); err != nil || rep.Pass || len(rep.Checks) != 6 {
			t.Errorf("JSON report pass=%v checks=%d err=%v", rep.Pass, len(rep.Checks), err)
		}
		// --markdown appends, as $GITHUB_STEP_SUMMARY expects.
		run(t, summary, "--baseline", faster, "--thresholds", thresholds, "--markdown", md)
		again, _ := os.ReadFile(md)
		if n := strings.Count(string(again), "walletsim gate"); n != 2 {
			t.Errorf("%d reports in the Markdown file after two runs, want 2", n)
		}
	})

	t.Run("missing field exit 2 naming it", func(t *testing.T) {
		code, out, errOut := run(t, summary, "--threshold", "latency_ms.p999 < 25")
		if code != 2 {
			t.Fatalf("exit %d, want 2\n%s%s", code, out, errOut)
		}
		if !strings.Contains(errOut, "latency_ms.p999 does not exist") || !strings.Contains(errOut, "summary.json") {
			t.Errorf("stderr %q does not name the field and file", errOut)
		}
		if out != "" {
			t.Errorf("stdout %q, want no table for bad input", out)
		}
	})

	t.Run("missing field in thresholds file exit 2", func(t *testing.T) {
		bad := writeFile(t, dir, "bad-field.yaml", "thresholds:\n  - throughput.payments_per_sec > 1\n")
		code, _, errOut := run(t, summary, "--thresholds", bad)
		if code != 2 || !strings.Contains(errOut, "throughput.payments_per_sec does not exist") || !strings.Contains(errOut, "bad-field.yaml:2") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown key", []string{summary, "--thresholds", writeFile(t, dir, "typo.yaml", "thresholds: [a < 1]\ntolerence:\n  a: 5%\n")}, `typo.yaml:2: unknown key "tolerence"`},
		{"bad expression", []string{summary, "--threshold", "latency_ms.p99 = 25"}, "use == to test equality"},
		{"wrong tolerance sign", []string{summary, "--baseline", faster, "--tolerance", "latency_ms.p99=-10%"}, "lower is better"},
		{"tolerance without =", []string{summary, "--tolerance", "latency_ms.p99"}, "want METRIC=TOL"},
		{"no result", []string{"--thresholds", thresholds}, "give at least one RESULT"},
		{"no rules", []string{summary}, "nothing to check"},
		{"missing result", []string{"nope.json", "--thresholds", thresholds}, "nope.json"},
		{"bad JSON", []string{writeFile(t, dir, "broken.json", "{\"a\": }"), "--thresholds", thresholds}, "broken.json:1:"},
		{"bool compared with number", []string{summary, "--threshold", "invariants.money_conserved == 1"}, "cannot compare a boolean with a number"},
		{"unknown flag", []string{summary, "--tresholds", thresholds}, "unknown flag"},
		{"repeat with a bad scenario", []string{"--repeat", "3", "--scenario", thresholds, "--thresholds", thresholds}, "unknown key"},
		{"repeat without scenario", []string{"--repeat", "3", "--thresholds", thresholds}, "--repeat needs --scenario"},
		{"repeat zero", []string{"--repeat", "0", "--scenario", thresholds, "--thresholds", thresholds}, "want 1 or more runs"},
		{"scenario without repeat", []string{summary, "--scenario", thresholds, "--thresholds", thresholds}, "go with --repeat"},
	} {
		t.Run(tc.name+" exit 2", func(t *testing.T) {
			code, _, errOut := run(t, tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}

	t.Run("median of several results", func(t *testing.T) {
		slow := writeFile(t, dir, "slow.json", gateSummary(10000, 90, true))
		code, out, errOut := run(t, summary, slow, similar, "--baseline", faster, "--baseline", similar,
			"--threshold", "latency_ms.p99 < 25", "--tolerance", "throughput.payments_per_s=-20%")
		// medians: now 50000 (of 10000, 50000, 52000), p99 19.5; baseline 56000
		if code != 0 {
			t.Fatalf("exit %d, want 0 (one slow run out of three)\n%s%s", code, out, errOut)
		}
		if !strings.Contains(out, "56000") || !strings.Contains(out, "19.5") {
			t.Errorf("table does not show the medians:\n%s", out)
		}
	})

	t.Run("JSON to stdout moves the table to stderr", func(t *testing.T) {
		code, out, errOut := run(t, summary, "--thresholds", thresholds, "--json", "-")
		var rep struct{ Pass bool }
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || !rep.Pass || !strings.Contains(errOut, "PASS") {
			t.Errorf("exit %d stdout %q stderr %q", code, out, errOut)
		}
	})
}

// TestGateRepeat drives --repeat through an injected runner, in process.
func TestGateRepeat(t *testing.T) {
	dir := t.TempDir()
	scenario := writeFile(t, dir, "scenario.yaml", "wallets: 10\n")
	thresholds := writeFile(t, dir, "gate.yaml", "thresholds:\n  - throughput.payments_per_s >= 50000\n  - invariants.money_conserved == true\n")
	tps := []float64{50000, 1000, 60000} // the median, 50000, passes
	var calls []string
	runScenario := func(ctx context.Context, scen string, seed int64, outDir string) (string, error) {
		if scen != scenario || seed != 7 {
			return "", fmt.Errorf("scenario %q seed %d", scen, seed)
		}
		calls = append(calls, outDir)
		p := filepath.Join(outDir, "summary.json")
		return p, os.WriteFile(p, []byte(gateSummary(tps[len(calls)-1], 10, true)), 0o644)
	}
	exec := func(args ...string) (string, error) {
		cmd := newGateCmd(runScenario)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), err
	}
	out, err := exec("--repeat", "3", "--scenario", scenario, "--seed", "7", "--out", filepath.Join(dir, "runs"), "--thresholds", thresholds)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(calls) != 3 || calls[0] == calls[1] || filepath.Base(calls[2]) != "run-3" {
		t.Errorf("runs in %q, want three directories run-1..run-3", calls)
	}
	if !strings.Contains(out, "run 3 of 3") || !strings.Contains(out, "50000") {
		t.Errorf("output:\n%s", out)
	}

	// A run that fails is a runtime failure (exit 1), not a usage error.
	calls = nil
	runScenario = func(context.Context, string, int64, string) (string, error) { return "", errors.New("broker down") }
	_, err = exec("--repeat", "2", "--scenario", scenario, "--seed", "7", "--thresholds", thresholds)
	if err == nil || cli.Code(err) != cli.ExitFailure || !strings.Contains(err.Error(), "run 1 of 2") {
		t.Errorf("failing run: %v (code %d)", err, cli.Code(err))
	}
}
