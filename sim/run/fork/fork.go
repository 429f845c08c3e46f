// Package fork answers "what if the policy had changed at TIME": it
// rebuilds every wallet from a finished run's log up to TIME (the
// snapshot of the run's state there, taken from the log itself), picks up
// the saga steps the run had in flight, and continues the same traffic
// under another policy in the in-memory ledger, whose events are the
// engine's (sim/simtest). Only the branch after TIME differs: the events
// before it are the run's own, and a control branch that continues under
// the run's policy must reproduce the run's digest exactly, which proves
// the restored state and the continuation are the run's.
package fork

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/report/diff"
	"github.com/walletsim/walletsim/sim/run/compare"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Config is one fork.
type Config struct {
	// Scenario must be the run's scenario and seed (checked by digest).
	Scenario *scenario.Compiled
	// From is the finished run; Log where its log is.
	From *diff.Run
	Log  *diff.Log
	// Partitions is the run's partition count.
	Partitions int
	// Trunk is the run's policy, Branch the policy from At on.
	Trunk, Branch compare.Policy
	// At is the simulated time (unix ms) the branch starts; it is rounded
	// down to the start of its epoch.
	At int64
}

// Validate checks the config before any log is read.
func (c *Config) Validate() error {
	switch {
	case c.Scenario == nil || c.From == nil || c.Log == nil:
		return errors.New("fork: scenario, run and log are required")
	case c.Trunk.Table == nil || c.Branch.Table == nil:
		return errors.New("fork: both policies are required")
	case c.Partitions <= 0:
		return errors.New("fork: the run's partition count is unknown")
	case c.From.Scenario != c.Scenario.Name || c.From.Seed != c.Scenario.Seed:
		return fmt.Errorf("fork: the run is %s seed %d, the scenario %s seed %d", c.From.Scenario, c.From.Seed, c.Scenario.Name, c.Scenario.Seed)
	case c.From.Policy != c.Trunk.Name:
		return fmt.Errorf("fork: the run's policy is %s, not %s", c.From.Policy, c.Trunk.Name)
	}
	return nil
}

// Report is fork.json.
type Report struct {
	Scenario string `json:"scenario"`
	Seed     int64  `json:"seed"`
	From     string `json:"from"`
	Trunk    string `json:"trunk_policy"`
	Branch   string `json:"branch_policy"`
	// At is the fork time (the start of epoch Epoch), RFC 3339.
	At    string `json:"at"`
	AtMS  int64  `json:"at_ms"`
	Epoch uint32 `json:"epoch"`
	// RunDigest is the run's digest as its log holds it (checked against
	// its summary.json).
	RunDigest string `json:"run_digest"`
	// Prefix is the events before At: the run's and the fork's.
	Prefix Prefix `json:"prefix"`
	// Control continues under the trunk policy: its digest must be the
	// run's.
	ControlDigest string `json:"control_digest"`
	ControlEqual  bool   `json:"control_equal"`
	// ForkDigest is the digest of the whole forked log (prefix + branch);
	// RecomputedDigest the same fork run from the start in memory.
	ForkDigest       string `json:"fork_digest"`
	RecomputedDigest string `json:"recomputed_digest"`
	RecomputedEqual  bool   `json:"recomputed_equal"`
	// InFlight are payments generated before At and resolved after it
	// (fallback attempts, transfer credits): decided partly under each
	// policy, counted apart.
	InFlight         int64 `json:"in_flight"`
	InFlightChanged  int64 `json:"in_flight_changed"`
	ForkInvariantsOK bool  `json:"fork_invariants_ok"`
	// Branch compares the payments generated from At on, trunk against
	// fork, attributed to rules as compare --attribution does.
	BranchDiff *compare.Attribution `json:"branch"`
}

// Prefix compares the events before the fork.
type Prefix struct {
	Events int64 `json:"events"`
	// RunDigest is over the run's events before At (from its log),
	// ForkDigest over the recomputed fork's; equal means identical events
	// before At.
	RunDigest  string `json:"run_digest"`
	ForkDigest string `json:"fork_digest"`
	Equal      bool   `json:"equal"`
}

