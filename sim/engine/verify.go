package engine

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/route"
	"golang.org/x/sync/errgroup"
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
	return VerifyWith(ctx, bc, topics, VerifyConfig{})
}

// VerifyPolicy is Verify that also checks every decision in the log (FX
// rates, fees, limits) against the policy and limits the run used
// (audit.NewWithPolicy); nil routes checks balances only.
func VerifyPolicy(ctx context.Context, bc bus.Config, topics bus.Topics, routes *route.Table, limits *[sim.NumClasses]sim.Limits) (*audit.Auditor, audit.Report, error) {
	return VerifyWith(ctx, bc, topics, VerifyConfig{Routes: routes, Limits: limits})
}

// VerifyConfig says what else a Verify checks and observes.
type VerifyConfig struct {
	// Routes and Limits, when set, check every decision in the log
	// against the policy (audit.NewWithPolicy).
	Routes *route.Table
	Limits *[sim.NumClasses]sim.Limits
	// DayStartMS and DayMS: how the limit check counts days when the
	// scenario compresses its consumers' days (audit.CountDays).
	DayStartMS, DayMS int64
	// Done, when set, makes the audit follow a log that is still being
	// written: the events scanners read up to the end they last saw and
	// look again until Done is closed, then read to the final end. A run's
	// audit thus keeps pace with its pipeline and ends soon after the last
	// outcome; the verdict is the one over the finished log (the auditor's
	// checks do not depend on how the reads were cut). Commands are read
	// once the log has settled: which of them the processors dead-lettered
	// is only known then.
	Done <-chan struct{}
	// OnEvent sees every event the audit accepted (not duplicates, not
	// undecodable records) with its partition and offset, in log order
	// within the partition: stream hashes and rule coverage are counted
	// here, where the log is read anyway. raw is valid during the call.
	OnEvent func(part int, offset int64, e *event.Event, raw []byte)
	// Wallets, if known, is how many wallets the log opens: the auditor
	// makes room for them at once (a hint; 0: grown as they open).
	Wallets int64
	// Audited, when set, counts the records the auditor has taken
	// (events, commands and dead-lettered commands), batch by batch: a
	// run reads it at its last outcome to say how far the audit had got.
	Audited *atomic.Int64
}

// followPoll is how long a caught-up scanner waits before it looks for
// new records of a growing log, and followChunk the fewest new records
// worth a fetch before the log settles: each scan dials the partition's
// leader, so chasing every few records would cost the broker more than
// the audit saves.
const (
	followPoll  = 50 * time.Millisecond
	followChunk = 4096
)

