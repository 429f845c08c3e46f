package audit

import (
	"fmt"
	"io"
)

// WriteText prints the report as `walletsim verify` does: the counts, the
// digest and every invariant's count.
func (r Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "events %d, wallets %d, payments %d (%d succeeded, %d declined)\n", r.Events, r.Wallets, r.Attempted, r.Succeeded, r.Declined)
	fmt.Fprintf(w, "digest %s\n", r.Digest)
	fmt.Fprintf(w, "money conserved %v, negative balances %d, duplicate events %d, unresolved commands %d\n", r.MoneyConserved, r.NegativeBalances, r.DuplicateEvents, r.UnresolvedCommands)
	fmt.Fprintf(w, "unbalanced events %d, balance mismatches %d, sequence gaps %d, fx violations %d, duplicate outcomes %d, orphan outcomes %d, open suspense %v\n",
		r.UnbalancedEvents, r.BalanceMismatches, r.SequenceGaps, r.FXViolations, r.DuplicateOutcomes, r.OrphanOutcomes, r.SuspenseOpen)
}
