package engine

import (
	"context"

	"github.com/walletsim/walletsim/sim/bus"
)

// scanRetrying is bus.Scan, which rides through transient broker errors
// itself (a fetch answered NOT_LEADER_OR_FOLLOWER, a connection reset):
// it redials and resumes after the last record handed to fn, so fn sees
// each record once, in order, and gives up only on an error that will not
// go away or after bus.DefaultRetry's budget without progress. The audit
// reads the whole log this way. (It used to add a retry loop of its own
// here; on top of bus.Scan's, a topic deleted under the run took minutes
// to be reported.)
func scanRetrying(ctx context.Context, bc bus.Config, topic string, p int, from, to int64, fn func(offset int64, value []byte) error) error {
	return bus.Scan(ctx, bc, topic, p, from, to, fn)
}
