package main

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walletsim/walletsim/internal/testbin"
)

// TestResumeIdentity: a resume over another run's log is refused, exit 2
// naming the key, instead of reporting the old run's digest under the new
// labels; a resume of the same run goes on.
func TestResumeIdentity(t *testing.T) {
	dir, data := t.TempDir(), t.TempDir()
	base := []string{"run", "quickstart", "--payments", "3000", "--partitions", "2", "--quiet", "--data", data}
	if r := runBin(t, dir, append(base, "--seed", "1")...); r.code != 0 {
		t.Fatalf("first run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, tc := range []struct {
		name, key string
		args      []string
	}{
		{"seed", "seed is 1 in the log, 2 here", []string{"--seed", "2"}},
		{"policy", "policy is unionpay-open-2024 in the log, walled-garden here", []string{"--seed", "1", "--policy", "walled-garden"}},
		{"seed and policy", "seed is 1 in the log, 2 here", []string{"--seed", "2", "--policy", "walled-garden"}},
		{"payments", "payments is 3000 in the log, 4000 here", []string{"--seed", "1", "--payments", "4000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBin(t, dir, append(append(base, "--fresh=false"), tc.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.key) {
				t.Fatalf("resume %v: exit %d, want 2 naming %q\nstdout: %s\nstderr: %s", tc.args, r.code, tc.key, r.stdout, r.stderr)
			}
			if strings.Contains(r.stdout, "digest") {
				t.Fatalf("a refused resume reported a digest:\n%s", r.stdout)
			}
		})
	}
	if r := runBin(t, dir, append(base, "--fresh=false", "--seed", "1")...); r.code != 0 {
		t.Fatalf("resume of the same run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// --fresh starts a new run: its identity replaces the old one.
	if r := runBin(t, dir, append(base, "--seed", "2")...); r.code != 0 {
		t.Fatalf("fresh run with seed 2: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runBin(t, dir, append(base, "--fresh=false", "--seed", "1")...); r.code != 2 || !strings.Contains(r.stderr, "seed is 2 in the log, 1 here") {
		t.Fatalf("resume with seed 1 over a fresh seed-2 log: exit %d\n%s", r.code, r.stderr)
	}
}

// TestWorkerVerifyIdentity: a worker for another seed exits 2 naming the
// key; verify and replay name the run they read.
func TestWorkerVerifyIdentity(t *testing.T) {
	dir := t.TempDir()
	addr := startBroker(t)
	if r := runBin(t, dir, "run", "quickstart", "--payments", "2000", "--partitions", "2", "--quiet", "--brokers", addr, "--seed", "1"); r.code != 0 {
		t.Fatalf("run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The worker would run until signalled; bound it in case it does not
	// refuse.
	cmd := exec.Command(testbin.Path(t), "worker", "quickstart", "--partitions", "2", "--brokers", addr, "--seed", "2")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-done
		t.Fatalf("a worker for seed 2 over a seed-1 log kept running:\n%s", out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(out.String(), "seed is 1 in the log, 2 here") {
		t.Fatalf("worker --seed 2: exit %d, want 2 naming seed\n%s", code, out.String())
	}
	for _, c := range []string{"verify", "replay"} {
		r := runBin(t, dir, c, "--brokers", addr)
		if r.code != 0 || !strings.Contains(r.stderr, "run identity: seed 1, policy unionpay-open-2024, 2 partitions, 2000 payments") {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", c, r.code, r.stdout, r.stderr)
		}
	}
}
