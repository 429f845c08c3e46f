package loadtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Merge reads the results of several attack directories (the shards of
// one distributed attack) and reports them as one attack: every request of
// every shard counted, quantiles from one histogram over all latencies.
// What only the live attack knew (planned, late, dropped, invariants) is
// summed from each directory's attack.json.
func Merge(dirs []string) (*Report, error) {
	if len(dirs) == 0 {
		return nil, errors.New("report: no result directories")
	}
	reps := make([]*Report, len(dirs))
	for i, d := range dirs {
		r, err := ReadReport(d)
		if err != nil {
			return nil, err
		}
		reps[i] = r
	}
	agg := NewAggregator()
	start := reps[0].StartedAt
	for _, r := range reps {
		if r.StartedAt.Before(start) {
			start = r.StartedAt
		}
	}
	agg.origin(start)
	for _, d := range dirs {
		if err := readResults(filepath.Join(d, "results.bin"), agg.Add); err != nil {
			return nil, err
		}
	}
	out := agg.Finish()
	out.Scenario, out.Target, out.Profile = reps[0].Scenario, reps[0].Target, reps[0].Profile
	var inv *Invariants
	for _, r := range reps {
		out.Shards = append(out.Shards, r.Shards...)
		out.Planned += r.Planned
		out.Dropped += r.Dropped
		out.Late += r.Late
		out.MaxLagMS = max(out.MaxLagMS, r.MaxLagMS)
		out.RequestedRate += r.RequestedRate
		if r.Invariants != nil {
			if inv == nil {
				c := *r.Invariants
				inv = &c
				continue
			}
			// Shards that each ran their own server: all must hold.
			inv.OK = inv.OK && r.Invariants.OK
			inv.MoneyConserved = inv.MoneyConserved && r.Invariants.MoneyConserved
			inv.Accepted += r.Invariants.Accepted
			inv.NegativeBalances += r.Invariants.NegativeBalances
			inv.DuplicateEvents += r.Invariants.DuplicateEvents
			inv.UnresolvedCommands += r.Invariants.UnresolvedCommands
			inv.DuplicateOutcomes += r.Invariants.DuplicateOutcomes
			inv.Settled += r.Invariants.Settled
			inv.Declined += r.Invariants.Declined
		}
	}
	out.Invariants = inv
	out.Template = reps[0].Template
	for _, r := range reps {
		// The end-state check runs in one process (Config.Validate), so
		// at most one directory has one; a threshold fired in any shard.
		if r.EndState != nil && out.EndState == nil {
			out.EndState = r.EndState
		}
		if r.Fired != nil && out.Fired == nil {
			out.Fired = r.Fired
		}
	}
	sort.Strings(out.Shards)
	return out, nil
}

// readResults decodes a results.bin (any encoding vegeta writes: gob, JSON
// or CSV, detected as the vegeta CLI does).
func readResults(path string, fn func(*vegeta.Result)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		return nil // an attack that sent nothing
	}
	dec := vegeta.DecoderFor(bufio.NewReaderSize(f, 1<<20))
	if dec == nil {
		return fmt.Errorf("%s: not a vegeta results file", path)
	}
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: %w", path, err)
		}
		fn(&r)
	}
}
