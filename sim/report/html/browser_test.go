package html

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser test opens each report in headless Chromium and fails when the
// page is blank, logs a console error or exception, or tries any network
// request. It skips when Chromium is absent, unless WALLETSIM_BROWSER_TESTS
// is set (CI sets it to 1), in which case a missing Chromium is a failure.
// WALLETSIM_SCREENSHOT_DIR=/tmp keeps a screenshot of each report there as
// report-<name>.png.

const chromiumPath = "/usr/bin/chromium"

// findChromium returns the Chromium binary or skips (or fails) the test.
func findChromium(t *testing.T) string {
	t.Helper()
	path := chromiumPath
	if _, err := os.Stat(path); err != nil {
		if p, lerr := exec.LookPath("chromium"); lerr == nil {
			path = p
		} else {
			if os.Getenv("WALLETSIM_BROWSER_TESTS") != "" {
				t.Fatalf("WALLETSIM_BROWSER_TESTS is set but Chromium is missing (%v); install it with apt-get install -y chromium", err)
			}
			t.Skipf("Chromium not found at %s or on PATH; set WALLETSIM_BROWSER_TESTS=1 to make this a failure", chromiumPath)
		}
	}
	return path
}

// startBrowser launches one headless Chromium with a fresh profile for the
// whole test; each page gets its own tab.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := findChromium(t)
	var output syncBuffer
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
		chromedp.CombinedOutput(&output),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil { // starts the browser, no timeout on purpose
		t.Fatalf("start %s: %v\nbrowser output:\n%s", exe, err, output.String())
	}
	t.Logf("Chromium started in %v", time.Since(start).Round(time.Millisecond))
	return ctx
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// pageCheck is what a page showed and did.
type pageCheck struct {
	Problems   []string // console errors, exceptions, requests, dialogs
	Screenshot []byte   // PNG of the full page
	Layout     layout
}

// layout is measured in the page after it loaded.
type layout struct {
	TextLen     int      `json:"textLen"`
	Charts      int      `json:"charts"`
	SizedCharts int      `json:"sizedCharts"`
	EmptySVGs   []string `json:"emptySVGs"`
	Overlaps    []string `json:"overlaps"`
	Overflow    int      `json:"overflow"` // horizontal overflow of the page, px
}

// measureJS counts the charts whose <svg> has a non-zero size and finds text
// of one chart that overlaps other text of the same chart.
const measureJS = `(() => {
  const figs = [...document.querySelectorAll('figure.chart')];
  const out = {textLen: document.body.innerText.trim().length, charts: figs.length,
    sizedCharts: 0, emptySVGs: [], overlaps: [],
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth};
  figs.forEach((f, i) => {
    const svg = f.querySelector('svg');
    const cap = (f.querySelector('figcaption') || {}).textContent || ('chart ' + i);
    if (!svg) { out.emptySVGs.push(cap); return; }
    const r = svg.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && svg.querySelectorAll('path,rect,circle,line').length > 0) out.sizedCharts++;
    else out.emptySVGs.push(cap);
    const boxes = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()])
      .filter(([s, b]) => s.trim() && b.width > 0);
    for (let a = 0; a < boxes.length; a++) for (let b = a + 1; b < boxes.length; b++) {
      const p = boxes[a][1], q = boxes[b][1];
      const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
      const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (w > 1 && h > 2) out.overlaps.push(cap + ': "' + boxes[a][0] + '" overlaps "' + boxes[b][0] + '"');
    }
  });
  return out;
})()`

// openPage loads a local HTML file in a new tab and reports what happened.
func openPage(t *testing.T, browser context.Context, path string) pageCheck {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	fileURL := (&url.URL{Scheme: "file", Path: abs}).String()

	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	var mu sync.Mutex
	var problems []string
	report := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, fmt.Sprintf(format, a...))
	}
	err = chromedp.Listen(tab, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					v := string(a.Value)
					if u, err := strconv.Unquote(v); err == nil {
						v = u
					}
					args = append(args, v+a.Description)
				}
				report("console.%s: %s", ev.Type, strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			report("exception: %s", msg)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				report("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			if ev.Request.URL != fileURL {
				report("network request: %s %s", ev.Request.Method, ev.Request.URL)
			}
		case *network.EventLoadingFailed:
			if ev.BlockedReason != "" {
				report("blocked request (%s): %s", ev.BlockedReason, ev.ErrorText)
			}
		case *page.EventJavascriptDialogOpening:
			report("dialog opened: %s", ev.Message)
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancelTimeout := context.WithTimeout(tab, 30*time.Second)
	defer cancelTimeout()
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1200, 900),
		chromedp.Navigate(fileURL),
	); err != nil {
		t.Fatalf("open %s: %v", fileURL, err)
	}
	lay, err := chromedp.Run(ctx, chromedp.Evaluate[layout](measureJS))
	if err != nil {
		t.Fatalf("measure %s: %v", path, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	// Let late console messages and requests arrive before the verdict.
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	return pageCheck{Problems: slicesClone(problems), Screenshot: shot, Layout: lay}
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

type reportCase = struct {
	name   string
	write  func(io.Writer) error
	charts int
}

func slicesCloneReports(s []reportCase) []reportCase { return append([]reportCase(nil), s...) }

// edgeReports must render as cleanly as the samples.
var edgeReports = []reportCase{
	{"run-empty", func(w io.Writer) error { return WriteRun(w, RunReport{}) }, 5},
	{"compare-empty", func(w io.Writer) error { return WriteCompare(w, CompareReport{}) }, 3},
	{"attack-empty", func(w io.Writer) error { return WriteAttack(w, AttackReport{}) }, 6},
	{"attack-one-point", func(w io.Writer) error {
		one := []Point{{T: 0, Value: 1}}
		return WriteAttack(w, AttackReport{Title: "one second", Rate: 1, Duration: time.Second,
			Latency:    AttackLatency{P50: one, P90: one, P99: one, Max: one},
			Throughput: one, SuccessRatio: one, StatusCodes: map[string]int64{"200": 1},
			Latencies: []LatencyStat{{"p99", 1}}})
	}, 6},
}

// pixelStats decodes a PNG and returns its size, the number of distinct
// colours (capped) and the standard deviation of the luminance.
func pixelStats(b []byte) (bounds image.Rectangle, colours int, stddev float64, err error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return image.Rectangle{}, 0, 0, err
	}
	bounds = img.Bounds()
	seen := map[uint32]bool{}
	var n, s, ss float64
	step := max(1, bounds.Dx()*bounds.Dy()/400_000)
	i := 0
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			if i++; i%step != 0 {
				continue
			}
			r, g, b, _ := img.At(x, y).RGBA()
			if len(seen) < 4096 {
				seen[(r>>8)<<16|(g>>8)<<8|b>>8] = true
			}
			l := 0.2126*float64(r>>8) + 0.7152*float64(g>>8) + 0.0722*float64(b>>8)
			n++
			s += l
			ss += l * l
		}
	}
	if n == 0 {
		return bounds, 0, 0, errors.New("empty image")
	}
	mean := s / n
	return bounds, len(seen), math.Sqrt(math.Max(0, ss/n-mean*mean)), nil
}

