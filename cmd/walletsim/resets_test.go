package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/walletsim/walletsim/sim/bus/netfault"
)

// TestStandaloneBrokerResetsAllRun is issue 12's standalone must-show at
// a test's size: `walletsim run --brokers` against a `walletsim broker`
// process while every connection between the engine and the broker is
// reset four times a second for the whole run (the scenario's
// `faults: {reset_every}`, netfault's proxy in front of the broker, setup
// included). Every request path (admin and list-offsets calls, fetches,
// scans, writes) must get through between resets: exit 0, every
// invariant, the digest of an embedded fault-free run of the same seed.
// Then `walletsim verify`, itself through a proxy resetting as often,
// agrees.
func TestStandaloneBrokerResetsAllRun(t *testing.T) {
	const payments = "60000"
	const every = 250 * time.Millisecond
	dir := t.TempDir()
	q, err := os.ReadFile("../../scenarios/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	flaky := filepath.Join(dir, "flaky.yaml")
	if err := os.WriteFile(flaky, append(q, "\nfaults: {reset_every: "+every.String()+"}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	clean := filepath.Join(dir, "clean")
	if r := runBin(t, dir, "run", "quickstart", "--payments", payments, "--quiet", "--out", clean); r.code != 0 {
		t.Fatalf("clean embedded run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want := field(readSummary(t, clean), "events.digest").(string)

	addr := startBroker(t)
	faulted := filepath.Join(dir, "faulted")
	r := runBin(t, dir, "run", flaky, "--payments", payments, "--quiet", "--brokers", addr, "--out", faulted)
	if r.code != 0 {
		t.Fatalf("run with resets every %s: exit %d\nstdout: %s\nstderr: %s", every, r.code, r.stdout, r.stderr)
	}
	m := regexp.MustCompile(`network faults: (\d+) connections reset`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no network faults line:\n%s", r.stdout)
	}
	resets, _ := strconv.Atoi(m[1])
	sum := readSummary(t, faulted)
	dur, _ := field(sum, "duration_s").(float64)
	t.Logf("%d connections reset over %.1f s; %v events redelivered, %v retries", resets, dur, field(sum, "events.redelivered"), field(sum, "retries"))
	// At least one reset moment in two: the resets spanned the run.
	if ticks := dur / every.Seconds(); float64(resets) < ticks/2 {
		t.Fatalf("%d connections reset over %.1f s (%.0f reset moments): the test did not test", resets, dur, ticks)
	}
	if got := field(sum, "events.digest"); got != want {
		t.Fatalf("digest %v under resets, %s fault-free", got, want)
	}
	if !strings.Contains(r.stdout, "invariants        OK") {
		t.Fatalf("invariants:\n%s", r.stdout)
	}

	px, err := netfault.Start("", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); netfault.Plan{Every: every}.Run(px, stop) }()
	v := runBin(t, dir, "verify", "--brokers", px.Addr())
	close(stop)
	<-done
	if v.code != 0 || !strings.Contains(v.stdout, want) {
		t.Fatalf("verify through resets every %s: exit %d, want the digest %s\nstdout: %s\nstderr: %s", every, v.code, want, v.stdout, v.stderr)
	}
	if px.Resets() == 0 {
		t.Fatal("verify's connections were never reset: the test did not test")
	}
	t.Logf("verify: %d connections reset", px.Resets())
}
