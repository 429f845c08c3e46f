// Package engine runs walletsim's event-sourced wallets on Kafka. Commands
// arrive on a topic partitioned by wallet; one processor per partition owns
// those wallets, decides each command with package ledger and appends the
// events; payments that touch two partitions travel as saga records on a
// second topic. Work is cut into simulated-time epochs: a processor handles
// epoch e once the generator and every partition have marked their part of
// it done, so the events each wallet gets do not depend on thread timing,
// partition count or machine.
package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/route"
)

// Config is what the engine needs.
type Config struct {
	Bus        bus.Config
	Topics     bus.Topics
	Partitions int
	Routes     *route.Table
	Limits     *[sim.NumClasses]sim.Limits
	Seed       uint64
	Clock      ledger.Clock
	// Window bounds how many epochs the producer may run ahead of the
	// slowest local processor (memory in the broker and the readers);
	// negative: unbounded (processors in other processes).
	Window int
	// Wallets, if known, is how many wallets the run opens: each book
	// makes room for its share at once (a hint; 0: grown as they open).
	Wallets int64
	Logf    func(format string, args ...any)
	// OnEvent, if set, sees every event once its epoch's write is
	// acknowledged (in partition order). serve answers synchronous
	// requests from it; metrics count from it. It must not block long:
	// it runs on the processor's goroutine.
	OnEvent func(e *event.Event)
}

func (c *Config) setDefaults() {
	if c.Topics == (bus.Topics{}) {
		c.Topics = bus.DefaultTopics("")
	}
	if c.Partitions == 0 {
		c.Partitions = 8
	}
	if c.Window == 0 {
		c.Window = 3
	}
	if c.Limits == nil {
		c.Limits = &sim.DefaultLimits
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Validate reports what is wrong with the configuration.
func (c *Config) Validate() error {
	if c.Partitions < 1 || c.Partitions > 1024 {
		return fmt.Errorf("partitions %d: want 1-1024", c.Partitions)
	}
	if c.Routes == nil {
		return errors.New("engine: no policy (route table)")
	}
	if c.Clock.Length <= 0 {
		return errors.New("engine: epoch length must be positive")
	}
	return c.Bus.Validate()
}

// Engine is a configured engine; it is safe for one Run at a time.
type Engine struct {
	cfg    Config
	topics bus.Topics
	parts  int
	out    *bus.Producer // every record the engine writes, in order per partition
	admin  *bus.Client

	produced    atomic.Int64 // payments written by the producer
	resolved    atomic.Int64 // outcomes written (all processors)
	deadLetters atomic.Int64
	panics      atomic.Int64 // commands whose handling panicked (guard.go)
	retries     atomic.Int64
	restarts    atomic.Int64 // processors recovered in-process after a failure

	mu       sync.Mutex
	progCond *sync.Cond
	doneEp   []int64 // last processed epoch per partition

	onLatency []func(kind sim.Kind, us int64) // see OnLatency (observe.go)
}

// New builds an engine; it does not touch the cluster yet.
func New(cfg Config) (*Engine, error) {
	cfg.setDefaults()
	cfg.Bus.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out, err := bus.NewProducer(cfg.Bus, bus.ProducerConfig{Attempts: writeAttempts})
	if err != nil {
		return nil, err
	}
	admin, err := bus.NewClient(cfg.Bus)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, topics: cfg.Topics, parts: cfg.Partitions, out: out, admin: admin, doneEp: make([]int64, cfg.Partitions)}
	for i := range e.doneEp {
		e.doneEp[i] = -1
	}
	e.progCond = sync.NewCond(&e.mu)
	return e, nil
}

// Close releases the engine's connections. It waits for nothing: a
// write in flight belongs to its caller's context (cancelled, it returns
// at once), so a worker whose generation ended lets go of its partitions
// at once, whatever the broker does. kafka-go's Writer.Close instead
// waited for every batch through all its retries: minutes against a
// paused broker, past the group's rebalance timeout.
func (e *Engine) Close() error {
	err := e.out.Close()
	e.admin.Close()
	return err
}

// Partitions is the partition count.
func (e *Engine) Partitions() int { return e.parts }

// Topics are the engine's topic names.
func (e *Engine) Topics() bus.Topics { return e.topics }

// DoneEpochs returns the last epoch each local processor finished (-1:
// none yet; 1<<31: finished the run).
func (e *Engine) DoneEpochs() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int64(nil), e.doneEp...)
}

