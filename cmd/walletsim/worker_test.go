package main

import (
	"bufio"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/walletsim/walletsim/internal/testbin"
)

// proc is a walletsim subprocess whose output lines a test can wait for.
type proc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	cond *sync.Cond
	out  []string // stdout and stderr lines, in arrival order per stream
	eof  int      // streams closed
	exit chan struct{}
	err  error
}

func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(testbin.Path(t), args...), exit: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var readers sync.WaitGroup
	for _, r := range []io.Reader{stdout, stderr} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			sc := bufio.NewScanner(r)
			for sc.Scan() {
				p.mu.Lock()
				p.out = append(p.out, sc.Text())
				p.mu.Unlock()
				p.cond.Broadcast()
			}
			p.mu.Lock()
			p.eof++
			p.mu.Unlock()
			p.cond.Broadcast()
		}()
	}
	go func() {
		readers.Wait() // Wait must follow the pipes' last reads
		p.err = p.cmd.Wait()
		close(p.exit)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop sends SIGTERM and waits; it reports a worker that does not exit 0.
func (p *proc) stop(t *testing.T) {
	select {
	case <-p.exit:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exit:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exit
		t.Errorf("%s did not exit within 30s of SIGTERM", p.name)
	}
}

func (p *proc) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.out)
}

func (p *proc) output() string { return strings.Join(p.lines(), "\n") }

// waitFor blocks until ok holds on the lines so far, or fails the test.
func (p *proc) waitFor(t *testing.T, what string, timeout time.Duration, ok func(lines []string) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, p.cond.Broadcast)
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for !ok(p.out) {
		if p.eof == 2 || time.Now().After(deadline) {
			out := strings.Join(p.out, "\n")
			p.mu.Unlock()
			defer p.mu.Lock()
			t.Fatalf("%s: no %s (exited: %v); output:\n%s", p.name, what, p.eof == 2, out)
		}
		p.cond.Wait()
	}
}

var (
	genLine      = regexp.MustCompile(`generation (\d+): partitions \[([0-9 ]*)\]`)
	finishedLine = regexp.MustCompile(`generation \d+: finished partitions \[([0-9 ]*)\]`)
	metricsLine  = regexp.MustCompile(`metrics: serving (http://\S+/metrics)`)
)

