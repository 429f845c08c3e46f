package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/gen"
)

func TestIdentityDiff(t *testing.T) {
	log := Identity{ScenarioSHA256: "aa", Seed: 1, Policy: "p", PolicySHA256: "bb", Partitions: 8, Payments: 100, EpochMS: 1000, Version: "v1"}
	for _, tc := range []struct {
		name string
		here Identity
		keys []string
	}{
		{"same", log, nil},
		{"nothing known", Identity{}, nil},
		{"seed", func() Identity { h := log; h.Seed = 2; return h }(), []string{"seed"}},
		{"policy and its hash", func() Identity { h := log; h.Policy, h.PolicySHA256 = "q", "cc"; return h }(), []string{"policy", "policy_sha256"}},
		{"scenario", func() Identity { h := log; h.ScenarioSHA256 = "dd"; return h }(), []string{"scenario_sha256"}},
		{"partitions", Identity{Partitions: 4}, []string{"partitions"}},
		{"payments", Identity{Payments: 99}, []string{"payments"}},
		{"epoch", Identity{EpochMS: 60000}, []string{"epoch_ms"}},
		{"version", Identity{Version: "v2"}, []string{"walletsim_version"}},
		{"worker without payments", func() Identity { h := log; h.Payments = 0; return h }(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := log.Diff(tc.here)
			var keys []string
			for _, x := range d {
				keys = append(keys, x.Key)
			}
			if fmt.Sprint(keys) != fmt.Sprint(tc.keys) {
				t.Fatalf("Diff keys %v, want %v", keys, tc.keys)
			}
		})
	}
}

// TestClaim: the first Claim records the identity, a second with the same
// identity passes, one that differs fails with an *IdentityError naming
// the key; Setup made the identity topic compacted and the source of
// truth retained forever.
func TestClaim(t *testing.T) {
	sc, table := small(t)
	bc := sharedBroker(t)
	g := gen.New(sc)
	topics := bus.DefaultTopics(fmt.Sprintf("identity%d", runs.Add(1)))
	e, err := New(Config{Bus: bc, Topics: topics, Partitions: 2, Routes: table, Seed: uint64(sc.Seed), Clock: g.Clock, Window: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.Setup(ctx, true); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ReadIdentity(ctx, bc, topics); err != nil || ok {
		t.Fatalf("fresh log: identity %v %v, want none", ok, err)
	}
	id := Identity{ScenarioSHA256: "aa", Seed: 1, Policy: "p", Partitions: 2, Payments: 10, EpochMS: 1000, Version: "v"}
	if err := e.Claim(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := e.Claim(ctx, id); err != nil {
		t.Fatalf("same identity again: %v", err)
	}
	got, ok, err := ReadIdentity(ctx, bc, topics)
	if err != nil || !ok || got != id {
		t.Fatalf("read back %+v %v %v, want %+v", got, ok, err, id)
	}
	other := id
	other.Seed = 2
	err = e.Claim(ctx, other)
	var ie *IdentityError
	if !errors.As(err, &ie) || ie.Key() != "seed" {
		t.Fatalf("seed 2 over a seed-1 log: %v, want an IdentityError on seed", err)
	}
	if got, _, _ := ReadIdentity(ctx, bc, topics); got != id {
		t.Fatalf("a refused claim replaced the identity: %+v", got)
	}
	if err := e.CheckIdentity(ctx, Identity{Seed: 1, Partitions: 2}); err != nil {
		t.Fatalf("a worker's partial view of the same run: %v", err)
	}
	admin, err := bus.NewClient(bc)
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]string{topics.Commands: "delete", topics.Transfers: "delete", topics.Events: "delete", topics.Checkpoints: "delete", topics.Identity: "compact"} {
		cfg, err := admin.TopicConfigs(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		if cfg["cleanup.policy"] != want || want == "delete" && cfg["retention.ms"] != "-1" {
			t.Errorf("%s: cleanup.policy %q retention.ms %q, want %s and forever", topic, cfg["cleanup.policy"], cfg["retention.ms"], want)
		}
	}
}
