package html

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walletsim/walletsim/internal/testbin"
)

// TestRunReportInBrowser opens the report a real `walletsim run --out`
// writes, not a sample: the charts must draw from the engine's sampled
// series, the page must stay self-contained, and nothing may log an error.
// It skips without Chromium like TestBrowser (WALLETSIM_BROWSER_TESTS=1
// makes that a failure).
func TestRunReportInBrowser(t *testing.T) {
	browser := startBrowser(t)
	dir := t.TempDir()
	cmd := exec.Command(testbin.Path(t), "run", "quickstart", "--payments", "60000", "--quiet", "--out", dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walletsim run: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "report.html")
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("run did not write its report: %v\n%s", err, out)
	}
	// What a reader looks for first: the scenario, the policy and the
	// invariants verdict, in the page's text.
	for _, want := range []string{"quickstart", "unionpay-open-2024", "money is conserved per currency", "Throughput"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	start := time.Now()
	c := openPage(t, browser, path)
	// Throughput, latency, payments by kind, declines, green energy: five charts.
	for _, p := range verdict(c, 5) {
		t.Error(p)
	}
	bounds, colours, sd, _ := pixelStats(c.Screenshot)
	t.Logf("run report: %d charts, %d chars of text, screenshot %v with %d+ colours (stddev %.1f), %v",
		c.Layout.SizedCharts, c.Layout.TextLen, bounds.Size(), colours, sd, time.Since(start).Round(time.Millisecond))
	if shots := os.Getenv("WALLETSIM_SCREENSHOT_DIR"); shots != "" {
		if err := os.WriteFile(filepath.Join(shots, "report-cli-run.png"), c.Screenshot, 0o644); err != nil {
			t.Error(err)
		}
	}
}