// VerifyWith is Verify as cfg says.
func VerifyWith(ctx context.Context, bc bus.Config, topics bus.Topics, cfg VerifyConfig) (*audit.Auditor, audit.Report, error) {
	done := cfg.Done
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
	// One poller learns how far each topic's partitions have grown and
	// publishes it; the scanners chase those ends, and once the log is
	// complete (done closed) the poller publishes the final ends and
	// closes settled.
	names := []string{topics.Commands, topics.Events}
	ends := make([][]atomic.Int64, len(names))
	firsts := make([][]int64, len(names))
	for i, topic := range names {
		n, err := admin.Partitions(ctx, topic)
		if err != nil {
			return nil, audit.Report{}, err
		}
		first, next, err := admin.Offsets(ctx, topic, n)
		if err != nil {
			return nil, audit.Report{}, err
		}
		firsts[i], ends[i] = first, make([]atomic.Int64, n)
		for p := range next {
			ends[i][p].Store(next[p])
		}
	}
	// The poller and the scanners: the first error cancels the others.
	g, gctx := errgroup.WithContext(ctx)
	settled := make(chan struct{})
	if done == nil {
		close(settled)
	} else {
		g.Go(func() error { return pollEnds(gctx, admin, names, ends, done, settled) })
	}
	var deadOnce sync.Once
	var dead map[int]map[int64]bool
	var deadErr error
	for i, topic := range names {
		isEvents := topic == topics.Events
		for p := range ends[i] {
			g.Go(func() error {
				if isEvents {
					return follow(gctx, bc, topic, p, firsts[i][p], &ends[i][p], settled, batches, free)
				}
				select {
				case <-settled:
				case <-gctx.Done():
					return nil
				}
				deadOnce.Do(func() { dead, deadErr = deadLettered(gctx, bc, admin, topics) })
				if deadErr != nil {
					return deadErr
				}
				return scanDecode(gctx, bc, topic, p, firsts[i][p], ends[i][p].Load(), false, dead[p], batches, free)
			})
		}
	}
	var scanErr error // read after batches closes
	go func() { scanErr = g.Wait(); close(batches) }()
	a := audit.New()
	if cfg.Routes != nil {
		a = audit.NewWithPolicy(cfg.Routes, cfg.Limits)
		a.CountDays(cfg.DayStartMS, cfg.DayMS)
	}
	if cfg.Wallets > 0 && cfg.Wallets < 1<<31 {
		a.Reserve(int(cfg.Wallets))
	}
	// Offset just past the last record per events partition that repeats
	// an earlier (wallet, seq): the auditor needs those partitions read
	// again up to there to tell redeliveries from duplicates.
	again := map[int]int64{}
	for b := range batches {
		if b.events {
			for i := range b.evs {
				e, raw := &b.evs[i], b.raw[b.ends[i]-b.lens[i]:b.ends[i]]
				var before uint64
				if cfg.OnEvent != nil {
					before = a.Seq(e.Wallet)
				}
				if a.EventPending(e, raw) {
					again[b.part] = max(again[b.part], b.offs[i]+1)
				}
				if cfg.OnEvent != nil && a.Seq(e.Wallet) != before {
					cfg.OnEvent(b.part, b.offs[i], e, raw)
				}
			}
		} else {
			for i := range b.cmds {
				a.Command(&b.cmds[i])
			}
			for range b.dead {
				a.DeadLettered()
			}
		}
		if cfg.Audited != nil {
			cfg.Audited.Add(int64(len(b.evs) + len(b.cmds) + b.dead))
		}
		select {
		case free <- b:
		default:
		}
	}
	if scanErr != nil {
		return nil, audit.Report{}, scanErr
	}
	if err := ctx.Err(); err != nil {
		return nil, audit.Report{}, err
	}
	for p, to := range again {
		var ev event.Event
		err := scanRetrying(ctx, bc, topics.Events, p, firsts[1][p], to, func(_ int64, v []byte) error {
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

// pollEnds refreshes ends every followPoll until done closes, then stores
// the final ends and closes settled.
func pollEnds(ctx context.Context, admin *bus.Client, names []string, ends [][]atomic.Int64, done <-chan struct{}, settled chan<- struct{}) error {
	t := time.NewTicker(followPoll)
	defer t.Stop()
	for {
		final := false
		select {
		case <-done:
			final = true
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		for i, topic := range names {
			_, next, err := admin.Offsets(ctx, topic, len(ends[i]))
			if err != nil {
				if final || ctx.Err() != nil {
					return err
				}
				continue // a transient error: the next tick asks again
			}
			for p := range next {
				ends[i][p].Store(next[p])
			}
		}
		if final {
			close(settled)
			return nil
		}
	}
}

// follow scans one events partition from pos to the end the poller
// published, again and again, until the log is settled and the final end
// is read.
func follow(ctx context.Context, bc bus.Config, topic string, p int, pos int64, end *atomic.Int64, settled <-chan struct{}, out chan<- *batch, free chan *batch) error {
	for {
		last := false
		select {
		case <-settled:
			last = true
		default:
		}
		if e := end.Load(); e > pos && (last || e-pos >= followChunk) {
			if err := scanDecode(ctx, bc, topic, p, pos, e, true, nil, out, free); err != nil {
				return err
			}
			pos = e
		}
		if last {
			return nil
		}
		select {
		case <-settled:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(followPoll):
		}
	}
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
	dead   int // commands skipped because the processors dead-lettered them
}

func scanDecode(ctx context.Context, bc bus.Config, topic string, p int, from, to int64, isEvents bool, dead map[int64]bool, out chan<- *batch, free chan *batch) error {
	get := func() *batch {
		select {
		case b := <-free:
			b.events, b.evs, b.cmds, b.raw, b.ends, b.lens, b.dead = isEvents, b.evs[:0], b.cmds[:0], b.raw[:0], b.ends[:0], b.lens[:0], 0
			b.part, b.offs = p, b.offs[:0]
			return b
		default:
			// Sized for a full batch at once: grown from empty, the copies
			// were a tenth of the audit's CPU.
			b := &batch{events: isEvents, part: p}
			if isEvents {
				b.offs, b.evs, b.raw = make([]int64, 0, batchLen), make([]event.Event, 0, batchLen), make([]byte, 0, batchLen*256)
				b.ends, b.lens = make([]int, 0, batchLen), make([]int, 0, batchLen)
			} else {
				b.cmds = make([]event.Command, 0, batchLen)
			}
			return b
		}
	}
	b := get()
	// The batch taken after the last flush holds nothing: back to the pool
	// (follow calls this once per stretch of the log, and the pool ran dry).
	defer func() {
		select {
		case free <- b:
		default:
		}
	}()
	flush := func() error {
		if len(b.evs) == 0 && len(b.cmds) == 0 && b.dead == 0 {
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
		if dead[off] {
			// The processor dead-lettered it (unknown or misrouted
			// wallet, stale epoch, after the last mark): it has a
			// reason, not an outcome, and is no unresolved payment.
			b.dead++
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

// deadLettered reads the dead-letter topic: for each commands partition,
// the offsets the processors dead-lettered (their source headers).
func deadLettered(ctx context.Context, bc bus.Config, admin *bus.Client, topics bus.Topics) (map[int]map[int64]bool, error) {
	out := map[int]map[int64]bool{}
	n, err := admin.Partitions(ctx, topics.DeadLetters)
	if err != nil || n == 0 {
		return out, nil // no dead-letter topic: nothing was dead-lettered
	}
	first, next, err := admin.Offsets(ctx, topics.DeadLetters, n)
	if err != nil {
		return nil, err
	}
	for p := 0; p < n; p++ {
		err := bus.ReadRange(ctx, bc, topics.DeadLetters, p, first[p], next[p], func(m kafka.Message) error {
			var src string
			part, off := -1, int64(-1)
			for _, h := range m.Headers {
				switch h.Key {
				case "source_topic":
					src = string(h.Value)
				case "source_partition":
					if v, err := strconv.Atoi(string(h.Value)); err == nil {
						part = v
					}
				case "source_offset":
					if v, err := strconv.ParseInt(string(h.Value), 10, 64); err == nil {
						off = v
					}
				}
			}
			if src == topics.Commands && part >= 0 && off >= 0 {
				if out[part] == nil {
					out[part] = map[int64]bool{}
				}
				out[part][off] = true
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read dead letters: %w", err)
		}
	}
	return out, nil
}
