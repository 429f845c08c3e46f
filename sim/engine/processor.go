package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/ledger"
)

// input is one record due in an epoch, with where it came from.
type input struct {
	cmd    event.Command
	offset int64
	wallMS int64 // when it entered the system: latency is measured from here
	saga   bool
}

// epochInputs collects an epoch's records from one topic.
type epochInputs struct {
	items []input
}

// markSet collects the saga marks of one source epoch.
type markSet struct {
	from  []bool
	n     int
	total uint64
}

// pending tracks, per epoch that will consume them, the lowest offset of
// records read but not yet consumed: the safe restart offset.
type pending map[uint32]int64

func (p pending) add(epoch uint32, off int64) {
	if o, ok := p[epoch]; !ok || off < o {
		p[epoch] = off
	}
}

func (p pending) restart(done uint32, next int64) int64 {
	r := next
	for e, off := range p {
		if e <= done {
			delete(p, e)
			continue
		}
		r = min(r, off)
	}
	return r
}

type processor struct {
	e    *Engine
	part int
	book *ledger.Book

	cmdR, trR       *bus.PartitionReader
	cmdNext, trNext int64
	cmdDL, trDL     int64 // input offsets below which garbage was dead-lettered
	cmdPend, trPend pending

	cmds     map[uint32]*epochInputs
	sagas    map[uint32]*epochInputs
	seq      []int32           // orderOf's result
	genMarks map[uint32]uint32 // epoch -> count
	trMarks  map[uint32]*markSet
	lastGen  int64
	session  int64  // Checkpoint.Session this processor writes
	epoch    uint32 // next epoch to process
	done     int64  // last epoch processed, -1 before the first

	skip map[uint64]struct{} // events already in the log (recovery)

	// Epoch 0 opens every wallet; its openings are handled as they are
	// read (streamOpen) instead of held until the epoch's mark, and their
	// events written every flushEvents records, so that ten million
	// wallets are never ten million inputs and events in memory at once.
	streaming bool   // epoch 0 has begun streaming
	openedTo  uint64 // the last opening streamed (IDs ascend: later ones are copies)

	failed error // a dead letter that could not be written: stop

	// per-epoch output, reused
	arena   []byte
	msgs    []kafka.Message
	sent    []uint32
	outWall []int64 // wall ms of each outcome this epoch, for latency
	outKind []sim.Kind
	evCopy  []event.Event // this epoch's events, kept only for Config.OnEvent
	cur     *input
	dlq     []kafka.Message // dead letters not yet written (guard.go)
	spare   [][]input       // emptied epoch inputs, reused (each epoch's grew from nothing)
	in      input           // the input being read (awaitCommands, awaitSagas)

	stats *Stats
	hist  *hdrhistogram.Histogram
}

// Stats are one processor's counters; Engine merges them.
type Stats struct {
	Events      int64
	SagaSent    int64
	DeadLetters int64
	Stale       int64 // duplicate or late records dropped
	Redelivered int64 // events already applied, read again while rebuilding
	Epochs      int64
	Outcomes    int64
	Panics      int64 // commands whose handling panicked (dead-lettered, guard.go)
	MaxHeld     int64 // the most records one processor held unwritten at once
}

func (p *processor) Event(ev *event.Event) {
	if p.skip != nil {
		if _, ok := p.skip[ev.ID]; ok {
			delete(p.skip, ev.ID)
			p.noteOutcome(ev)
			return
		}
	}
	start := len(p.arena)
	p.arena = strconv.AppendUint(p.arena, ev.Wallet, 10)
	keyEnd := len(p.arena)
	p.arena = event.AppendEvent(p.arena, ev)
	p.msgs = append(p.msgs, kafka.Message{
		Topic: p.e.topics.Events, Partition: p.part,
		Key: p.arena[start:keyEnd:keyEnd], Value: p.arena[keyEnd:len(p.arena):len(p.arena)],
	})
	p.stats.Events++
	p.noteOutcome(ev)
	if p.e.cfg.OnEvent != nil {
		p.evCopy = append(p.evCopy, *ev)
	}
}

