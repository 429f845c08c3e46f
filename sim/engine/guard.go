package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/ledger"
)

// No record can stop a processor. Records that cannot be processed are
// dead-lettered with a reason and their source offset (processor.go); what
// is left here is the last resort for a command whose handling still
// panics, the records nothing will ever process because they come after
// the generator's last epoch, and the dead-letter queue.

// handleCommand decides one command; a variable so that a test can make
// it panic, the one way to prove the recover below works.
var handleCommand = (*ledger.Book).Handle

// handle decides one input. A panic in the ledger would otherwise kill the
// processor, and the restarted one would read the same record again: a
// crash loop. Instead the command's partial output is taken back (its
// events, saga records and wallet change), it is dead-lettered with the
// panic as its reason, and the panic is counted (Stats.Panics): a panic is
// still a bug, but it costs one command, not the run.
func (p *processor) handle(ctx context.Context, in *input) {
	nMsgs, nArena, nWall, nKind, nCopy := len(p.msgs), len(p.arena), len(p.outWall), len(p.outKind), len(p.evCopy)
	events, sent := p.stats.Events, p.stats.SagaSent
	before := p.book.Peek(in.cmd.Wallet)
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		for _, m := range p.msgs[nMsgs:] {
			if m.Topic == p.e.topics.Transfers {
				p.sent[m.Partition]--
			}
		}
		p.msgs, p.arena = p.msgs[:nMsgs], p.arena[:nArena]
		p.outWall, p.outKind, p.evCopy = p.outWall[:nWall], p.outKind[:nKind], p.evCopy[:nCopy]
		p.stats.Events, p.stats.SagaSent = events, sent
		p.book.Restore(in.cmd.Wallet, before)
		p.stats.Panics++
		p.e.panics.Add(1)
		p.e.logf("partition %d: command %d panicked, dead-lettered: %v", p.part, in.cmd.ID, r)
		p.deadLetterCmd(ctx, in, fmt.Sprintf("panic while handling the command: %v", r))
	}()
	if err := handleCommand(p.book, &in.cmd, p); err != nil {
		p.deadLetterCmd(ctx, in, err.Error())
	}
}

// dlqMax bounds the dead letters queued between checkpoints: a flood of
// garbage while a processor waits for an epoch's mark is written as it
// comes instead of held in memory.
const dlqMax = 1024

func (p *processor) flushIfFull(ctx context.Context) error {
	if len(p.dlq) < dlqMax {
		return nil
	}
	return p.flushDeadLetters(ctx)
}

// flushDeadLetters writes the queued dead letters; only written ones are
// counted.
func (p *processor) flushDeadLetters(ctx context.Context) error {
	if len(p.dlq) == 0 {
		return nil
	}
	if err := p.e.writeControl(ctx, p.dlq); err != nil {
		return fmt.Errorf("partition %d: write %d dead letters: %w", p.part, len(p.dlq), err)
	}
	n := int64(len(p.dlq))
	p.stats.DeadLetters += n
	p.e.deadLetters.Add(n)
	clear(p.dlq)
	p.dlq = p.dlq[:0]
	return nil
}

// afterLast dead-letters commands of an epoch the generator never had.
func (p *processor) afterLast(ctx context.Context, items []input) {
	for i := range items {
		// Not checked against the cmdDL watermark: these were held, so
		// they are older than records poisoned since. They are queued
		// just before the checkpoint that drops them, which is where a
		// crash could repeat one.
		in := &items[i]
		p.deadLetterCmd(ctx, in, fmt.Sprintf("epoch %d is after the generator's last epoch %d", in.cmd.Epoch, p.lastGen))
	}
}

// drainAfterLast runs once the run is complete: the commands held for
// epochs after the generator's last, and every record written to the
// commands topic after its last mark, will never be processed. Each is
// dead-lettered, so that none is counted as an unresolved payment.
func (p *processor) drainAfterLast(ctx context.Context) error {
	eps := make([]uint32, 0, len(p.cmds))
	for ep := range p.cmds {
		eps = append(eps, ep)
	}
	slices.Sort(eps)
	var held []input
	for _, ep := range eps {
		held = append(held, p.cmds[ep].items...)
		delete(p.cmds, ep)
	}
	slices.SortFunc(held, func(a, b input) int { return int(a.offset - b.offset) })
	p.afterLast(ctx, held)
	for ep := range p.cmdPend {
		if int64(ep) > p.lastGen {
			delete(p.cmdPend, ep)
		}
	}
	next, err := p.commandsEnd(ctx)
	if err != nil {
		return err
	}
	for p.cmdNext < next[p.part] {
		m, err := p.fetch(ctx, p.cmdR)
		if err != nil {
			return fmt.Errorf("partition %d: read commands: %w", p.part, err)
		}
		p.cmdNext = m.Offset + 1
		if err := p.flushIfFull(ctx); err != nil {
			return err
		}
		var c event.Command
		if len(m.Value) > event.MaxCommandBytes {
			p.poison(ctx, m, &p.cmdDL, fmt.Sprintf("record of %d bytes, larger than a command can be (%d)", len(m.Value), event.MaxCommandBytes))
			continue
		}
		if err := event.DecodeCommand(m.Value, &c); err != nil {
			p.poison(ctx, m, &p.cmdDL, err.Error())
			continue
		}
		if c.Type == event.CmdEpochMark {
			p.stats.Stale++ // a restarted producer's rewrite of its last mark
			continue
		}
		p.poison(ctx, m, &p.cmdDL, fmt.Sprintf("after the generator's last mark (epoch %d)", p.lastGen))
	}
	return nil
}

// commandsEnd is the commands topic's end offsets, asked again through
// a broker restart or a dropped connection like every other read here.
func (p *processor) commandsEnd(ctx context.Context) ([]int64, error) {
	backoff := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		_, next, err := p.e.admin.Offsets(ctx, p.e.topics.Commands, p.e.parts)
		if err == nil {
			return next, nil
		}
		if ctx.Err() != nil || attempt >= 30 {
			return nil, fmt.Errorf("partition %d: commands offsets: %w", p.part, err)
		}
		p.e.retries.Add(1)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}
