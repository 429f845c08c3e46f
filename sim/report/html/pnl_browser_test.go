package html

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserPnL opens the comparison report in headless Chromium and
// checks its profit-and-loss section the way a reader would see it: the
// section is on the page with a visible size, its table has a row per
// institution and role plus the merchants' and consumers' costs, each
// policy's change against the first is shown, and a screenshot of just
// that section is not blank. WALLETSIM_SCREENSHOT_DIR keeps the shot as
// report-compare-pnl.png.
func TestBrowserPnL(t *testing.T) {
	browser := startBrowser(t)
	r := sampleCompare()
	path := filepath.Join(t.TempDir(), "compare.html")
	if err := WriteCompareFile(path, r); err != nil {
		t.Fatal(err)
	}
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(tab, 30*time.Second)
	defer cancelTimeout()
	type pnlSeen struct {
		Height  float64  `json:"height"`
		Width   float64  `json:"width"`
		Rows    int      `json:"rows"`
		Heading string   `json:"heading"`
		Cells   []string `json:"cells"`
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 900), chromedp.Navigate("file://"+path)); err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[pnlSeen](`(() => {
		const s = document.getElementById("pnl");
		if (!s) return {height: 0, width: 0, rows: 0, heading: "", cells: []};
		const b = s.getBoundingClientRect();
		const rows = s.querySelectorAll("tbody tr");
		return {height: b.height, width: b.width, rows: rows.length,
			heading: (s.querySelector("h2") || {}).textContent || "",
			cells: Array.from(rows).map(r => r.innerText)};
	})()`))
	if err != nil {
		t.Fatalf("measure the P&L section: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView("#pnl")); err != nil {
		t.Fatalf("scroll to the P&L section: %v", err)
	}
	shot, err := chromedp.Run(ctx, chromedp.Screenshot("#pnl"))
	if err != nil {
		t.Fatalf("screenshot the P&L section: %v", err)
	}
	if seen.Height < 100 || seen.Width < 400 {
		t.Errorf("P&L section is %vx%v px: not drawn", seen.Width, seen.Height)
	}
	if want := len(r.PnL.Rows); seen.Rows != want {
		t.Errorf("P&L table shows %d rows, want %d", seen.Rows, want)
	}
	if !bytes.Contains([]byte(seen.Heading), []byte("Profit and loss")) {
		t.Errorf("P&L heading %q", seen.Heading)
	}
	for i, want := range []string{"alipay/acquirer", "bank/issuer", "weixin/wallet", "unionpay/network", "netsunion/clearing", "merchants' cost", "consumers' cost"} {
		if i >= len(seen.Cells) || !bytes.Contains([]byte(seen.Cells[i]), []byte(want)) {
			t.Errorf("P&L row %d: %q, want %q", i, at(seen.Cells, i), want)
		}
	}
	if len(seen.Cells) > 0 && !bytes.Contains([]byte(seen.Cells[0]), []byte("(-5,461.65)")) {
		t.Errorf("P&L row 0 lacks the change against the first policy: %q", seen.Cells[0])
	}
	bounds, colours, sd, err := pixelStats(shot)
	if err != nil || colours < 8 || sd < 4 {
		t.Errorf("P&L screenshot %v: %d colours, stddev %.1f, %v", bounds.Size(), colours, sd, err)
	}
	if dir := os.Getenv("WALLETSIM_SCREENSHOT_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "report-compare-pnl.png"), shot, 0o644); err != nil {
			t.Error(err)
		}
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
