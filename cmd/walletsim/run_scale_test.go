package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type runSummaryJSON struct {
	Payments struct {
		Attempted int64 `json:"attempted"`
		Succeeded int64 `json:"succeeded"`
	} `json:"payments"`
	Invariants struct {
		MoneyConserved     bool  `json:"money_conserved"`
		UnresolvedCommands int64 `json:"unresolved_commands"`
	} `json:"invariants"`
	Engine struct {
		Wallets int64 `json:"wallets"`
	} `json:"engine"`
}

func readRunSummary(t *testing.T, dir string) runSummaryJSON {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s runSummaryJSON
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// run --scale resizes any scenario, and every run reports its calibration
// as a table and as DIR/calibration.json.
func TestRunScaleAndCalibration(t *testing.T) {
	if testing.Short() {
		t.Skip("builds walletsim and runs the engine")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "h")
	r := runBin(t, dir, "run", "hk-rush-hour", "--scale", "small", "--out", out, "--quiet", "--calibration=table")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if s := readRunSummary(t, out); s.Engine.Wallets != 1000 || s.Payments.Attempted < 19_900 || s.Payments.Attempted > 20_000 {
		t.Errorf("--scale small ran %d payments over %d wallets, want about 20,000 over 1,000", s.Payments.Attempted, s.Engine.Wallets)
	}
	if !strings.Contains(r.stdout, "calibration") || !strings.Contains(r.stdout, "operator_share") || !strings.Contains(r.stdout, "cal:defaults.daily-riders") {
		t.Errorf("no calibration table on stdout:\n%s", r.stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, "calibration.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Payments int64 `json:"payments"`
		Rows     []struct {
			Kind      string  `json:"kind"`
			Status    string  `json:"status"`
			Quantity  string  `json:"quantity"`
			Key       string  `json:"key"`
			Generated float64 `json:"generated"`
			Target    float64 `json:"target"`
			RelError  float64 `json:"rel_error"`
			Basis     string  `json:"basis"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	ops := 0
	for _, q := range rep.Rows {
		if q.Status == "off" {
			t.Errorf("%s %s %s is off at --scale small", q.Kind, q.Quantity, q.Key)
		}
		if q.Kind != "generator" {
			continue
		}
		switch q.Quantity {
		case "operator_share":
			ops++
		case "peak_multiplier":
			// The day's plan is exact even at small scale.
			if math.Abs(q.Target-2.2) > 1e-9 || math.Abs(q.Generated-2.2) > 0.05 {
				t.Errorf("peak: generated %v, target %v; want 2.2x", q.Generated, q.Target)
			}
		}
	}
	if ops != 7 {
		t.Errorf("%d operator shares in calibration.json, want 7", ops)
	}
	if !strings.Contains(readFile(t, filepath.Join(out, "report.html")), "Calibration: ") {
		t.Error("report.html has no calibration table")
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The default after a run is one line and the off rows; a bad
// --calibration value is a usage error; calibrate counts seeds.
func TestRunCalibrationSummaryAndCalibrate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds walletsim and runs the engine")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "q")
	r := runBin(t, dir, "run", "quickstart", "--payments", "2000", "--out", out, "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !regexp.MustCompile(`(?m)^calibration: \d+ ok, \d+ unresolved, 2 departs, 0 off; see calibration.json$`).MatchString(r.stdout) {
		t.Errorf("no one-line calibration verdict with nothing off:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "operator_share") {
		t.Errorf("the default output lists rows that are not off:\n%s", r.stdout)
	}
	r = runBin(t, dir, "run", "quickstart", "--payments", "2000", "--quiet", "--calibration=everything")
	if r.code != 2 || !strings.Contains(r.stderr, "calibration") {
		t.Errorf("--calibration=everything: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runBin(t, dir, "calibrate", "quickstart", "--payments", "20000", "--seeds", "3")
	if r.code != 0 || !strings.Contains(r.stdout, "20000 payments each; every row passed in 3 of 3 seeds") {
		t.Errorf("calibrate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runBin(t, dir, "calibrate", "quickstart", "--seeds", "0")
	if r.code != 2 {
		t.Errorf("calibrate --seeds 0: exit %d, want 2", r.code)
	}
}

func TestRunScaleErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds walletsim")
	}
	dir := t.TempDir()
	r := runBin(t, dir, "run", "quickstart", "--scale", "huge", "--quiet")
	if r.code != 2 || !strings.Contains(r.stderr, `--scale: unknown scale "huge" (want one of small, medium, large, xlarge)`) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	out := filepath.Join(dir, "nocal")
	r = runBin(t, dir, "run", "quickstart", "--scale", "small", "--payments", "3000", "--calibration=false", "--out", out, "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if s := readRunSummary(t, out); s.Payments.Attempted != 3000 || s.Engine.Wallets != 1000 {
		t.Errorf("--payments 3000 with --scale small ran %d payments over %d wallets", s.Payments.Attempted, s.Engine.Wallets)
	}
	if _, err := os.Stat(filepath.Join(out, "calibration.json")); err == nil {
		t.Error("--calibration=false still wrote calibration.json")
	}
}