// Resolved is the number of outcomes written so far (progress).
func (e *Engine) Resolved() int64 { return e.resolved.Load() }

// DeadLetters is the number of records dead-lettered so far.
func (e *Engine) DeadLetters() int64 { return e.deadLetters.Load() }

// Panics is the number of commands whose handling panicked and that were
// dead-lettered instead (a bug in the ledger: zero on a correct build).
func (e *Engine) Panics() int64 { return e.panics.Load() }

// Retries is the number of requests repeated after an error: produce
// requests and fetches.
func (e *Engine) Retries() int64 {
	return e.retries.Load() + e.out.Retries()
}

// Restarts is the number of times a processor stopped on a failed write
// or read and recovered from its checkpoint without the process dying.
func (e *Engine) Restarts() int64 { return e.restarts.Load() }

// maxRestarts bounds in-process recoveries per processor in a row without
// an epoch finished in between: a failure that outlasts them (a topic deleted under the run) ends the
// run with its error instead of looping.
var maxRestarts = 5

func (e *Engine) logf(format string, args ...any) { e.cfg.Logf(format, args...) }

// Setup creates the topics. With fresh, existing topics of these names are
// deleted first: a run starts from an empty log. Topics that are not gone,
// or not there, within bus's wait end Setup with an error naming them.
func (e *Engine) Setup(ctx context.Context, fresh bool) error {
	all := append(e.topics.Partitioned(), e.topics.DeadLetters, e.topics.Producer)
	if e.topics.Identity != "" {
		all = append(all, e.topics.Identity)
	}
	if fresh {
		if err := e.admin.DeleteTopics(ctx, all...); err != nil {
			return err
		}
		if err := e.admin.WaitDeleted(ctx, all...); err != nil {
			return err
		}
	}
	if err := e.admin.EnsureTopics(ctx, e.parts, e.topics.Partitioned()...); err != nil {
		return err
	}
	if err := e.admin.EnsureTopics(ctx, 1, e.topics.DeadLetters, e.topics.Producer); err != nil {
		return err
	}
	if e.topics.Identity != "" {
		return e.admin.EnsureTopicsWith(ctx, 1, e.admin.Compacted(), e.topics.Identity)
	}
	return nil
}

