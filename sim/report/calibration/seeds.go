package calibration

import (
	"encoding/json"
	"os"
	"path/filepath"

	"fmt"
	"io"
	"text/tabwriter"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/scenario"
)

// SeedRow is one row across seeds: in how many it passed (not off).
type SeedRow struct {
	Kind       string `json:"kind"`
	Quantity   string `json:"quantity"`
	Key        string `json:"key"`
	Basis      string `json:"basis"`
	Runs       int    `json:"runs"`
	Passed     int    `json:"passed"`
	Off        int    `json:"off"`
	Unresolved int    `json:"unresolved"`
	Departs    int    `json:"departs"`
}

// SeedsReport is `walletsim calibrate`: the same scenario under several
// seeds. A correct generator has every row pass in about 1 − α of them
// (the family-wise rate); a biased one fails the biased rows in most.
type SeedsReport struct {
	Scenario string  `json:"scenario"`
	Payments int64   `json:"payments"`
	Seeds    []int64 `json:"seeds"`
	// AllPassed counts the seeds in which no row was off; Rate is that
	// over the seeds run, to compare with 1 − Alpha.
	AllPassed int       `json:"all_passed"`
	Rate      float64   `json:"family_wise_pass_rate"`
	Alpha     float64   `json:"alpha"`
	Rows      []SeedRow `json:"rows"`
	Reports   []*Report `json:"-"`
}

// Seeds regenerates sc under each seed (generation only: calibration is
// about the commands a run generates, which do not depend on the engine)
// and checks each against the same criterion.
func Seeds(sc *scenario.Compiled, src scenarios.File, seeds []int64, cfg Config) (*SeedsReport, error) {
	if len(seeds) == 0 {
		return nil, fmt.Errorf("calibrate: no seeds")
	}
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	out := &SeedsReport{Scenario: sc.Name, Seeds: seeds, Alpha: cfg.Alpha}
	index := map[string]int{}
	for _, seed := range seeds {
		s := *sc.Scenario
		s.Seed = seed
		one, err := scenarios.Recompile(src, &s)
		if err != nil {
			return nil, err
		}
		rep, err := Measure(one).Report(one, cfg)
		if err != nil {
			return nil, err
		}
		out.Payments = rep.Payments
		out.Reports = append(out.Reports, rep)
		if rep.Pass {
			out.AllPassed++
		}
		for _, r := range rep.Rows {
			k := r.Kind + "|" + r.Quantity + "|" + r.Key
			i, ok := index[k]
			if !ok {
				i = len(out.Rows)
				index[k] = i
				out.Rows = append(out.Rows, SeedRow{Kind: r.Kind, Quantity: r.Quantity, Key: r.Key, Basis: r.Basis})
			}
			sr := &out.Rows[i]
			sr.Runs++
			switch r.Status {
			case StatusOff:
				sr.Off++
			case StatusUnresolved:
				sr.Unresolved++
			case StatusDeparts:
				sr.Departs++
			}
			if r.Pass() {
				sr.Passed++
			}
		}
	}
	out.Rate = float64(out.AllPassed) / float64(len(seeds))
	return out, nil
}

// WriteTable prints the per-row pass counts and the family-wise rate.
func (s *SeedsReport) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "calibrate %s: %d seeds (%d..%d), %d payments each; every row passed in %d of %d seeds (family-wise pass rate %.0f%%, expected at least %.0f%% for a correct generator)\n",
		s.Scenario, len(s.Seeds), s.Seeds[0], s.Seeds[len(s.Seeds)-1], s.Payments, s.AllPassed, len(s.Seeds), 100*s.Rate, 100*(1-s.Alpha))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  kind\tquantity\tkey\tpassed\toff\tunresolved\tdeparts\tbasis")
	for _, r := range s.Rows {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d/%d\t%d\t%d\t%d\t%s\n", r.Kind, r.Quantity, r.Key, r.Passed, r.Runs, r.Off, r.Unresolved, r.Departs, r.Basis)
	}
	tw.Flush()
}

// WriteJSON writes dir/calibrate.json.
func (r *SeedsReport) WriteJSON(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	p := filepath.Join(dir, "calibrate.json")
	return p, os.WriteFile(p, append(b, '\n'), 0o644)
}
