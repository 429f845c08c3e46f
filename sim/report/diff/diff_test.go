package diff_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/report/diff"
	"github.com/walletsim/walletsim/sim/run"
)

// runAt runs quickstart seed 7 under policy with its log kept in dir.
func runAt(t *testing.T, dir, policy string) *diff.Run {
	t.Helper()
	sc, file, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments, s.Duration, s.Seed, s.Partitions = 4000, "", 7, 4
	if sc, err = scenarios.Recompile(file, &s); err != nil {
		t.Fatal(err)
	}
	table, p, _, err := scenarios.LoadPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	res, err := run.Run(context.Background(), run.Options{Scenario: sc, Policy: table, PolicyName: p.Name, Fresh: true,
		DataDir: filepath.Join(dir, "log"), StreamEvery: 256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Summary.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	r, err := diff.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCompare: identical runs are identical; runs under two policies part
// at an event the logs show differing, inside the window the hashes name.
func TestCompare(t *testing.T) {
	root := t.TempDir()
	a := runAt(t, filepath.Join(root, "a"), "unionpay-open-2024")
	b := runAt(t, filepath.Join(root, "b"), "unionpay-open-2024")
	c := runAt(t, filepath.Join(root, "c"), "telco-2023")
	ctx := context.Background()

	same, err := diff.Compare(ctx, diff.Config{A: a, B: b})
	if err != nil || !same.Identical {
		t.Fatalf("identical runs: %+v, %v", same, err)
	}
	var out bytes.Buffer
	same.WriteText(&out)
	if !strings.HasPrefix(out.String(), "identical") {
		t.Fatalf("text: %s", out.String())
	}

	d, err := diff.Compare(ctx, diff.Config{A: a, B: c})
	if err != nil {
		t.Fatal(err)
	}
	if d.Identical || d.Divergence == nil || d.First == nil {
		t.Fatalf("runs under two policies: %+v (note %q)", d, d.LogNote)
	}
	f := d.First
	if f.A == nil || f.B == nil || f.A.Event == f.B.Event {
		t.Fatalf("first differing pair is not a difference: %+v / %+v", f.A, f.B)
	}
	if f.Partition != d.Divergence.Partition || f.Index <= d.Divergence.After || (d.Divergence.Before > 0 && f.Index > d.Divergence.Before) {
		t.Fatalf("event %d of partition %d lies outside the window (%d, %d] of partition %d", f.Index, f.Partition, d.Divergence.After, d.Divergence.Before, d.Divergence.Partition)
	}
	if f.A.Event.Route != 0 && f.A.Rule == "" {
		t.Fatalf("routed event without its rule: %+v", f.A)
	}

	if o := d.FirstOutcome; o != nil {
		x, y := o.A.Event, o.B.Event
		x.Route, y.Route = 0, 0
		if x == y || o.Index <= f.Index {
			t.Fatalf("first outcome difference at %d (first difference %d) differs only in its route", o.Index, f.Index)
		}
	}
	// Without the logs the window is still named.
	n, err := diff.Compare(ctx, diff.Config{A: a, B: c, NoLogs: true})
	if err != nil || n.Divergence == nil || n.First != nil {
		t.Fatalf("no logs: %+v, %v", n, err)
	}
	// A log that is gone is said so, not an error.
	os.RemoveAll(filepath.Join(root, "c", "log"))
	g, err := diff.Compare(ctx, diff.Config{A: a, B: c})
	if err != nil || g.First != nil || !strings.Contains(g.LogNote, "not reachable") {
		t.Fatalf("removed log: %+v, %v", g, err)
	}
	// A run without stream hashes is bad input.
	old := *c
	old.Streams = nil
	if _, err := diff.Compare(ctx, diff.Config{A: a, B: &old}); !errors.Is(err, diff.ErrBadInput) {
		t.Fatalf("no stream hashes: %v", err)
	}
	if _, err := diff.Load(filepath.Join(root, "missing")); !errors.Is(err, diff.ErrBadInput) {
		t.Fatalf("missing run: %v", err)
	}
}