// WaitDone blocks until every partition's latest checkpoint says Done:
// how a producer-only process (workers elsewhere) knows the run is over.
func (e *Engine) WaitDone(ctx context.Context, poll time.Duration) error {
	for {
		done := 0
		for p := 0; p < e.parts; p++ {
			cp, ok, err := e.lastCheckpoint(ctx, p)
			if err != nil {
				return err
			}
			if ok && cp.Done {
				done++
			}
		}
		if done == e.parts {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// write appends bulk records (commands, events, saga steps); writeControl
// appends the few control records. Both keep each partition's records in
// order and never drop one; see writeWith.
func (e *Engine) write(ctx context.Context, msgs []kafka.Message) error {
	return e.out.Write(ctx, msgs)
}

// writeControl writes control records (epoch marks, checkpoints, producer
// progress, dead letters): one or a few per partition.
func (e *Engine) writeControl(ctx context.Context, msgs []kafka.Message) error {
	return e.out.Write(ctx, msgs)
}

// ErrWriteExhausted wraps a write that failed after every retry; see
// bus.ErrWriteExhausted.
var ErrWriteExhausted = bus.ErrWriteExhausted

// writeAttempts bounds the tries of one produce request (0: the
// producer's default); tests of the no-drop rule lower it.
var writeAttempts = 0

func (e *Engine) progress(part int, epoch uint32) {
	e.mu.Lock()
	e.doneEp[part] = int64(epoch)
	e.mu.Unlock()
	e.progCond.Broadcast()
}

// minDone is the last epoch every local processor has finished.
func (e *Engine) minDone() int64 {
	m := int64(1 << 62)
	for _, d := range e.doneEp {
		m = min(m, d)
	}
	return m
}

// waitWindow blocks the producer until epoch ep is within the window.
func (e *Engine) waitWindow(ctx context.Context, ep uint32) error {
	// A cancelled run writes nothing more: a source stopped by the same
	// context may have handed over an epoch cut short.
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.cfg.Window < 0 {
		return nil // processors run elsewhere: no local progress to wait on
	}
	// A cancelled context must wake the wait: the processors it waits on
	// may be gone for good (Process returned an error).
	stop := context.AfterFunc(ctx, func() {
		e.mu.Lock()
		e.progCond.Broadcast()
		e.mu.Unlock()
	})
	defer stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	for int64(ep) > e.minDone()+int64(e.cfg.Window) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.progCond.Wait()
	}
	return nil
}

// ProcessResult is what the processors did.
type ProcessResult struct {
	Stats   Stats
	Latency *hdrhistogram.Histogram // microseconds, command in to outcome out
	Wallets int
	// Books are the processors' final states, by partition.
	Books map[int]*ledger.Book
}

// Process runs the processors of the given partitions (nil: all) until the
// run is complete. Each first rebuilds its state from the log.
func (e *Engine) Process(ctx context.Context, parts []int) (*ProcessResult, error) {
	if parts == nil {
		for p := 0; p < e.parts; p++ {
			parts = append(parts, p)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Wake the producer if we stop early.
	go func() { <-ctx.Done(); e.progCond.Broadcast() }()
	res := &ProcessResult{Latency: newHist(), Books: map[int]*ledger.Book{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(parts))
	for _, part := range parts {
		wg.Add(1)
		go func(part int) {
			defer wg.Done()
			var p *processor
			var err error
			for restarts := 0; ; restarts++ {
				p, err = e.newProcessor(ctx, part)
				if err == nil && p != nil {
					err = p.run(ctx)
					p.cmdR.Close()
					p.trR.Close()
					if p.stats.Epochs > 0 {
						restarts = 0 // it got somewhere: the bound is on failures in a row
					}
				}
				if err == nil || ctx.Err() != nil || restarts >= maxRestarts {
					break
				}
				// A write that exhausted its retries, a broker away for
				// long: stop this processor and recover it from its
				// checkpoint and the log, as after a SIGKILL. Going on
				// would put later records before ones that may be missing.
				e.restarts.Add(1)
				e.logf("partition %d: %v: recovering from the checkpoint (restart %d)", part, err, restarts+1)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			if err != nil {
				errs <- err
				cancel()
				return
			}
			e.progress(part, 1<<31)
			if p == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			res.Stats.add(p.stats)
			res.Latency.Merge(p.hist)
			res.Books[part] = p.book
			res.Wallets += p.book.Len()
		}(part)
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		if !errors.Is(err, context.Canceled) || len(all) == 0 {
			all = append(all, err)
		}
	}
	if len(all) > 0 {
		return res, errors.Join(all...)
	}
	return res, nil
}

func (s *Stats) add(o *Stats) {
	s.Events += o.Events
	s.SagaSent += o.SagaSent
	s.DeadLetters += o.DeadLetters
	s.Stale += o.Stale
	s.Redelivered += o.Redelivered
	s.Epochs += o.Epochs
	s.Outcomes += o.Outcomes
	s.Panics += o.Panics
	s.MaxHeld = max(s.MaxHeld, o.MaxHeld)
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 3_600_000_000, 3) }

// lastCheckpoint reads the newest checkpoint of a partition.
func (e *Engine) lastCheckpoint(ctx context.Context, part int) (Checkpoint, bool, error) {
	first, next, err := e.admin.Offsets(ctx, e.topics.Checkpoints, e.parts)
	if err != nil {
		return Checkpoint{}, false, err
	}
	if next[part] <= first[part] {
		return Checkpoint{}, false, nil
	}
	// The furthest of the last few, not simply the last: a zombie (a
	// worker paused past its session, its partitions long reassigned)
	// can land an old epoch's checkpoint after the new owner's, and the
	// newest record would send a restart back in time, or make WaitDone
	// wait for a Done that is already there.
	var cp Checkpoint
	found := false
	from := max(first[part], next[part]-checkpointLookback)
	err = bus.ReadRange(ctx, e.cfg.Bus, e.topics.Checkpoints, part, from, next[part], func(m kafka.Message) error {
		c, err := decodeCheckpoint(m.Value)
		if err != nil {
			return err
		}
		if !found || c.Session > cp.Session || c.Session == cp.Session && (c.Epoch > cp.Epoch || c.Epoch == cp.Epoch && c.Done && !cp.Done) {
			cp, found = c, true
		}
		return nil
	})
	return cp, err == nil && found, err
}

// checkpointLookback is how many of a partition's last checkpoints
// lastCheckpoint weighs; a zombie writes a few before it learns it lost
// the partition (one per epoch it finishes in that time).
const checkpointLookback = 32

// newProcessor rebuilds a partition's state from its checkpoint and the
// event log; nil means the partition already finished this run.
func (e *Engine) newProcessor(ctx context.Context, part int) (*processor, error) {
	cp, ok, err := e.lastCheckpoint(ctx, part)
	if err != nil {
		return nil, err
	}
	if ok && cp.Done {
		return nil, nil
	}
	if ok && cp.Epoch >= 0 {
		// The producer's window counts from what the processors finished;
		// after a restart that is the checkpoint, not "nothing yet".
		// Without this a producer resuming more than Window epochs past -1
		// waits for processors that wait for its commands.
		e.progress(part, uint32(cp.Epoch))
	}
	if !ok {
		cp = Checkpoint{Partition: part, Epoch: -1, LastGen: -1}
		cf, _, err := e.admin.Offsets(ctx, e.topics.Commands, e.parts)
		if err != nil {
			return nil, err
		}
		tf, _, err := e.admin.Offsets(ctx, e.topics.Transfers, e.parts)
		if err != nil {
			return nil, err
		}
		cp.Commands, cp.Transfers = cf[part], tf[part]
	}
	book := ledger.NewBook(part, e.parts, e.cfg.Routes, e.cfg.Limits, e.cfg.Seed)
	book.SetClock(e.cfg.Clock)
	if e.cfg.Wallets > 0 && e.cfg.Wallets < 1<<31 {
		book.Reserve(int(e.cfg.Wallets))
	}
	p := &processor{
		e: e, part: part, book: book,
		cmdPend: pending{}, trPend: pending{},
		cmds: map[uint32]*epochInputs{}, sagas: map[uint32]*epochInputs{},
		genMarks: map[uint32]uint32{}, trMarks: map[uint32]*markSet{},
		lastGen: cp.LastGen, epoch: uint32(cp.Epoch + 1), done: cp.Epoch, session: cp.Session,
		cmdNext: cp.Commands, trNext: cp.Transfers, cmdDL: cp.DeadCommands, trDL: cp.DeadTransfers,
		sent: make([]uint32, e.parts), stats: &Stats{}, hist: newHist(),
	}
	if err := p.rebuild(ctx, cp.Epoch); err != nil {
		return nil, err
	}
	if p.cmdR, err = bus.NewPartitionReader(e.cfg.Bus, e.topics.Commands, part, cp.Commands); err != nil {
		return nil, err
	}
	if p.trR, err = bus.NewPartitionReader(e.cfg.Bus, e.topics.Transfers, part, cp.Transfers); err != nil {
		p.cmdR.Close()
		return nil, err
	}
	return p, nil
}

// rebuild applies the events of epochs up to upto; later events (an epoch
// cut short by a crash) are remembered so reprocessing does not append
// them a second time.
func (p *processor) rebuild(ctx context.Context, upto int64) error {
	first, next, err := p.e.admin.Offsets(ctx, p.e.topics.Events, p.e.parts)
	if err != nil {
		return err
	}
	var ev event.Event
	return bus.ReadRange(ctx, p.e.cfg.Bus, p.e.topics.Events, p.part, first[p.part], next[p.part], func(m kafka.Message) error {
		if err := event.DecodeEvent(m.Value, &ev); err != nil {
			return fmt.Errorf("events[%d]@%d: %w", p.part, m.Offset, err)
		}
		if int64(ev.Epoch) > upto {
			if p.skip == nil {
				p.skip = map[uint64]struct{}{}
			}
			p.skip[ev.ID] = struct{}{}
			return nil
		}
		if p.book.Seq(ev.Wallet) >= ev.Seq {
			// A redelivery (a resent produce whose answer was lost, a
			// zombie's late write): applying it twice changes nothing.
			// verify tells an identical copy from a forgery.
			p.stats.Redelivered++
			return nil
		}
		p.stats.Events++
		return p.book.Apply(&ev)
	})
}