// Run forks.
func Run(ctx context.Context, c Config) (*Report, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	g := gen.New(c.Scenario)
	e0 := g.Clock.EpochOf(c.At)
	if e0 < 1 {
		e0 = 1
	}
	at := g.Clock.StartOf(e0)
	rep := &Report{Scenario: c.Scenario.Name, Seed: c.Scenario.Seed, From: c.From.Path, Trunk: c.Trunk.Name, Branch: c.Branch.Name,
		AtMS: at, At: time.UnixMilli(at).In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339), Epoch: e0}
	seed := uint64(c.Scenario.Seed)
	// The run's state at the fork, rebuilt twice (the control and the
	// branch each consume theirs).
	var books [2][]*ledger.Book
	for i := range books {
		books[i] = make([]*ledger.Book, c.Partitions)
		for p := range books[i] {
			books[i][p] = ledger.NewBook(p, c.Partitions, c.Trunk.Table, nil, seed)
			// Rebuild on the run's clock: its limits count holder days
			// (and years) from the scenario's start, not civil ones.
			books[i][p].SetClock(g.Clock)
		}
	}
	runAud, prefixAud := audit.New(), audit.New()
	forkAud, controlAud := audit.New(), audit.New()
	inFlight := map[uint64]bool{}
	trunkInFlight := map[uint64]bool{} // in-flight payment -> succeeded in the run
	var pending []event.Command
	err := readLog(ctx, c.Log, func(e *event.Event, raw []byte) error {
		runAud.Event(e, raw)
		if e.Epoch >= e0 {
			if e.Type.IsOutcome() && e.Kind.IsPayment() && uint32(e.Command>>24) < e0 {
				inFlight[e.Command] = true
				trunkInFlight[e.Command] = e.Type.Succeeded()
			}
			return nil
		}
		rep.Prefix.Events++
		for _, a := range []*audit.Auditor{prefixAud, forkAud, controlAud} {
			a.Event(e, raw)
		}
		for i := range books {
			if err := books[i][ledger.Partition(e.Wallet, c.Partitions)].Apply(e); err != nil {
				return fmt.Errorf("rebuilding the run's state at %s: %w", rep.At, err)
			}
		}
		return nil
	}, func(cmd *event.Command) {
		runAud.Command(cmd)
		if cmd.Type == event.CmdPay || cmd.Type == event.CmdOpenWallet {
			if cmd.Epoch < e0 {
				forkAud.Command(cmd)
				controlAud.Command(cmd)
			}
			return
		}
		// Saga steps the run's processors sent into the fork epoch are
		// due in it: the branch starts with them.
		if cmd.Epoch == e0 && (cmd.Type == event.CmdCredit || cmd.Type == event.CmdCompensate || cmd.Type == event.CmdRetry) {
			pending = append(pending, *cmd)
		}
	})
	if err != nil {
		return nil, err
	}
	pending = dedupe(pending)
	rr := runAud.Finish()
	rep.RunDigest = rr.Digest
	if rr.Digest != c.From.Events.Digest {
		return nil, fmt.Errorf("fork: the log holds digest %s, %s says %s: not this run's log", rr.Digest, c.From.Path, c.From.Events.Digest)
	}
	rep.Prefix.RunDigest = prefixAud.Finish().Digest

	out := compare.NewOutcomes()
	forkInFlight := map[uint64]bool{}
	for side, p := range []compare.Policy{c.Trunk, c.Branch} {
		aud := []*audit.Auditor{controlAud, forkAud}[side]
		gs := gen.New(c.Scenario)
		var raw []byte
		m := ledger.Memory{Routes: p.Table, Parts: c.Partitions, Seed: seed, Clock: gs.Clock,
			Resume: &ledger.Resume{From: e0, Books: books[side], Pending: append([]event.Command(nil), pending...)},
			OnCommand: func(cmd *event.Command) {
				aud.Command(cmd)
				if side == 0 {
					out.Command(cmd)
				}
			},
			OnEvent: func(e *event.Event) {
				raw = event.AppendEvent(raw[:0], e)
				aud.Event(e, raw)
				out.Event(side, e)
				if side == 1 && e.Type.IsOutcome() && e.Kind.IsPayment() && inFlight[e.Command] {
					forkInFlight[e.Command] = e.Type.Succeeded()
				}
			}}
		if err := m.Run(gs); err != nil {
			return nil, fmt.Errorf("fork: %s branch: %w", p.Name, err)
		}
		fr := aud.Finish()
		if side == 0 {
			rep.ControlDigest, rep.ControlEqual = fr.Digest, fr.Digest == rep.RunDigest
		} else {
			rep.ForkDigest, rep.ForkInvariantsOK = fr.Digest, fr.OK()
		}
	}
	// The same fork recomputed from the start: the trunk policy until
	// the fork epoch, then the branch's. Its events before the fork are
	// computed, not copied, so their digest equal to the run's prefix
	// says the events before the fork are identical; its whole digest
	// equal to the resumed fork's says resuming from the rebuilt state is
	// the same as having run.
	if err := recompute(c, e0, rep); err != nil {
		return nil, err
	}
	rep.Prefix.Equal = rep.Prefix.RunDigest == rep.Prefix.ForkDigest
	rep.InFlight = int64(len(inFlight))
	for id, ok := range trunkInFlight {
		if forkInFlight[id] != ok {
			rep.InFlightChanged++
		}
	}
	at2, err := out.Attribute(c.Scenario.Name, c.Scenario.Seed, g.Pop, c.Trunk, c.Branch)
	if err != nil {
		return nil, err
	}
	rep.BranchDiff = at2
	if !rep.OK() {
		return rep, fmt.Errorf("fork: the checks failed: prefix identical %v, control reproduced the run %v, recomputed fork the same %v, fork invariants %v",
			rep.Prefix.Equal, rep.ControlEqual, rep.RecomputedEqual, rep.ForkInvariantsOK)
	}
	if !rep.ControlEqual {
		return rep, fmt.Errorf("fork: resuming %s at %s under its own policy gave digest %s, the run %s: the rebuilt state is not the run's", c.From.Path, rep.At, rep.ControlDigest, rep.RunDigest)
	}
	return rep, nil
}

