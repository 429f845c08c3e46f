package engine

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/bus"
)

// OnLatency adds fn to the functions that see each payment outcome's
// end-to-end latency (command in to outcome appended, microseconds) as the
// local processors record it: metrics and the run report build their
// latency histograms and time series from it. Call it before Process; fn
// runs on a processor goroutine and must be cheap and safe for concurrent
// use.
func (e *Engine) OnLatency(fn func(kind sim.Kind, us int64)) {
	e.onLatency = append(e.onLatency, fn)
}

// PartitionProgress is where one partition's processing stands, read from
// the cluster.
type PartitionProgress struct {
	// Lag is how many records of the commands topic lie beyond the
	// partition's latest checkpoint: what its processor has yet to consume.
	Lag int64
	// Epoch is the last epoch checkpointed (-1: none yet).
	Epoch int64
	// Done: the partition has finished the run.
	Done bool
}

// Progress reads every partition's latest checkpoint and the end of the
// commands topic. It reads the cluster, not local state, so a
// producer-only process sees the progress of external workers, and every
// worker sees the whole cluster's.
func (e *Engine) Progress(ctx context.Context) ([]PartitionProgress, error) {
	first, next, err := e.admin.Offsets(ctx, e.topics.Commands, e.parts)
	if err != nil {
		return nil, err
	}
	cpFirst, cpNext, err := e.admin.Offsets(ctx, e.topics.Checkpoints, e.parts)
	if err != nil {
		return nil, err
	}
	out := make([]PartitionProgress, e.parts)
	for p := range out {
		consumed := first[p]
		out[p].Epoch = -1
		if cpNext[p] > cpFirst[p] {
			err := bus.ReadRange(ctx, e.cfg.Bus, e.topics.Checkpoints, p, cpNext[p]-1, cpNext[p], func(m kafka.Message) error {
				cp, err := decodeCheckpoint(m.Value)
				if err == nil {
					consumed, out[p].Epoch, out[p].Done = cp.Commands, cp.Epoch, cp.Done
				}
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("progress: checkpoint of partition %d: %w", p, err)
			}
		}
		out[p].Lag = max(next[p]-consumed, 0)
	}
	return out, nil
}
