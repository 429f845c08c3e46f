package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/run/chaos"
)

// The child chaos kills is this test binary, re-executed: it runs the
// scenario with package run, as `walletsim run` would, and writes its
// summary. Real processes, a real SIGKILL, no cobra.
func TestMain(m *testing.M) {
	if os.Getenv("CHAOS_TEST_CHILD") == "1" {
		if err := child(); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child() error {
	s, src, err := scenarios.ReadScenario("quickstart")
	if err != nil {
		return err
	}
	s.Payments, s.Duration, s.Epoch = 8000, "", "100ms"
	if s.Policy == "" {
		s.Policy = scenarios.DefaultPolicy
	}
	sc, err := scenarios.Recompile(src, s)
	if err != nil {
		return err
	}
	table, pol, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		return err
	}
	fresh, _ := strconv.ParseBool(os.Getenv("CHAOS_FRESH"))
	res, err := run.Run(context.Background(), run.Options{
		Scenario: sc, Policy: table, PolicyName: pol.Name, Bus: bus.Config{Brokers: []string{os.Getenv("CHAOS_BROKERS")}},
		Topics: bus.DefaultTopics(os.Getenv("CHAOS_PREFIX")), Partitions: 4, Fresh: fresh,
	})
	if err != nil {
		return err
	}
	if _, err := res.Summary.WriteJSON(os.Getenv("CHAOS_OUT")); err != nil {
		return err
	}
	if !res.Summary.Invariants.OK() {
		return errors.New("invariants violated")
	}
	return nil
}

func childCmd(brokers, prefix, out string, fresh bool) *exec.Cmd {
	c := exec.Command(os.Args[0], "-test.run=^$")
	c.Env = append(os.Environ(), "CHAOS_TEST_CHILD=1", "CHAOS_BROKERS="+brokers, "CHAOS_PREFIX="+prefix,
		"CHAOS_OUT="+out, "CHAOS_FRESH="+strconv.FormatBool(fresh))
	return c
}

// Killed three times, the child's log is the log of a run never killed.
func TestRunKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	out := t.TempDir()
	res, err := chaos.Run(context.Background(), chaos.Config{Child: childCmd, Kills: 3, KillSeed: 5, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Summary.Chaos
	if err := res.Err(); err != nil {
		t.Fatalf("%v (kills %+v)", err, c.KillPoints)
	}
	if c.Kills != 3 || len(c.KillPoints) != 3 || c.Attempts < 4 {
		t.Errorf("kills %d over %d attempts, points %+v; want 3 kills and at least 4 attempts", c.Kills, c.Attempts, c.KillPoints)
	}
	if res.Audit.Attempted != 8000 || res.Audit.UnresolvedCommands != 0 || !res.Audit.MoneyConserved {
		t.Errorf("audit after kills: %+v", res.Audit.Invariants)
	}
	if res.Path != filepath.Join(out, "summary.json") {
		t.Errorf("summary at %s", res.Path)
	}
	if _, err := os.Stat(filepath.Join(out, "logs", "run-03.log")); err != nil {
		t.Errorf("no log of the fourth attempt: %v", err)
	}
}

// A child that fails (not killed by chaos) is an error naming its log.
func TestRunChildFails(t *testing.T) {
	failing := func(_, _, _ string, _ bool) *exec.Cmd { return exec.Command("false") }
	_, err := chaos.Run(context.Background(), chaos.Config{Child: failing, Kills: 1})
	if err == nil || !strings.Contains(err.Error(), "reference run") || !strings.Contains(err.Error(), "reference.log") {
		t.Fatalf("err %v, want the reference run's failure naming its log", err)
	}
}

// The same seed kills at the same points; progress kills walk forward.
func TestPlan(t *testing.T) {
	a, b := chaos.Plan(3, 12), chaos.Plan(3, 12)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different plans")
	}
	if reflect.DeepEqual(a, chaos.Plan(4, 12)) {
		t.Error("seeds 3 and 4 drew the same plan")
	}
	last, recoveries := 0.0, 0
	for _, k := range a {
		if k.Recovery {
			recoveries++
			continue
		}
		if k.Frac < last || k.Frac < 0.02 || k.Frac > 0.98 {
			t.Errorf("progress kill at %.3f after %.3f: want sorted in [0.02, 0.98]", k.Frac, last)
		}
		last = k.Frac
	}
	if recoveries == len(a) {
		t.Error("every kill is a recovery kill")
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []chaos.Config{{}, {Child: childCmd, Kills: -1}, {Child: childCmd, Resets: -1}, {Child: childCmd, LostResponses: 2_000_000}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if err := (&chaos.Config{Child: childCmd, Kills: 3}).Validate(); err != nil {
		t.Error(err)
	}
}
