package ledger_test

import (
	"testing"

	"github.com/walletsim/walletsim/sim/simtest"
)

// The in-memory ledger with other partition counts must still agree with
// the reference: its events may not depend on how wallets are sharded.
func TestMemoryConformance(t *testing.T) {
	simtest.Run(t, func(t testing.TB, c simtest.Case) simtest.Outcome {
		c.Partitions = c.Partitions*2 + 1
		o := simtest.Reference(t, c)
		return o
	})
}