// verdict lists why a page does not pass.
func verdict(c pageCheck, wantCharts int) []string {
	out := slicesClone(c.Problems)
	l := c.Layout
	if l.TextLen < 20 {
		out = append(out, fmt.Sprintf("page is blank: %d characters of text", l.TextLen))
	}
	if l.Charts < wantCharts || l.SizedCharts < l.Charts {
		out = append(out, fmt.Sprintf("%d of %d charts drawn (want %d); not drawn: %v", l.SizedCharts, l.Charts, wantCharts, l.EmptySVGs))
	}
	for _, o := range l.Overlaps {
		out = append(out, "overlapping labels: "+o)
	}
	if l.Overflow > 0 {
		out = append(out, fmt.Sprintf("page overflows horizontally by %dpx", l.Overflow))
	}
	bounds, colours, sd, err := pixelStats(c.Screenshot)
	switch {
	case err != nil:
		out = append(out, "screenshot is not a PNG: "+err.Error())
	case colours < 8 || sd < 4:
		out = append(out, fmt.Sprintf("screenshot %v is (nearly) one colour: %d colours, luminance stddev %.2f", bounds.Size(), colours, sd))
	}
	return out
}

func TestBrowser(t *testing.T) {
	browser := startBrowser(t)
	shots := os.Getenv("WALLETSIM_SCREENSHOT_DIR")
	// The samples, then degenerate reports: empty, and one point per series.
	pages := append(slicesCloneReports(reports), edgeReports...)
	for _, r := range pages {
		t.Run(r.name, func(t *testing.T) {
			start := time.Now()
			path := filepath.Join(t.TempDir(), r.name+".html")
			if err := WriteFile(path, r.write); err != nil {
				t.Fatal(err)
			}
			c := openPage(t, browser, path)
			for _, p := range verdict(c, r.charts) {
				t.Error(p)
			}
			bounds, colours, sd, _ := pixelStats(c.Screenshot)
			t.Logf("%s: %d charts, %d chars of text, screenshot %v with %d+ colours (stddev %.1f), %v",
				r.name, c.Layout.SizedCharts, c.Layout.TextLen, bounds.Size(), colours, sd, time.Since(start).Round(time.Millisecond))
			if shots != "" {
				out := filepath.Join(shots, "report-"+r.name+".png")
				if err := os.WriteFile(out, c.Screenshot, 0o644); err != nil {
					t.Error(err)
				}
			}
		})
	}

	// The checks above must be able to fail: a page that logs an error,
	// throws, fetches from the network and draws nothing is caught.
	t.Run("catches-bad-pages", func(t *testing.T) {
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.html")
		page := `<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">` +
			`<script>console.error("boom"); throw new Error("kaboom")</script></body></html>`
		if err := os.WriteFile(bad, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(verdict(openPage(t, browser, bad), 1), "\n")
		for _, want := range []string{"console.error: boom", "kaboom", "network request: GET http://127.0.0.1:9/x.png", "page is blank", "0 of 0 charts", "one colour"} {
			if !strings.Contains(got, want) {
				t.Errorf("bad page: verdict lacks %q; got:\n%s", want, got)
			}
		}
		// A report page with an external reference gets blocked by its CSP,
		// and the block is reported.
		var buf bytes.Buffer
		if err := WriteRun(&buf, sampleRun()); err != nil {
			t.Fatal(err)
		}
		leaky := strings.Replace(buf.String(), "</main>", `<img src="http://127.0.0.1:9/pixel.png"></main>`, 1)
		leak := filepath.Join(dir, "leak.html")
		if err := os.WriteFile(leak, []byte(leaky), 0o644); err != nil {
			t.Fatal(err)
		}
		if v := verdict(openPage(t, browser, leak), 5); len(v) == 0 {
			t.Error("an external image in a report went unnoticed")
		} else {
			t.Logf("external image caught: %s", strings.Join(v, "; "))
		}
	})
}

var _ io.Writer = (*syncBuffer)(nil)
