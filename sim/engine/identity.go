package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/segmentio/kafka-go"

	"github.com/walletsim/walletsim/sim/bus"
)

// Identity is what a run's log was written by. The first process of a run
// records it on the identity topic; a resume, a worker, verify or replay
// that brings a different one would mix two runs in one log (or report one
// run's digest under another's labels), so it is refused with an
// *IdentityError naming the key.
//
// A zero field means "not known here" and is not compared: a worker does
// not know the payment count a run was started with, verify knows none of
// the scenario. Seed 0 counts as unknown for the same reason.
type Identity struct {
	ScenarioSHA256 string `json:"scenario_sha256,omitempty"`
	Seed           int64  `json:"seed,omitempty"`
	Policy         string `json:"policy,omitempty"`
	PolicySHA256   string `json:"policy_sha256,omitempty"`
	Partitions     int    `json:"partitions,omitempty"`
	Payments       int64  `json:"payments,omitempty"`
	EpochMS        int64  `json:"epoch_ms,omitempty"`
	Version        string `json:"walletsim_version,omitempty"`
}

// fields lists the keys in a fixed order, with "" for an unknown value.
func (id Identity) fields() [][2]string {
	num := func(n int64) string {
		if n == 0 {
			return ""
		}
		return strconv.FormatInt(n, 10)
	}
	return [][2]string{
		{"scenario_sha256", id.ScenarioSHA256},
		{"seed", num(id.Seed)},
		{"policy", id.Policy},
		{"policy_sha256", id.PolicySHA256},
		{"partitions", num(int64(id.Partitions))},
		{"payments", num(id.Payments)},
		{"epoch_ms", num(id.EpochMS)},
		{"walletsim_version", id.Version},
	}
}

// IdentityDiff is one key whose values differ.
type IdentityDiff struct {
	Key       string
	Log, Here string
}

// Diff lists the keys known on both sides whose values differ; the
// receiver is the log's identity.
func (id Identity) Diff(here Identity) []IdentityDiff {
	var out []IdentityDiff
	a, b := id.fields(), here.fields()
	for i := range a {
		if a[i][1] != "" && b[i][1] != "" && a[i][1] != b[i][1] {
			out = append(out, IdentityDiff{Key: a[i][0], Log: a[i][1], Here: b[i][1]})
		}
	}
	return out
}

// IdentityError says the log belongs to another run. The CLI maps it to
// exit 2 (the caller's arguments are wrong, not the log).
type IdentityError struct {
	Topic string
	Diffs []IdentityDiff
}

// BadInput: the flags given do not match the log, nothing at runtime
// failed (the CLI exits 2).
func (e *IdentityError) BadInput() bool { return true }

func (e *IdentityError) Error() string {
	parts := make([]string, len(e.Diffs))
	for i, d := range e.Diffs {
		parts[i] = fmt.Sprintf("%s is %s in the log, %s here", d.Key, d.Log, d.Here)
	}
	return fmt.Sprintf("run identity (%s): %s; give the log's settings, or start over with --fresh", e.Topic, strings.Join(parts, "; "))
}

// Key is the first differing key.
func (e *IdentityError) Key() string {
	if len(e.Diffs) == 0 {
		return ""
	}
	return e.Diffs[0].Key
}

const identityKey = "identity"

// ReadIdentity returns the identity recorded on topics.Identity; false
// when there is none (a log older than the identity topic, or a run not
// yet started).
func ReadIdentity(ctx context.Context, cfg bus.Config, topics bus.Topics) (Identity, bool, error) {
	if topics.Identity == "" {
		return Identity{}, false, nil
	}
	admin, err := bus.NewClient(cfg)
	if err != nil {
		return Identity{}, false, err
	}
	n, err := admin.Partitions(ctx, topics.Identity)
	if err != nil || n == 0 {
		return Identity{}, false, err
	}
	first, next, err := admin.Offsets(ctx, topics.Identity, 1)
	if err != nil || next[0] <= first[0] {
		return Identity{}, false, err
	}
	var id Identity
	found := false
	// The first record wins: the first process of a run wrote it, and
	// nothing may replace it (compaction keeps the latest of the key, so
	// only one is ever written; see Claim).
	err = bus.ReadRange(ctx, cfg, topics.Identity, 0, first[0], first[0]+1, func(m kafka.Message) error {
		if err := json.Unmarshal(m.Value, &id); err != nil {
			return fmt.Errorf("%s offset %d: run identity: %w", topics.Identity, m.Offset, err)
		}
		found = true
		return nil
	})
	return id, found && err == nil, err
}

// CheckIdentity compares here with the log's identity, if it has one.
func CheckIdentity(ctx context.Context, cfg bus.Config, topics bus.Topics, here Identity) (Identity, bool, error) {
	have, ok, err := ReadIdentity(ctx, cfg, topics)
	if err != nil || !ok {
		return have, ok, err
	}
	if d := have.Diff(here); len(d) > 0 {
		return have, true, &IdentityError{Topic: topics.Identity, Diffs: d}
	}
	return have, true, nil
}

// Claim records id as the run's identity when the log has none, and
// otherwise checks it against the recorded one (*IdentityError). Call it
// after Setup, before anything is produced or processed.
func (e *Engine) Claim(ctx context.Context, id Identity) error {
	_, ok, err := CheckIdentity(ctx, e.cfg.Bus, e.topics, id)
	if err != nil || ok {
		return err
	}
	b, err := json.Marshal(id)
	if err != nil {
		return err
	}
	return e.writeControl(ctx, []kafka.Message{{Topic: e.topics.Identity, Partition: 0, Key: []byte(identityKey), Value: b}})
}

// CheckIdentity checks a worker's view of the run (no payment count) against
// the log; used by `walletsim worker` before it processes.
func (e *Engine) CheckIdentity(ctx context.Context, id Identity) error {
	_, _, err := CheckIdentity(ctx, e.cfg.Bus, e.topics, id)
	return err
}
