package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walletsim/walletsim/internal/testbin"
)

type result struct {
	code           int
	stdout, stderr string
}

func runBin(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(testbin.Path(t), args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := result{stdout: o.String(), stderr: e.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startBroker runs `walletsim broker` as its own process, as a user would.
func startBroker(t *testing.T) string {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(testbin.Path(t), "broker", "--addr", addr, "--data", t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("broker did not start")
	}
	return addr
}

func readSummary(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func field(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

// TestExternalBrokerRunVerifyKcat is the README's "real cluster" path
// against a standalone broker: run, verify, and an outside Kafka client
// (kcat) reading every event the summary counts.
func TestExternalBrokerRunVerifyKcat(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	addr := startBroker(t)
	out := t.TempDir()
	r := runBin(t, out, "run", "quickstart", "--payments", "20000", "--seed", "7", "--brokers", addr, "--out", out, "--quiet")
	if r.code != 0 {
		t.Fatalf("run exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	sum := readSummary(t, out)
	if got := field(sum, "payments.attempted"); got != float64(20000) {
		t.Fatalf("attempted = %v, want 20000", got)
	}
	if field(sum, "engine.broker") != "external" {
		t.Fatalf("engine.broker = %v", field(sum, "engine.broker"))
	}
	v := runBin(t, out, "verify", "--brokers", addr)
	if v.code != 0 || !strings.Contains(v.stdout, "verify: OK") {
		t.Fatalf("verify exit %d\n%s\n%s", v.code, v.stdout, v.stderr)
	}
	digest := field(sum, "events.digest").(string)
	if !strings.Contains(v.stdout, digest) {
		t.Fatalf("verify digest differs from the run's %s:\n%s", digest, v.stdout)
	}
	tail := runBin(t, out, "events", "tail", "--brokers", addr, "--limit", "3")
	if tail.code != 0 || strings.Count(tail.stdout, "\n") != 3 || !strings.Contains(tail.stdout, `"type":"wallet_opened"`) {
		t.Fatalf("events tail: exit %d\n%s%s", tail.code, tail.stdout, tail.stderr)
	}

	kcat, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("WALLETSIM_KCAT_TESTS") != "" {
			t.Fatal("kcat not installed but WALLETSIM_KCAT_TESTS is set")
		}
		t.Skip("kcat not installed")
	}
	cmd := exec.Command(kcat, "-C", "-b", addr, "-t", "walletsim.events", "-e", "-q", "-f", "%p:%o\n")
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	lines := strings.Count(string(b), "\n")
	if want := field(sum, "events.written").(float64); float64(lines) != want {
		t.Fatalf("kcat read %d events, summary says %v", lines, want)
	}
}

// TestRunBadInput: every way to get the input wrong exits 2 with a message
// that names the culprit.
func TestRunBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	q, err := os.ReadFile("../../scenarios/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	typo := write("typo.yaml", strings.Replace(string(q), "payments: 200000", "paymnets: 200000", 1))
	neg := write("neg.yaml", strings.Replace(string(q), "payments: 200000", "payments: -5", 1))
	badRegion := write("region.yaml", strings.Replace(string(q), "consumers: {CN: 55000, HK: 9000}", "consumers: {CN: 55000, XX: 9000}", 1))
	notYAML := write("junk.yaml", "{{{ not yaml")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"misspelt key", []string{"run", typo}, "paymnets"},
		{"negative payment count", []string{"run", neg}, "payments"},
		{"unknown region", []string{"run", badRegion}, "population.consumers.xx"},
		{"not yaml", []string{"run", notYAML}, "not valid YAML"},
		{"missing file", []string{"run", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"unknown built-in", []string{"run", "nope"}, "built-ins"},
		{"negative --payments flag", []string{"run", "quickstart", "--payments", "-3"}, "--payments"},
		{"unknown policy", []string{"run", "quickstart", "--policy", "nope"}, "nope"},
		{"bad brokers", []string{"run", "quickstart", "--brokers", "nohostport"}, "brokers"},
		{"unknown flag", []string{"run", "quickstart", "--frobnicate"}, "frobnicate"},
		{"verify without brokers", []string{"verify"}, "--brokers"},
		{"bad broker addr", []string{"broker", "--addr", "nope"}, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBin(t, dir, tc.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(strings.ToLower(r.stderr), strings.ToLower(tc.want)) {
				t.Fatalf("stderr does not name %q:\n%s", tc.want, r.stderr)
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") {
				t.Fatalf("panicked:\n%s", r.stderr)
			}
		})
	}
}

// TestRunSameSeedSameDigest is the determinism contract at the CLI.
func TestRunSameSeedSameDigest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine")
	}
	digest := func(seed int) string {
		out := t.TempDir()
		r := runBin(t, out, "run", "quickstart", "--payments", "20000", "--seed", fmt.Sprint(seed), "--out", out, "--quiet")
		if r.code != 0 {
			t.Fatalf("run exit %d: %s", r.code, r.stderr)
		}
		return field(readSummary(t, out), "events.digest").(string)
	}
	a, b, c := digest(7), digest(7), digest(8)
	if a != b {
		t.Fatalf("same seed, different digests: %s vs %s", a, b)
	}
	if a == c {
		t.Fatalf("seeds 7 and 8 gave the same digest %s", a)
	}
}