func recompute(c Config, e0 uint32, rep *Report) error {
	g := gen.New(c.Scenario)
	prefix, full := audit.New(), audit.New()
	var raw []byte
	m := ledger.Memory{Routes: c.Trunk.Table, Parts: c.Partitions, Seed: uint64(c.Scenario.Seed), Clock: g.Clock,
		Switch: &ledger.Switch{At: e0, Routes: c.Branch.Table},
		OnCommand: func(cmd *event.Command) {
			full.Command(cmd)
			if cmd.Epoch < e0 {
				prefix.Command(cmd)
			}
		},
		OnEvent: func(e *event.Event) {
			raw = event.AppendEvent(raw[:0], e)
			full.Event(e, raw)
			if e.Epoch < e0 {
				prefix.Event(e, raw)
			}
		}}
	if err := m.Run(g); err != nil {
		return fmt.Errorf("fork: recomputing: %w", err)
	}
	rep.Prefix.ForkDigest = prefix.Finish().Digest
	rep.RecomputedDigest = full.Finish().Digest
	rep.RecomputedEqual = rep.RecomputedDigest == rep.ForkDigest
	return nil
}

// OK reports whether every check held: identical events before the fork,
// the control reproduces the run, the recomputed fork equals the resumed
// one and the forked log keeps every invariant.
func (r *Report) OK() bool {
	return r.Prefix.Equal && r.ControlEqual && r.RecomputedEqual && r.ForkInvariantsOK
}

// WriteJSON writes dir/fork.json.
func (r *Report) WriteJSON(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "fork.json")
	return p, os.WriteFile(p, append(b, '\n'), 0o644)
}

