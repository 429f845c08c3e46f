package ledger

import (
	"cmp"

	"github.com/walletsim/walletsim/sim/event"
)

// Order is the one order every processor applies an epoch's records in:
// by simulated time, saga steps before commands at the same time (they
// carry the epoch's start), then ID, type and attempt. Equal keys are
// duplicates of one record. This order is the determinism contract:
// changing it changes every digest.
func Order(a *event.Command, aSaga bool, b *event.Command, bSaga bool) int {
	if c := cmp.Compare(a.SimTime, b.SimTime); c != 0 {
		return c
	}
	if aSaga != bSaga {
		if aSaga {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Type, b.Type); c != 0 {
		return c
	}
	return cmp.Compare(a.Attempt, b.Attempt)
}
