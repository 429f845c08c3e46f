package audit

import (
	"fmt"
	"sort"
)

// Invariants are GUIDE.md section 2's checks as the audit of a log found
// them: all counts zero, MoneyConserved and no suspense left open on a
// correct, finished log. This is the one verdict: run, verify, chaos,
// serve and attack all judge a log by OK and explain it by Violations.
type Invariants struct {
	MoneyConserved     bool  `json:"money_conserved"`
	NegativeBalances   int64 `json:"negative_balances"`
	DuplicateEvents    int64 `json:"duplicate_events"`
	UnresolvedCommands int64 `json:"unresolved_commands"`
	DuplicateOutcomes  int64 `json:"duplicate_outcomes"`
	// OrphanOutcomes are outcomes whose command is not in the log.
	OrphanOutcomes    int64 `json:"orphan_outcomes"`
	UnbalancedEvents  int64 `json:"unbalanced_events"`
	BalanceMismatches int64 `json:"balance_mismatches"`
	SequenceGaps      int64 `json:"sequence_gaps"`
	FXViolations      int64 `json:"fx_violations"`
	// Decisions (with a policy, decisions.go): fees not those of the
	// route, debits past the wallet class's limits, credits past its cap.
	FeeViolations   int64 `json:"fee_violations"`
	LimitViolations int64 `json:"limit_violations"`
	// BadEvents are records of the events topic that do not decode.
	BadEvents int64 `json:"bad_events"`
	// SuspenseOpen is money still held for transfers in flight, by
	// currency: none once every saga has finished.
	SuspenseOpen map[string]int64 `json:"suspense_open,omitempty"`
	// Totals per currency: money that entered from outside, and what the
	// non-external accounts hold; equal on a conserved run.
	ExternalIn map[string]int64 `json:"external_in"`
	Held       map[string]int64 `json:"held"`
}

// Count is one invariant counter: its JSON name and value.
type Count struct {
	Name  string
	Value int64
}

// Counts lists every violation counter, zero or not, in a fixed order
// (metrics export each as a labelled gauge).
func (i Invariants) Counts() []Count {
	return []Count{
		{"negative_balances", i.NegativeBalances},
		{"duplicate_events", i.DuplicateEvents},
		{"unresolved_commands", i.UnresolvedCommands},
		{"duplicate_outcomes", i.DuplicateOutcomes},
		{"orphan_outcomes", i.OrphanOutcomes},
		{"unbalanced_events", i.UnbalancedEvents},
		{"balance_mismatches", i.BalanceMismatches},
		{"sequence_gaps", i.SequenceGaps},
		{"fx_violations", i.FXViolations},
		{"fee_violations", i.FeeViolations},
		{"limit_violations", i.LimitViolations},
		{"bad_events", i.BadEvents},
	}
}

// Violations names every invariant that does not hold, with its count;
// empty when the log is correct.
func (i Invariants) Violations() []string {
	var v []string
	if !i.MoneyConserved {
		v = append(v, "money not conserved")
	}
	for _, c := range i.Counts() {
		if c.Value != 0 {
			v = append(v, fmt.Sprintf("%s %d", c.Name, c.Value))
		}
	}
	if len(i.SuspenseOpen) > 0 {
		curs := make([]string, 0, len(i.SuspenseOpen))
		for c := range i.SuspenseOpen {
			curs = append(curs, c)
		}
		sort.Strings(curs)
		for _, c := range curs {
			v = append(v, fmt.Sprintf("suspense_open %s %d", c, i.SuspenseOpen[c]))
		}
	}
	return v
}

// OK reports whether every invariant holds.
func (i Invariants) OK() bool { return len(i.Violations()) == 0 }