// dedupe drops redelivered saga steps (same command, type, attempt and
// target) and sorts them as the log would deliver them.
func dedupe(cs []event.Command) []event.Command {
	type key struct {
		id      uint64
		t       event.CommandType
		attempt uint8
		wallet  uint64
	}
	seen := map[key]bool{}
	out := cs[:0]
	for _, c := range cs {
		k := key{c.ID, c.Type, c.Attempt, c.Wallet}
		if !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return ledger.Order(&out[i], true, &out[j], true) < 0 })
	return out
}

// readLog scans the run's events (each partition in log order, redelivered
// and undecodable records skipped) and, if onCmd is set, its commands.
func readLog(ctx context.Context, l *diff.Log, onEvent func(*event.Event, []byte) error, onCmd func(*event.Command)) error {
	bc := l.Bus
	if l.DataDir != "" {
		b, err := embedded.Start(embedded.Config{DataDir: l.DataDir})
		if err != nil {
			return err
		}
		defer b.Close()
		bc = bus.Config{Brokers: []string{b.Addr()}}
		bc.SetDefaults()
	}
	admin, err := bus.NewClient(bc)
	if err != nil {
		return err
	}
	topics := []string{l.Topics.Events}
	if onCmd != nil {
		if l.Topics.Transfers == "" {
			return errors.New("the run's summary names no transfers topic (saga steps): fork needs a summary.json from this walletsim")
		}
		topics = append(topics, l.Topics.Commands, l.Topics.Transfers)
	}
	for _, topic := range topics {
		parts, err := admin.Partitions(ctx, topic)
		if err != nil {
			return err
		}
		if parts == 0 {
			return fmt.Errorf("topic %s does not exist: not the run's log", topic)
		}
		first, next, err := admin.Offsets(ctx, topic, parts)
		if err != nil {
			return err
		}
		for p := 0; p < parts; p++ {
			seqs := map[uint64]uint64{}
			err := bus.Scan(ctx, bc, topic, p, first[p], next[p], func(_ int64, v []byte) error {
				if topic == l.Topics.Events {
					var e event.Event
					if event.DecodeEvent(v, &e) != nil || e.Validate() != nil {
						return nil
					}
					if e.Seq <= seqs[e.Wallet] {
						return nil
					}
					seqs[e.Wallet] = e.Seq
					return onEvent(&e, v)
				}
				var c event.Command
				if event.DecodeCommand(v, &c) == nil && c.Validate() == nil {
					onCmd(&c)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteTable prints the fork's report.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "fork\t%s seed %d: %s until %s (epoch %d), then %s\n", r.Scenario, r.Seed, r.Trunk, r.At, r.Epoch, r.Branch)
	fmt.Fprintf(tw, "prefix\t%d events before the fork; run %s, fork %s: %s\n", r.Prefix.Events, short(r.Prefix.RunDigest), short(r.Prefix.ForkDigest), map[bool]string{true: "identical", false: "DIFFERENT"}[r.Prefix.Equal])
	fmt.Fprintf(tw, "control\tresumed under %s: digest %s, the run's %s: %s\n", r.Trunk, short(r.ControlDigest), short(r.RunDigest), map[bool]string{true: "reproduced", false: "NOT reproduced"}[r.ControlEqual])
	fmt.Fprintf(tw, "fork log\tdigest %s, invariants ok %v; recomputed from the start %s: %s\n", short(r.ForkDigest), r.ForkInvariantsOK, short(r.RecomputedDigest), map[bool]string{true: "same", false: "DIFFERENT"}[r.RecomputedEqual])
	fmt.Fprintf(tw, "in flight\t%d payments generated before the fork and resolved after it; %d resolved differently\n", r.InFlight, r.InFlightChanged)
	tw.Flush()
	if r.BranchDiff != nil {
		fmt.Fprintln(w, "branch (payments generated from the fork on):")
		return r.BranchDiff.WriteTable(w)
	}
	return nil
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// ParseTime reads a fork time as RFC 3339 or as a duration from startMS
// (the scenario's start), and returns it in Unix milliseconds.
func ParseTime(s string, startMS int64) (int64, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UnixMilli(), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--fork-at %q: want RFC 3339 (2024-07-24T12:00:00+08:00) or a duration from the scenario's start (12h)", s)
	}
	return startMS + d.Milliseconds(), nil
}