func (p *processor) noteOutcome(ev *event.Event) {
	if ev.Type.IsOutcome() {
		p.outWall = append(p.outWall, p.cur.wallMS)
		p.outKind = append(p.outKind, ev.Kind)
	}
}

func (p *processor) Send(c *event.Command) {
	start := len(p.arena)
	p.arena = strconv.AppendUint(p.arena, c.Wallet, 10)
	keyEnd := len(p.arena)
	p.arena = event.AppendCommand(p.arena, c)
	q := ledger.Partition(c.Wallet, p.e.parts)
	p.msgs = append(p.msgs, kafka.Message{
		Topic: p.e.topics.Transfers, Partition: q,
		Key: p.arena[start:keyEnd:keyEnd], Value: p.arena[keyEnd:len(p.arena):len(p.arena)],
		Time: time.UnixMilli(p.cur.wallMS),
	})
	p.sent[q]++
	p.stats.SagaSent++
}

// run processes epochs until the run is complete or ctx ends.
func (p *processor) run(ctx context.Context) error {
	for {
		e := p.epoch
		if err := p.awaitCommands(ctx, e); err != nil {
			return err
		}
		if e > 0 {
			if err := p.awaitSagas(ctx, e-1); err != nil {
				return err
			}
			// Everything after the generator's last epoch is saga steps;
			// the run is over once no partition sent any in an epoch.
			// This is decided here, from marks every partition wrote for
			// e-1, and not after processing e-1: a processor killed
			// between epoch e-1's checkpoint and its Done checkpoint
			// restarts at e, and must reach the same verdict without
			// waiting for marks of epoch e that the partitions which
			// already finished will never write.
			if p.lastGen >= 0 && int64(e-1) >= p.lastGen && p.trMarks[e-1].total == 0 {
				if err := p.drainAfterLast(ctx); err != nil {
					return err
				}
				return p.writeCheckpoint(ctx, e-1, true)
			}
		}
		if err := p.process(ctx, e); err != nil {
			return err
		}
		p.stats.Epochs++
		p.done = int64(e)
		delete(p.genMarks, e)
		p.e.progress(p.part, e)
		p.epoch++
	}
}