func parseInts(s string) []int {
	var out []int
	for _, f := range strings.Fields(s) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

// assignment is the worker's latest generation and its partitions.
func assignment(lines []string) (gen int, parts []int) {
	gen = -1
	for _, l := range lines {
		if m := genLine.FindStringSubmatch(l); m != nil {
			gen, _ = strconv.Atoi(m[1])
			parts = parseInts(m[2])
		}
	}
	return gen, parts
}

// finished is every partition the worker reported finished.
func finished(lines []string) []int {
	var out []int
	for _, l := range lines {
		if m := finishedLine.FindStringSubmatch(l); m != nil {
			out = append(out, parseInts(m[1])...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func metricsURL(t *testing.T, p *proc) string {
	t.Helper()
	var url string
	p.waitFor(t, "metrics URL", 30*time.Second, func(lines []string) bool {
		for _, l := range lines {
			if m := metricsLine.FindStringSubmatch(l); m != nil {
				url = m[1]
				return true
			}
		}
		return false
	})
	return url
}

// metricValue sums the samples of one metric on a /metrics page.
func metricValue(t *testing.T, url, name string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, name+" ") && !strings.HasPrefix(l, name+"{") {
			continue
		}
		v, err := strconv.ParseFloat(l[strings.LastIndexByte(l, ' ')+1:], 64)
		if err != nil {
			t.Fatalf("%s: bad sample %q", url, l)
		}
		sum += v
	}
	return sum
}

func allParts(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// embeddedDigest is the digest of the same run on the embedded broker,
// all processors in one process: what the workers must reproduce.
func embeddedDigest(t *testing.T, payments string) string {
	t.Helper()
	dir := t.TempDir()
	r := runBin(t, dir, "run", "quickstart", "--payments", payments, "--partitions", "8", "--quiet", "--out", dir)
	if r.code != 0 {
		t.Fatalf("embedded run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return field(readSummary(t, dir), "events.digest").(string)
}

func checkRun(t *testing.T, r result, dir string, payments int, digest string) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("run --workers external: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	s := readSummary(t, dir)
	for path, want := range map[string]any{
		"payments.attempted": float64(payments), "invariants.money_conserved": true,
		"invariants.unresolved_commands": 0.0, "invariants.duplicate_outcomes": 0.0, "invariants.duplicate_events": 0.0,
		"invariants.negative_balances": 0.0, "invariants.sequence_gaps": 0.0, "invariants.balance_mismatches": 0.0,
		"engine.broker": "external", "events.digest": digest,
	} {
		if got := field(s, path); got != want {
			t.Errorf("summary %s = %v, want %v", path, got, want)
		}
	}
}

// TestWorkersShareARun: two `walletsim worker` processes in one consumer
// group split the partitions of a run produced by `run --workers external`
// against one `walletsim broker`; the log they write is the one the
// embedded single-process run writes, digest for digest.
func TestWorkersShareARun(t *testing.T) {
	const payments = 30_000
	digest := embeddedDigest(t, strconv.Itoa(payments))
	addr := startBroker(t)
	w1 := startProc(t, "w1", "worker", "quickstart", "--brokers", addr, "--partitions", "8", "--name", "w1", "--metrics-addr", "127.0.0.1:0")
	w2 := startProc(t, "w2", "worker", "quickstart", "--brokers", addr, "--partitions", "8", "--name", "w2")
	url := metricsURL(t, w1)

	// Wait for a generation that splits the partitions between both, so
	// the run is shared rather than raced by whichever joined first.
	split := func(lines []string) bool { _, p := assignment(lines); return len(p) > 0 && len(p) < 8 }
	w1.waitFor(t, "split assignment", time.Minute, split)
	w2.waitFor(t, "split assignment", time.Minute, split)
	g1, p1 := assignment(w1.lines())
	g2, p2 := assignment(w2.lines())
	if g1 != g2 || !slices.Equal(slices.Sorted(slices.Values(append(slices.Clone(p1), p2...))), allParts(8)) {
		t.Fatalf("assignments do not partition the topic: w1 gen %d %v, w2 gen %d %v", g1, p1, g2, p2)
	}

	dir := t.TempDir()
	r := runBin(t, dir, "run", "quickstart", "--payments", strconv.Itoa(payments), "--partitions", "8",
		"--brokers", addr, "--workers", "external", "--quiet", "--out", dir)
	checkRun(t, r, dir, payments, digest)

	// Each worker reports the partitions it finished: its own share.
	for _, w := range []struct {
		p     *proc
		parts []int
	}{{w1, p1}, {w2, p2}} {
		w.p.waitFor(t, "finished partitions", time.Minute, func(lines []string) bool { return len(finished(lines)) > 0 })
		if got := finished(w.p.lines()); !slices.Equal(got, w.parts) {
			t.Errorf("%s finished %v, was assigned %v", w.p.name, got, w.parts)
		}
	}
	// The worker's own metrics: its share of partitions and outcomes.
	if got := metricValue(t, url, "walletsim_partitions_owned"); got != float64(len(p1)) {
		t.Errorf("w1 walletsim_partitions_owned = %v, want %d", got, len(p1))
	}
	if got := metricValue(t, url, "walletsim_payments_total"); got <= 0 || got >= payments {
		t.Errorf("w1 walletsim_payments_total = %v, want a share of %d", got, payments)
	}
	for _, w := range []*proc{w1, w2} {
		w.stop(t)
		if w.err != nil {
			t.Errorf("%s: exit %v after SIGTERM; output:\n%s", w.name, w.err, w.output())
		}
	}
	t.Logf("w1 %v, w2 %v; digest %s", p1, p2, digest)
}

// TestWorkersRebalanceMidRun: one worker starts a run alone; a second
// joins while it runs (a graceful rebalance: the first stops, flushes and
// hands over), then the first is killed outright (its partitions move once
// the group's session times out, and the next owner rebuilds them from
// checkpoints). The run still completes with every invariant and the
// digest of the single-process run.
func TestWorkersRebalanceMidRun(t *testing.T) {
	const payments = 200_000
	digest := embeddedDigest(t, strconv.Itoa(payments))
	addr := startBroker(t)
	w1 := startProc(t, "w1", "worker", "quickstart", "--brokers", addr, "--partitions", "8", "--name", "w1", "--metrics-addr", "127.0.0.1:0")
	url := metricsURL(t, w1)
	w1.waitFor(t, "all partitions", time.Minute, func(lines []string) bool { _, p := assignment(lines); return len(p) == 8 })

	dir := t.TempDir()
	run := startProc(t, "run", "run", "quickstart", "--payments", strconv.Itoa(payments), "--partitions", "8",
		"--brokers", addr, "--workers", "external", "--quiet", "--out", dir)
	// Join once w1 has resolved payments: the rebalance lands mid-run.
	deadline := time.Now().Add(2 * time.Minute)
	for metricValue(t, url, "walletsim_payments_resolved_total") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("w1 resolved nothing; output:\n%s", w1.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	w2 := startProc(t, "w2", "worker", "quickstart", "--brokers", addr, "--partitions", "8", "--name", "w2")
	w2.waitFor(t, "an assignment", time.Minute, func(lines []string) bool { _, p := assignment(lines); return len(p) > 0 })
	_, p1 := assignment(w1.lines())
	select {
	case <-run.exit:
		t.Logf("the run finished before w1 could be killed mid-run")
	default:
		// A crash: no leave, no flush.
		_ = w1.cmd.Process.Kill()
		<-w1.exit
	}
	select {
	case <-run.exit:
	case <-time.After(3 * time.Minute):
		t.Fatalf("run did not finish; run output:\n%s\nw2:\n%s", run.output(), w2.output())
	}
	code := 0
	if run.err != nil {
		code = -1
		if ee, ok := run.err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	checkRun(t, result{code: code, stdout: run.output()}, dir, payments, digest)
	done := append(finished(w1.lines()), finished(w2.lines())...)
	slices.Sort(done)
	if got := slices.Compact(done); !slices.Equal(got, allParts(8)) {
		t.Errorf("partitions finished by w1 and w2: %v, want all 8\nw1:\n%s\nw2:\n%s", got, w1.output(), w2.output())
	}
	gens := 0
	for _, l := range w2.lines() {
		if genLine.MatchString(l) {
			gens++
		}
	}
	t.Logf("w1 held %v when killed and finished %v; w2 saw %d generations and finished %v",
		p1, finished(w1.lines()), gens, finished(w2.lines()))
}

// TestWorkerPausedPastSession: a zombie writer. Two workers share a run;
// one is SIGSTOPped mid-run for longer than the group's session timeout,
// so its partitions move to the other, which rebuilds them from their
// checkpoints and goes on; then it is SIGCONTed, and whatever it was
// writing when it froze lands late, after the new owner's records. Those
// late writes are the same bytes the new owner wrote (the engine is
// deterministic), so readers skip them as redeliveries; and the late
// checkpoints it lands do not send anyone back in time (lastCheckpoint
// takes the furthest). The log is the single-process run's, digest for
// digest.
func TestWorkerPausedPastSession(t *testing.T) {
	if testing.Short() {
		t.Skip("pauses a worker past a 10 s session")
	}
	const payments = 300_000
	digest := embeddedDigest(t, strconv.Itoa(payments))
	addr := startBroker(t)
	w1 := startProc(t, "w1", "worker", "quickstart", "--brokers", addr, "--partitions", "8", "--name", "w1", "--metrics-addr", "127.0.0.1:0")
	w2 := startProc(t, "w2", "worker", "quickstart", "--brokers", addr, "--partitions", "8", "--name", "w2")
	url := metricsURL(t, w1)
	split := func(lines []string) bool { _, p := assignment(lines); return len(p) > 0 && len(p) < 8 }
	w1.waitFor(t, "split assignment", time.Minute, split)
	w2.waitFor(t, "split assignment", time.Minute, split)

	dir := t.TempDir()
	run := startProc(t, "run", "run", "quickstart", "--payments", strconv.Itoa(payments), "--partitions", "8",
		"--brokers", addr, "--workers", "external", "--quiet", "--out", dir)
	deadline := time.Now().Add(2 * time.Minute)
	for metricValue(t, url, "walletsim_payments_resolved_total") < payments/20 {
		if time.Now().After(deadline) {
			t.Fatalf("w1 resolved too little; output:\n%s", w1.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = w1.cmd.Process.Signal(syscall.SIGSTOP)
	w2.waitFor(t, "all partitions", time.Minute, func(lines []string) bool { _, p := assignment(lines); return len(p) == 8 })
	time.Sleep(time.Second) // the new owner writes past where the zombie froze
	paused := false
	select {
	case <-run.exit:
	default:
		paused = true
	}
	_ = w1.cmd.Process.Signal(syscall.SIGCONT)
	select {
	case <-run.exit:
	case <-time.After(3 * time.Minute):
		t.Fatalf("run did not finish; run output:\n%s\nw2:\n%s", run.output(), w2.output())
	}
	if !paused {
		t.Log("the run finished before w1 was resumed: its late writes came after the audit")
	}
	code := 0
	if run.err != nil {
		code = -1
		if ee, ok := run.err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	checkRun(t, result{code: code, stdout: run.output()}, dir, payments, digest)
	t.Logf("redelivered %v; w1:\n%s", field(readSummary(t, dir), "events.redelivered"), strings.Join(w1.lines(), "\n"))
}
