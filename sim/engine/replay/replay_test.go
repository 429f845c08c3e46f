package replay_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine/replay"
	"github.com/walletsim/walletsim/sim/run"
)

// TestReplayReproducesRun: a replay of a run's log yields the run's
// digest and its exact final state, from scratch and from snapshots, and
// a corrupt snapshot is refused rather than trusted.
func TestReplayReproducesRun(t *testing.T) {
	b, err := embedded.Start(embedded.Config{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments = 20_000
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	table, pol, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		t.Fatal(err)
	}
	bc := bus.Config{Brokers: []string{b.Addr()}}
	res, err := run.Run(context.Background(), run.Options{Scenario: sc, Policy: table, PolicyName: pol.Name, Bus: bc, Partitions: 4, Fresh: true})
	if err != nil {
		t.Fatal(err)
	}
	want := res.Summary.Events
	if want.StateDigest == "" {
		t.Fatal("run recorded no state digest")
	}
	snaps := t.TempDir()
	for i, dir := range []string{"", snaps, snaps} {
		r, err := replay.Rebuild(context.Background(), replay.Options{Bus: bc, SnapshotDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if r.Digest != want.Digest || r.StateDigest != want.StateDigest || r.Violations != 0 {
			t.Fatalf("replay %d: digest %s state %s violations %d; run %s %s", i, r.Digest, r.StateDigest, r.Violations, want.Digest, want.StateDigest)
		}
		if i == 2 && (r.Events != 0 || r.Resumed != want.Written) {
			t.Fatalf("replay from snapshots re-applied %d events, resumed %d of %d", r.Events, r.Resumed, want.Written)
		}
		if i == 0 && r.Events != want.Written {
			t.Fatalf("replayed %d events, run wrote %d", r.Events, want.Written)
		}
	}
	// Corrupt one snapshot: the replay must fail, not build wrong state.
	p := filepath.Join(snaps, "partition-0001.snap")
	if err := os.WriteFile(p, []byte("not a snapshot"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := replay.Rebuild(context.Background(), replay.Options{Bus: bc, SnapshotDir: snaps}); err == nil {
		t.Fatal("corrupt snapshot accepted")
	}
}
