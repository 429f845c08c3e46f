package engine

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim/event"
)

// Committer is an optional Source method: Produce calls Committed(e) once
// epoch e's commands, marks and progress record are all acknowledged, so
// a restart resumes after it. serve answers 202 only for commands of a
// committed epoch: an accepted payment is in the log.
type Committer interface{ Committed(epoch uint32) }

// lastEpoch is a Source whose first epoch is empty and the last.
type lastEpoch struct{}

func (lastEpoch) Epoch(_ uint32, buf []event.Command) ([]event.Command, bool) { return buf, true }

// Continue prepares a log a previous session wrote for more epochs (serve
// keeps one log across restarts) and returns the first epoch to produce.
//
//   - A session stopped mid-run (SIGKILL): its producer resumes at the
//     first epoch it did not finish. That epoch may hold commands written
//     before the crash; the caller's first epoch must add none (a
//     processor may already have processed it).
//   - A session that ended (its last mark written): what was in flight is
//     processed to the end first (process, normally Engine.Process), then
//     every partition's checkpoint is written again without its end
//     (Done, LastGen), and producing goes on after the last epoch any
//     partition processed.
func (e *Engine) Continue(ctx context.Context, process func(context.Context) error) (uint32, error) {
	from, finished, err := e.ResumeEpoch(ctx)
	if err != nil {
		return 0, err
	}
	anyLast := false
	for p := 0; p < e.parts; p++ {
		cp, ok, err := e.lastCheckpoint(ctx, p)
		if err != nil {
			return 0, err
		}
		anyLast = anyLast || ok && (cp.LastGen >= 0 || cp.Done)
	}
	if !finished && !anyLast {
		return from, nil
	}
	if !finished {
		// The last mark reached some partitions, not the progress
		// record: end that epoch again, as the last, for all of them.
		if _, err := e.Produce(ctx, lastEpoch{}, from); err != nil {
			return 0, fmt.Errorf("end the previous session: %w", err)
		}
	}
	if err := process(ctx); err != nil {
		return 0, fmt.Errorf("finish the previous session: %w", err)
	}
	next := int64(0)
	msgs := make([]kafka.Message, 0, e.parts)
	for p := 0; p < e.parts; p++ {
		cp, ok, err := e.lastCheckpoint(ctx, p)
		if err != nil {
			return 0, err
		}
		if !ok || !cp.Done {
			return 0, fmt.Errorf("partition %d did not finish the previous session", p)
		}
		next = max(next, cp.Epoch+1)
		cp.Done, cp.LastGen, cp.Session = false, -1, cp.Session+1
		msgs = append(msgs, kafka.Message{Topic: e.topics.Checkpoints, Partition: p, Value: cp.encode()})
	}
	if err := e.writeControl(ctx, msgs); err != nil {
		return 0, fmt.Errorf("reopen checkpoints: %w", err)
	}
	for p := range e.doneEp {
		e.progress(p, uint32(next-1))
	}
	return uint32(next), nil
}