// fetch returns the next record of r; its Key and Value are good until
// the next fetch from r (what outlives that is copied: deadLetter). The
// reader redials by itself but hands each error it gives up on to the
// caller once, then goes on: a broker restart or an injected fetch error
// would otherwise end the run. So a transient error is counted as a retry and the read repeated;
// only an error the broker says will not go away ends the processor.
func (p *processor) fetch(ctx context.Context, r *bus.PartitionReader) (kafka.Message, error) {
	backoff := 10 * time.Millisecond
	for failures := 1; ; failures++ {
		m, err := r.Fetch(ctx)
		if err == nil {
			return m, nil
		}
		if ctx.Err() != nil {
			return m, ctx.Err()
		}
		var ke kafka.Error
		if errors.Is(err, io.EOF) || errors.Is(err, bus.ErrLogTruncated) || errors.As(err, &ke) && !ke.Temporary() {
			return m, err
		}
		// A topic deleted under the run answers UNKNOWN_TOPIC_OR_PARTITION,
		// which kafka-go calls temporary: give up after about half a
		// minute of failures in a row instead of waiting forever.
		if failures > 40 {
			return m, fmt.Errorf("%d fetches failed in a row: %w", failures, err)
		}
		p.e.retries.Add(1)
		p.e.logf("partition %d: fetch failed, retrying: %v", p.part, err)
		select {
		case <-ctx.Done():
			return m, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

func (p *processor) genReady(e uint32) bool {
	if p.lastGen >= 0 && int64(e) > p.lastGen {
		return true
	}
	_, ok := p.genMarks[e]
	return ok
}

func (p *processor) awaitCommands(ctx context.Context, e uint32) error {
	for !p.genReady(e) {
		m, err := p.fetch(ctx, p.cmdR)
		if err != nil {
			return fmt.Errorf("partition %d: read commands: %w", p.part, err)
		}
		p.cmdNext = m.Offset + 1
		if err := p.flushIfFull(ctx); err != nil {
			return err
		}
		// The processor's scratch input, not a local: handed on by
		// pointer, a local escapes, one allocation per command read.
		in := &p.in
		*in = input{}
		if len(m.Value) > event.MaxCommandBytes {
			p.poison(ctx, m, &p.cmdDL, fmt.Sprintf("record of %d bytes, larger than a command can be (%d)", len(m.Value), event.MaxCommandBytes))
			continue
		}
		if err := event.DecodeCommand(m.Value, &in.cmd); err != nil {
			p.poison(ctx, m, &p.cmdDL, err.Error())
			continue
		}
		if err := in.cmd.Validate(); err != nil {
			p.poison(ctx, m, &p.cmdDL, err.Error())
			continue
		}
		c := &in.cmd
		if c.Type == event.CmdEpochMark {
			if c.Source != -1 {
				p.poison(ctx, m, &p.cmdDL, "epoch mark from a partition on the commands topic")
				continue
			}
			if c.Epoch < p.epoch {
				p.stats.Stale++
				continue
			}
			p.genMarks[c.Epoch] = c.Count
			p.cmdPend.add(c.Epoch, m.Offset)
			if c.Last {
				p.lastGen = int64(c.Epoch)
			}
			continue
		}
		if c.Type != event.CmdPay && c.Type != event.CmdOpenWallet {
			p.poison(ctx, m, &p.cmdDL, "saga command "+c.Type.String()+" on the commands topic")
			continue
		}
		if ledger.Partition(c.Wallet, p.e.parts) != p.part {
			p.poison(ctx, m, &p.cmdDL, fmt.Sprintf("wallet %d belongs to partition %d, not %d", c.Wallet, ledger.Partition(c.Wallet, p.e.parts), p.part))
			continue
		}
		if c.Epoch < p.epoch {
			// A late record, or a restarted producer's rewrite of an
			// epoch already processed: either way nothing will process
			// it, so it is dead-lettered rather than counted unresolved.
			p.poison(ctx, m, &p.cmdDL, fmt.Sprintf("epoch %d already processed (next is %d): a late or duplicate record", c.Epoch, p.epoch))
			continue
		}
		in.offset, in.wallMS = m.Offset, m.Time.UnixMilli()
		if c.Epoch == 0 && p.epoch == 0 && c.Type == event.CmdOpenWallet && p.cmds[0] == nil {
			// Every source writes epoch 0 as openings in ID order, all at
			// the run's start: handled now, in the order the epoch would
			// sort them. A copy (a producer that wrote a part again) has
			// an ID already streamed.
			p.cmdPend.add(0, m.Offset)
			if c.ID <= p.openedTo {
				p.stats.Stale++
				continue
			}
			if err := p.streamOpen(ctx, in); err != nil {
				return err
			}
			continue
		}
		b := p.cmds[c.Epoch]
		if b == nil {
			b = &epochInputs{items: p.takeSpare()}
			p.cmds[c.Epoch] = b
		}
		b.items = append(b.items, *in)
		p.cmdPend.add(c.Epoch, m.Offset)
	}
	return nil
}

func (p *processor) sagaReady(src uint32) bool {
	ms := p.trMarks[src]
	return ms != nil && ms.n == p.e.parts
}

func (p *processor) awaitSagas(ctx context.Context, src uint32) error {
	for !p.sagaReady(src) {
		m, err := p.fetch(ctx, p.trR)
		if err != nil {
			return fmt.Errorf("partition %d: read transfers: %w", p.part, err)
		}
		p.trNext = m.Offset + 1
		if err := p.flushIfFull(ctx); err != nil {
			return err
		}
		in := &p.in
		*in = input{}
		if len(m.Value) > event.MaxCommandBytes {
			p.poison(ctx, m, &p.trDL, fmt.Sprintf("record of %d bytes, larger than a command can be (%d)", len(m.Value), event.MaxCommandBytes))
			continue
		}
		if err := event.DecodeCommand(m.Value, &in.cmd); err != nil {
			p.poison(ctx, m, &p.trDL, err.Error())
			continue
		}
		if err := in.cmd.Validate(); err != nil {
			p.poison(ctx, m, &p.trDL, err.Error())
			continue
		}
		c := &in.cmd
		if c.Type == event.CmdEpochMark {
			if c.Source < 0 || int(c.Source) >= p.e.parts {
				p.poison(ctx, m, &p.trDL, "epoch mark with a bad source on the transfers topic")
				continue
			}
			if int64(c.Epoch)+1 <= p.done {
				p.stats.Stale++
				continue
			}
			ms := p.trMarks[c.Epoch]
			if ms == nil {
				ms = &markSet{from: make([]bool, p.e.parts)}
				p.trMarks[c.Epoch] = ms
			}
			if !ms.from[c.Source] { // a rewritten mark after a restart counts once
				ms.from[c.Source] = true
				ms.n++
				ms.total += uint64(c.Total)
			}
			p.trPend.add(c.Epoch+1, m.Offset)
			continue
		}
		if c.Type != event.CmdCredit && c.Type != event.CmdCompensate && c.Type != event.CmdRetry {
			p.poison(ctx, m, &p.trDL, "command "+c.Type.String()+" on the transfers topic")
			continue
		}
		if ledger.Partition(c.Wallet, p.e.parts) != p.part {
			p.poison(ctx, m, &p.trDL, "saga record for a wallet of another partition")
			continue
		}
		if c.Epoch < p.epoch {
			p.stats.Stale++ // a duplicate rewritten by a restarted sender
			continue
		}
		in.offset, in.wallMS, in.saga = m.Offset, m.Time.UnixMilli(), true
		b := p.sagas[c.Epoch]
		if b == nil {
			b = &epochInputs{items: p.takeSpare()}
			p.sagas[c.Epoch] = b
		}
		b.items = append(b.items, *in)
		p.trPend.add(c.Epoch, m.Offset)
	}
	return nil
}

// order is ledger.Order on inputs: the determinism contract.
func order(a, b *input) int { return ledger.Order(&a.cmd, a.saga, &b.cmd, b.saga) }

// orderOf is the order to handle items in: indexes into items, sorted
// stably by order. Sorting the indexes, not the inputs: an input is a few
// hundred bytes, and the stable sort's merges moved them (about 2% of a
// run's CPU). The slice is the processor's, valid until the next call.
func (p *processor) orderOf(items []input) []int32 {
	seq := p.seq[:0]
	sorted := true
	for i := range items {
		seq = append(seq, int32(i))
		if i > 0 && order(&items[i-1], &items[i]) > 0 {
			sorted = false
		}
	}
	if !sorted {
		slices.SortStableFunc(seq, func(a, b int32) int { return order(&items[a], &items[b]) })
	}
	p.seq = seq
	return seq
}

func (p *processor) process(ctx context.Context, e uint32) error {
	if p.failed != nil {
		return p.failed
	}
	var items []input
	if b := p.sagas[e]; b != nil {
		items = b.items
	}
	if b := p.cmds[e]; b != nil {
		if p.lastGen >= 0 && int64(e) > p.lastGen {
			p.afterLast(ctx, b.items) // the generator has no epoch e
		} else if items == nil {
			items = b.items
		} else {
			items = append(items, b.items...)
			p.putSpare(b.items)
		}
	}
	defer p.putSpare(items)
	delete(p.sagas, e)
	delete(p.cmds, e)
	seq := p.orderOf(items)
	if !p.streaming {
		p.beginEpoch()
	}
	p.streaming = false
	for k, i := range seq {
		in := &items[i]
		if k > 0 && order(&items[seq[k-1]], in) == 0 {
			p.stats.Stale++ // a producer retry wrote it twice
			continue
		}
		p.cur = in
		p.handle(ctx, in)
	}
	p.cur = nil
	if err := p.flushEvents(ctx, e); err != nil {
		return err
	}
	return p.writeCheckpoint(ctx, e, false)
}

func (p *processor) takeSpare() []input {
	if n := len(p.spare); n > 0 {
		s := p.spare[n-1]
		p.spare = p.spare[:n-1]
		return s
	}
	return nil
}

// putSpare keeps an epoch's emptied inputs for a later epoch, a few at
// most, and none as big as epoch 0's openings (which would stay for the
// whole run).
func (p *processor) putSpare(s []input) {
	if s == nil || cap(s) > 1<<16 || len(p.spare) >= 4 {
		return
	}
	clear(s)
	p.spare = append(p.spare, s[:0])
}

// beginEpoch empties the per-epoch output.
func (p *processor) beginEpoch() {
	p.arena, p.msgs = p.arena[:0], p.msgs[:0]
	p.outWall, p.outKind, p.evCopy = p.outWall[:0], p.outKind[:0], p.evCopy[:0]
	clear(p.sent)
}

// streamFlush is how many records an epoch 0 being streamed holds before
// it writes them.
var streamFlush = 4096

// streamOpen handles one opening of epoch 0 as it is read.
func (p *processor) streamOpen(ctx context.Context, in *input) error {
	if !p.streaming {
		p.beginEpoch()
		p.streaming = true
	}
	p.cur = in
	p.handle(ctx, in)
	p.cur = nil
	p.openedTo = in.cmd.ID
	if len(p.msgs) < streamFlush {
		return nil
	}
	return p.flushEvents(ctx, 0)
}

// flushEvents writes the records handled so far in epoch e and accounts
// their outcomes. Writing an epoch in several writes is safe: its
// checkpoint and marks go only after the last, and a processor that
// crashes in between finds the written events again on recovery (skip).
func (p *processor) flushEvents(ctx context.Context, e uint32) error {
	if p.failed != nil {
		return p.failed
	}
	if len(p.msgs) > 0 {
		p.stats.MaxHeld = max(p.stats.MaxHeld, int64(len(p.msgs)))
		if err := p.e.write(ctx, p.msgs); err != nil {
			return fmt.Errorf("partition %d epoch %d: write events: %w", p.part, e, err)
		}
	}
	if fn := p.e.cfg.OnEvent; fn != nil {
		for i := range p.evCopy {
			fn(&p.evCopy[i])
		}
	}
	now := time.Now().UnixMilli()
	for i, w := range p.outWall {
		if p.outKind[i].IsPayment() {
			us := max(now-w, 0) * 1000
			_ = p.hist.RecordValue(us)
			p.stats.Outcomes++
			for _, fn := range p.e.onLatency {
				fn(p.outKind[i], us)
			}
		}
	}
	p.e.resolved.Add(int64(len(p.outWall)))
	p.arena, p.msgs = p.arena[:0], p.msgs[:0]
	p.outWall, p.outKind, p.evCopy = p.outWall[:0], p.outKind[:0], p.evCopy[:0]
	return nil
}

// writeCheckpoint tells every partition what this one sent it (the marks)
// and records progress. Marks go only after the saga records they count
// are acknowledged, so a mark is never ahead of its records in the log.
func (p *processor) writeCheckpoint(ctx context.Context, e uint32, done bool) error {
	// Dead letters first: the checkpoint moves the dead-letter watermarks
	// past their records, so they must be in the log before it.
	if err := p.flushDeadLetters(ctx); err != nil {
		return fmt.Errorf("partition %d epoch %d: %w", p.part, e, err)
	}
	msgs := p.msgs[:0]
	p.arena = p.arena[:0]
	if !done {
		total := uint32(0)
		for _, n := range p.sent {
			total += n
		}
		for q := 0; q < p.e.parts; q++ {
			start := len(p.arena)
			p.arena = event.AppendCommand(p.arena, &event.Command{Type: event.CmdEpochMark, Epoch: e, Source: int32(p.part), Count: p.sent[q], Total: total})
			msgs = append(msgs, kafka.Message{Topic: p.e.topics.Transfers, Partition: q, Value: p.arena[start:len(p.arena):len(p.arena)]})
		}
	}
	cp := Checkpoint{
		Partition: p.part, Epoch: int64(e), LastGen: p.lastGen, Done: done, Session: p.session,
		Commands:     p.cmdPend.restart(e, p.cmdNext),
		Transfers:    p.trPend.restart(e, p.trNext),
		DeadCommands: p.cmdDL, DeadTransfers: p.trDL,
		Events: p.stats.Events, Wallets: p.book.Len(), WallMS: time.Now().UnixMilli(),
	}
	// Marks first, checkpoint after, in two writes: one write to several
	// partitions can land partly before a crash, and a checkpoint in the
	// log whose marks are not would restart this processor past epoch e
	// while the others wait forever for its mark. A mark without its
	// checkpoint is harmless: the restarted processor redoes epoch e and
	// writes the same mark again, which receivers count once.
	if len(msgs) > 0 {
		if err := p.e.writeControl(ctx, msgs); err != nil {
			return fmt.Errorf("partition %d epoch %d: write marks: %w", p.part, e, err)
		}
	}
	if err := p.e.writeControl(ctx, []kafka.Message{{Topic: p.e.topics.Checkpoints, Partition: p.part, Value: cp.encode()}}); err != nil {
		return fmt.Errorf("partition %d epoch %d: write checkpoint: %w", p.part, e, err)
	}
	p.msgs = msgs[:0]
	delete(p.trMarks, e-1)
	return nil
}

// poison dead-letters an input record that cannot be processed. *next is
// the input offset below which every such record was dead-lettered already
// (kept in the checkpoint): a restarted processor rereads from its restart
// offset, and must not dead-letter the same garbage a second time.
func (p *processor) poison(ctx context.Context, m kafka.Message, next *int64, reason string) {
	if m.Offset < *next {
		p.stats.Stale++
		return
	}
	*next = m.Offset + 1
	p.deadLetter(ctx, m, reason)
}

// deadLetter queues a record for the dead-letter topic; flushDeadLetters
// writes the queue before the next checkpoint (or when it fills), and a
// write that fails stops the processor: a dead letter is never dropped.
//
// The key and value are copied: a record's bytes are the input reader's
// only until its next Fetch, and the queue outlives many.
func (p *processor) deadLetter(_ context.Context, m kafka.Message, reason string) {
	dl := kafka.Message{
		Topic: p.e.topics.DeadLetters, Partition: 0, Key: bytes.Clone(m.Key), Value: bytes.Clone(m.Value),
		Headers: []kafka.Header{
			{Key: "reason", Value: []byte(reason)},
			{Key: "source_topic", Value: []byte(m.Topic)},
			{Key: "source_partition", Value: []byte(strconv.Itoa(m.Partition))},
			{Key: "source_offset", Value: []byte(strconv.FormatInt(m.Offset, 10))},
		},
	}
	p.dlq = append(p.dlq, dl)
}

func (p *processor) deadLetterCmd(ctx context.Context, in *input, reason string) {
	topic := p.e.topics.Commands
	if in.saga {
		topic = p.e.topics.Transfers
	}
	v := event.AppendCommand(nil, &in.cmd)
	p.deadLetter(ctx, kafka.Message{Topic: topic, Partition: p.part, Offset: in.offset, Value: v, Key: strconv.AppendUint(nil, in.cmd.Wallet, 10)}, reason)
}

var _ ledger.Sink = (*processor)(nil)
