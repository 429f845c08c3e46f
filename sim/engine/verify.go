package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/event"
)

// Verify replays the commands and events topics through an auditor: it
// checks every invariant and computes the digest from the log alone.
//
// The auditor is single-threaded (it owns cross-wallet state: accounts,
// outcome sets), so the work around it runs in parallel: one goroutine per
// partition and topic scans with batched fetches and decodes, handing the
// auditor decoded batches. A wallet's events live in one partition and
// each partition has one scanner, so the auditor still sees every wallet's
// events in log order.
func Verify(ctx context.Context, bc bus.Config, topics bus.Topics) (*audit.Auditor, audit.Report, error) {
	admin, err := bus.NewClient(bc)
	if err != nil {
		return nil, audit.Report{}, err
	}
	parts, err := admin.Partitions(ctx, topics.Events)
	if err != nil {
		return nil, audit.Report{}, err
	}
	if parts == 0 {
		return nil, audit.Report{}, fmt.Errorf("topic %s does not exist on %v: nothing to verify", topics.Events, bc.Brokers)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *batch, 16)
	free := make(chan *batch, 32)
	var wg sync.WaitGroup
	errs := make(chan error, 2*parts+2)
	var evFirst []int64
	for _, topic := range []string{topics.Commands, topics.Events} {
		n, err := admin.Partitions(ctx, topic)
		if err != nil {
			return nil, audit.Report{}, err
		}
		first, next, err := admin.Offsets(ctx, topic, n)
		if err != nil {
			return nil, audit.Report{}, err
		}
		isEvents := topic == topics.Events
		if isEvents {
			evFirst = first
		}
		for p := 0; p < n; p++ {
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				if err := scanDecode(ctx, bc, topic, p, first[p], next[p], isEvents, batches, free); err != nil {
					errs <- err
					cancel()
				}
			}(p)
		}
	}
	go func() { wg.Wait(); close(batches) }()
	a := audit.New()
	// Offset just past the last record per events partition that repeats
	// an earlier (wallet, seq): the auditor needs those partitions read
	// again up to there to tell redeliveries from duplicates.
	again := map[int]int64{}
	for b := range batches {
		if b.events {
			for i := range b.evs {
				if a.EventPending(&b.evs[i], b.raw[b.ends[i]-b.lens[i]:b.ends[i]]) {
					again[b.part] = max(again[b.part], b.offs[i]+1)
				}
			}
		} else {
			for i := range b.cmds {
				a.Command(&b.cmds[i])
			}
		}
		select {
		case free <- b:
		default:
		}
	}
	close(errs)
	if err := <-errs; err != nil {
		return nil, audit.Report{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, audit.Report{}, err
	}
	for p, to := range again {
		var ev event.Event
		err := scanRetrying(ctx, bc, topics.Events, p, evFirst[p], to, func(_ int64, v []byte) error {
			if event.DecodeEvent(v, &ev) == nil {
				a.Resolve(&ev, v)
			}
			return nil
		})
		if err != nil {
			return nil, audit.Report{}, err
		}
	}
	return a, a.Finish(), nil
}

const batchLen = 2048

// batch is a run of decoded records from one partition, with the raw
// events kept (the digest is over the bytes the log holds).
type batch struct {
	events bool
	part   int
	offs   []int64
	evs    []event.Event
	cmds   []event.Command
	raw    []byte
	ends   []int
	lens   []int
}

func scanDecode(ctx context.Context, bc bus.Config, topic string, p int, from, to int64, isEvents bool, out chan<- *batch, free chan *batch) error {
	get := func() *batch {
		select {
		case b := <-free:
			b.events, b.evs, b.cmds, b.raw, b.ends, b.lens = isEvents, b.evs[:0], b.cmds[:0], b.raw[:0], b.ends[:0], b.lens[:0]
			b.part, b.offs = p, b.offs[:0]
			return b
		default:
			return &batch{events: isEvents, part: p}
		}
	}
	b := get()
	flush := func() error {
		if len(b.evs) == 0 && len(b.cmds) == 0 {
			return nil
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		b = get()
		return nil
	}
	err := scanRetrying(ctx, bc, topic, p, from, to, func(off int64, v []byte) error {
		if isEvents {
			b.offs = append(b.offs, off)
			b.evs = append(b.evs, event.Event{})
			if err := event.DecodeEvent(v, &b.evs[len(b.evs)-1]); err != nil {
				b.evs[len(b.evs)-1] = event.Event{} // counted as a bad event
			}
			b.raw = append(b.raw, v...)
			b.ends, b.lens = append(b.ends, len(b.raw)), append(b.lens, len(v))
			if len(b.evs) == batchLen {
				return flush()
			}
			return nil
		}
		var c event.Command
		// Undecodable or invalid commands were dead-lettered: not payments.
		if event.DecodeCommand(v, &c) == nil && c.Validate() == nil && (c.Type == event.CmdPay || c.Type == event.CmdOpenWallet) {
			b.cmds = append(b.cmds, c)
			if len(b.cmds) == batchLen {
				return flush()
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}
