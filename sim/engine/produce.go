package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/ledger"
)

// ProduceStats counts what the producer wrote.
type ProduceStats struct {
	Commands int64
	Payments int64
	Epochs   int64
}

// encodedEpoch is one part of an epoch, encoded; final is its last part.
type encodedEpoch struct {
	epoch  uint32
	last   bool
	final  bool
	msgs   []kafka.Message
	counts []uint32
	pays   int64
}

// partCommands bounds one part of an epoch (event.PartSource): big enough
// to batch well, small enough that an epoch of ten million wallet openings
// is never more than a few parts in memory (generated, encoded, written).
const partCommands = 16_384

// ResumeEpoch is the first epoch the producer has not finished: 0 on a
// fresh log, past the last epoch when the producer is done. A restarted
// run produces from here; commands of a half-written epoch are written
// again and the processors drop the duplicates.
func (e *Engine) ResumeEpoch(ctx context.Context) (epoch uint32, finished bool, err error) {
	first, next, err := e.admin.Offsets(ctx, e.topics.Producer, 1)
	if err != nil {
		return 0, false, err
	}
	if next[0] <= first[0] {
		return 0, false, nil
	}
	var rec struct {
		Epoch uint32 `json:"epoch"`
		Last  bool   `json:"last"`
	}
	err = bus.ReadRange(ctx, e.cfg.Bus, e.topics.Producer, 0, next[0]-1, next[0], func(m kafka.Message) error {
		return json.Unmarshal(m.Value, &rec)
	})
	return rec.Epoch + 1, rec.Last, err
}

// Produced counts payments written so far (progress).
func (e *Engine) Produced() int64 { return e.produced.Load() }

// Produce writes src's epochs from epoch `from` on, each followed by one
// mark per partition. The mark goes only after the epoch's commands are
// acknowledged, so a processor that sees it has every command before it.
func (e *Engine) Produce(ctx context.Context, src event.Source, from uint32) (ProduceStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan *encodedEpoch, 1)
	go func() {
		defer close(ch)
		var buf []event.Command
		for ep := from; ; ep++ {
			var last bool
			for i := 0; i >= 0; {
				buf, i, last = event.Parts(src, ep, i, partCommands, buf[:0])
				enc := e.encode(ep, last, buf)
				enc.final = i < 0
				select {
				case ch <- enc:
				case <-ctx.Done():
					return
				}
			}
			if last {
				return
			}
		}
	}()
	var st ProduceStats
	counts := make([]uint32, e.parts) // of the epoch so far, over its parts
	for enc := range ch {
		if err := e.waitWindow(ctx, enc.epoch); err != nil {
			return st, err
		}
		for q, n := range enc.counts {
			counts[q] += n
		}
		for tries := 0; ; tries++ {
			err := e.produceEpoch(ctx, enc, counts)
			if err == nil {
				break
			}
			if ctx.Err() != nil || tries >= maxRestarts || !errors.Is(err, ErrWriteExhausted) {
				return st, err
			}
			// What of the epoch landed is unknown: start it again from
			// the last progress record, as a restarted producer would.
			// Commands written twice are identical; processors drop the
			// second copy, and receivers count a mark once.
			e.restarts.Add(1)
			e.logf("producer: epoch %d: %v: writing the epoch again", enc.epoch, err)
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-time.After(time.Second):
			}
		}
		st.Commands += int64(len(enc.msgs))
		st.Payments += enc.pays
		e.produced.Add(enc.pays)
		if !enc.final {
			continue
		}
		clear(counts)
		st.Epochs++
		if c, ok := src.(Committer); ok {
			c.Committed(enc.epoch)
		}
		if enc.last {
			break
		}
	}
	return st, ctx.Err()
}

// produceEpoch writes one part of an epoch's commands and, after its final
// part, the marks (counts: the epoch's commands per partition over all its
// parts), then the progress record, each only after the one before is
// acknowledged.
func (e *Engine) produceEpoch(ctx context.Context, enc *encodedEpoch, counts []uint32) error {
	if err := e.write(ctx, enc.msgs); err != nil {
		return err
	}
	if !enc.final {
		return nil
	}
	marks := make([]kafka.Message, e.parts)
	for q := range marks {
		v := event.AppendCommand(nil, &event.Command{Type: event.CmdEpochMark, Epoch: enc.epoch, Source: -1, Count: counts[q], Last: enc.last})
		marks[q] = kafka.Message{Topic: e.topics.Commands, Partition: q, Value: v}
	}
	if err := e.writeControl(ctx, marks); err != nil {
		return err
	}
	// The progress record goes only after every mark is acknowledged,
	// in its own write: were it in the marks' write, a crash could
	// keep it and lose a mark, and the restarted producer would
	// resume past an epoch some partition never saw the end of.
	prog := strconv.AppendUint([]byte(`{"epoch":`), uint64(enc.epoch), 10)
	prog = append(strconv.AppendBool(append(prog, `,"last":`...), enc.last), '}')
	if err := e.writeControl(ctx, []kafka.Message{{Topic: e.topics.Producer, Partition: 0, Value: prog}}); err != nil {
		return err
	}
	return nil
}

func (e *Engine) encode(ep uint32, last bool, cmds []event.Command) *encodedEpoch {
	enc := &encodedEpoch{epoch: ep, last: last, msgs: make([]kafka.Message, len(cmds)), counts: make([]uint32, e.parts)}
	arena := make([]byte, 0, len(cmds)*64)
	for i := range cmds {
		c := &cmds[i]
		start := len(arena)
		arena = strconv.AppendUint(arena, c.Wallet, 10)
		keyEnd := len(arena)
		arena = event.AppendCommand(arena, c)
		q := ledger.Partition(c.Wallet, e.parts)
		enc.msgs[i] = kafka.Message{Topic: e.topics.Commands, Partition: q, Key: arena[start:keyEnd:keyEnd], Value: arena[keyEnd:len(arena):len(arena)]}
		enc.counts[q]++
		if c.Type == event.CmdPay {
			enc.pays++
		}
	}
	return enc
}
