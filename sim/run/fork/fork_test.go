package fork_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/report/diff"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/run/compare"
	"github.com/walletsim/walletsim/sim/run/fork"
	"github.com/walletsim/walletsim/sim/scenario"
)

func policy(t *testing.T, name string) compare.Policy {
	t.Helper()
	table, p, _, err := scenarios.LoadPolicy(name)
	if err != nil {
		t.Fatal(err)
	}
	return compare.Policy{Name: p.Name, Table: table}
}

// TestFork: a real run of quickstart over eight one-second epochs on the
// embedded broker, forked at its fourth epoch. Under its own policy the
// fork is the run (same digest); under another, the events before the
// fork are identical, the branch differs, and every check holds.
func TestFork(t *testing.T) {
	sc, file, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments, s.Duration, s.Seed, s.Rate, s.Partitions = 8000, "", 7, 1000, 4
	var c *scenario.Compiled
	if c, err = scenarios.Recompile(file, &s); err != nil {
		t.Fatal(err)
	}
	trunk := policy(t, "unionpay-open-2024")
	dir := t.TempDir()
	res, err := run.Run(context.Background(), run.Options{Scenario: c, Policy: trunk.Table, PolicyName: trunk.Name, Fresh: true, DataDir: filepath.Join(dir, "log")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Summary.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	from, err := diff.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	log := &diff.Log{DataDir: filepath.Join(dir, "log"), Topics: bus.DefaultTopics("")}
	at := c.StartMS + 3500 // inside epoch 4: rounded down to its start
	cfg := fork.Config{Scenario: c, From: from, Log: log, Partitions: 4, Trunk: trunk, Branch: trunk, At: at}

	same, err := fork.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if same.ForkDigest != res.Summary.Events.Digest || !same.OK() || same.BranchDiff.Gained+same.BranchDiff.Lost != 0 {
		t.Fatalf("fork under the run's own policy: digest %s, run %s; ok %v", same.ForkDigest, res.Summary.Events.Digest, same.OK())
	}
	if same.Epoch != 4 || same.AtMS != c.StartMS+3000 {
		t.Fatalf("fork at epoch %d (%d), want 4 (%d)", same.Epoch, same.AtMS, c.StartMS+3000)
	}
	if same.InFlightChanged != 0 {
		t.Fatalf("under the same policy %d of %d in-flight payments resolved differently", same.InFlightChanged, same.InFlight)
	}
	if same.InFlight == 0 {
		t.Fatal("no payment in flight across the fork: the saga steps are not exercised")
	}

	cfg.Branch = policy(t, "telco-2023")
	rep, err := fork.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Prefix.Equal || !rep.ControlEqual || !rep.RecomputedEqual || !rep.ForkInvariantsOK {
		t.Fatalf("checks: prefix %v control %v recomputed %v invariants %v", rep.Prefix.Equal, rep.ControlEqual, rep.RecomputedEqual, rep.ForkInvariantsOK)
	}
	if rep.ForkDigest == rep.RunDigest || rep.Prefix.Events == 0 {
		t.Fatalf("fork digest %s, run %s, %d prefix events", rep.ForkDigest, rep.RunDigest, rep.Prefix.Events)
	}
	b := rep.BranchDiff
	// telco-2023 lacks the 2024 transit rules (calibration section 5):
	// the branch loses rides the run made.
	if b.Lost == 0 || b.Payments == 0 || b.Payments >= res.Summary.Payments.Attempted {
		t.Fatalf("branch: %d payments, %d lost, %d gained (run %d payments)", b.Payments, b.Lost, b.Gained, res.Summary.Payments.Attempted)
	}

	// Another scenario's run is refused before anything is read.
	bad := cfg
	other := *from
	other.Seed++
	bad.From = &other
	if _, err := fork.Run(context.Background(), bad); err == nil {
		t.Fatal("a fork of another seed's run was accepted")
	}
}
