package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walletsim/walletsim/internal/testbin"
)

// TestPoisonKcat is issue 6's poison check the way an operator would do
// it: during a run against a standalone broker, 100 lines of garbage go
// into the commands topic with kcat. The run dead-letters exactly those
// 100 (summary.json and the Prometheus counter say so, the dead-letter
// topic holds them with a reason), and every payment comes out as in a
// run without them.
func TestPoisonKcat(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("WALLETSIM_KCAT_TESTS") != "" {
			t.Fatal("kcat not installed but WALLETSIM_KCAT_TESTS is set")
		}
		t.Skip("kcat not installed")
	}
	addr := startBroker(t)
	dir := t.TempDir()
	q, err := os.ReadFile("../../scenarios/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// 100 ms epochs: the run lasts many epochs, so the garbage lands
	// before the generator's last mark, after which no one reads commands.
	sc := filepath.Join(dir, "short.yaml")
	if err := os.WriteFile(sc, []byte(strings.Replace(string(q), "\nepoch: 1s", "\nepoch: 100ms", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	const payments = "150000"
	clean := filepath.Join(dir, "clean")
	if r := runBin(t, dir, "run", sc, "--payments", payments, "--brokers", addr, "--topic-prefix", "clean", "--out", clean, "--quiet"); r.code != 0 {
		t.Fatalf("clean run: exit %d\n%s", r.code, r.stderr)
	}

	dirty := filepath.Join(dir, "dirty")
	cmd := exec.Command(testbin.Path(t), "run", sc, "--payments", payments, "--brokers", addr, "--topic-prefix", "dirty",
		"--out", dirty, "--quiet", "--metrics-addr", "127.0.0.1:0", "--metrics-hold", "2m")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(want string) string {
		t.Helper()
		deadline := time.After(2 * time.Minute)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("run ended before printing %q:\n%s", want, stdout.String())
				}
				if strings.Contains(l, want) {
					return l
				}
			case <-deadline:
				t.Fatalf("no %q from the run", want)
			}
		}
	}
	url := regexp.MustCompile(`http://\S+`).FindString(next("metrics: serving"))

	// Garbage once the first events are in the log: the run is going.
	for deadline := time.Now().Add(time.Minute); ; {
		out, _ := exec.Command(kcat, "-C", "-b", addr, "-t", "dirty.events", "-c", "1", "-e", "-q").Output()
		if len(out) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run wrote no events within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var garbage strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&garbage, "garbage %d: {\"type\":\"pay\",\"amount\":%d} \x01\x02\xff\n", i, -i)
	}
	produce := exec.Command(kcat, "-P", "-b", addr, "-t", "dirty.commands")
	produce.Stdin = strings.NewReader(garbage.String())
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat -P: %v\n%s", err, out)
	}

	next("metrics: run finished")
	resp, err := http.Get(url) // the URL the run printed ends in /metrics
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`(?m)^walletsim_dead_letters_total(\{[^}]*\})? 100$`).Match(body) {
		t.Fatalf("metrics do not count 100 dead letters:\n%s", grepLines(string(body), "dead_letters"))
	}
	_ = cmd.Process.Signal(syscall.SIGINT) // ends --metrics-hold
	if err := cmd.Wait(); err != nil {
		t.Fatalf("poisoned run: %v\n%s", err, stdout.String())
	}

	got, want := readSummary(t, dirty), readSummary(t, clean)
	if field(got, "dead_letters") != float64(100) {
		t.Fatalf("summary dead_letters = %v, want 100", field(got, "dead_letters"))
	}
	for _, k := range []string{"payments.attempted", "payments.succeeded", "payments.declined", "events.written", "events.digest"} {
		if field(got, k) != field(want, k) {
			t.Fatalf("%s with garbage %v, without %v", k, field(got, k), field(want, k))
		}
	}
	if field(got, "invariants.money_conserved") != true || field(got, "invariants.unresolved_commands") != float64(0) {
		t.Fatalf("invariants with garbage: %v", field(got, "invariants"))
	}
	// The dead-letter topic, read with kcat: 100 records, each with a reason.
	out, err := exec.Command(kcat, "-C", "-b", addr, "-t", "dirty.deadletters", "-e", "-q", "-f", "%h\n").Output()
	if err != nil {
		t.Fatalf("kcat -C: %v", err)
	}
	if n := strings.Count(string(out), "reason="); n != 100 {
		t.Fatalf("%d dead letters with a reason header, want 100:\n%s", n, out)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
