package run

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
	"google.golang.org/protobuf/encoding/protowire"
)

// hostile is a well-formed command record written to a chosen partition,
// and what its dead letter's reason must say.
type hostile struct {
	part   int
	value  []byte
	reason string
}

func pay(id, wallet uint64, epoch uint32) *event.Command {
	return &event.Command{Type: event.CmdPay, ID: id, Wallet: wallet, Epoch: epoch, SimTime: 1, Kind: sim.TopUp,
		Amount: 100, Currency: sim.CNY, Candidates: [event.MaxCandidates]uint64{wallet}, NCandidates: 1}
}

func open(id, wallet uint64) *event.Command {
	return &event.Command{Type: event.CmdOpenWallet, ID: id, Wallet: wallet, Kind: sim.Open, Amount: 100,
		Currency: sim.CNY, Provider: sim.Alipay, Region: sim.CN, Class: sim.CNClass2}
}

// TestHostileCommands writes well-formed but invalid commands into a
// run's commands topic: IDs out of range (wallet 2^62 made the processor
// panic in makeslice, 2^33 exhausted memory), a wallet never opened, a
// record in another wallet's partition, an oversized record, one for an
// epoch after the generator's last, and records of epochs already
// processed. Each is dead-lettered once with its reason and source
// offset; none counts as an unresolved payment; the run's events are the
// events of a run without them.
func TestHostileCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine twice")
	}
	const payments, parts = 20_000, 4
	b, err := embedded.Start(embedded.Config{DataDir: t.TempDir(), Partitions: parts})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bc := bus.Config{Brokers: []string{b.Addr()}}

	o := shortEpochs(t, payments, parts)
	o.Bus, o.Topics = bc, bus.DefaultTopics("clean")
	clean, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	nWallets := uint64(len(gen.New(o.Scenario).Pop.Wallets))
	// A real wallet, and one of the same partition that was never opened.
	real := uint64(5)
	unknown := (nWallets/parts+1000)*parts + real%parts
	oversized := protowire.AppendBytes(protowire.AppendTag(event.AppendCommand(nil, pay(1<<40+4, real, 1)), 999, protowire.BytesType), make([]byte, 2000))
	first := []hostile{
		{ledger.Partition(1<<62, parts), event.AppendCommand(nil, open(1<<59+1<<50, 1<<62)), "out of range"},
		{ledger.Partition(1<<33, parts), event.AppendCommand(nil, open(1<<59+1<<50+1, 1<<33)), "out of range"},
		{ledger.Partition(1<<33, parts), event.AppendCommand(nil, pay(1<<40+1, 1<<33, 1)), "out of range"},
		{ledger.Partition(unknown, parts), event.AppendCommand(nil, pay(1<<40+2, unknown, 1)), "unknown wallet"},
		{(ledger.Partition(real, parts) + 1) % parts, event.AppendCommand(nil, pay(1<<40+3, real, 1)), "belongs to partition"},
		{ledger.Partition(real, parts), oversized, "larger than a command"},
		{ledger.Partition(real, parts), event.AppendCommand(nil, pay(1<<40+5, real, 1<<20)), "after the generator's last epoch"},
	}
	// Written once every partition finished epoch 2: stale when read.
	late := []hostile{
		{ledger.Partition(real, parts), event.AppendCommand(nil, pay(1<<40+6, real, 1)), "already processed"},
		{ledger.Partition(real+1, parts), event.AppendCommand(nil, pay(1<<40+7, real+1, 2)), "already processed"},
	}
	write := func(e *engine.Engine, hs []hostile) error {
		w := &kafka.Writer{Addr: kafka.TCP(b.Addr()), Topic: e.Topics().Commands, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond,
			Balancer: kafka.BalancerFunc(func(m kafka.Message, _ ...int) int { return m.Partition })}
		defer w.Close()
		for _, h := range hs {
			if err := w.WriteMessages(context.Background(), kafka.Message{Partition: h.part, Value: h.value}); err != nil {
				return err
			}
		}
		return nil
	}

	o = shortEpochs(t, payments, parts)
	o.Bus, o.Topics = bc, bus.DefaultTopics("hostile")
	wrote := make(chan error, 1)
	o.OnEngine = func(e *engine.Engine) {
		// Before the producer starts: these lead every partition.
		if err := write(e, first); err != nil {
			wrote <- err
			return
		}
		go func() {
			for {
				done := e.DoneEpochs()
				m := done[0]
				for _, d := range done {
					m = min(m, d)
				}
				if m >= 2 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			wrote <- write(e, late)
		}()
	}
	got, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	all := append(first, late...)
	s, c := got.Summary, clean.Summary
	if s.DeadLetters != int64(len(all)) {
		t.Fatalf("dead_letters = %d, want %d", s.DeadLetters, len(all))
	}
	if s.Invariants.UnresolvedCommands != 0 || !s.Invariants.OK() {
		t.Fatalf("invariants with hostile commands: %+v", s.Invariants)
	}
	if s.Payments.Attempted != c.Payments.Attempted || s.Payments.Succeeded != c.Payments.Succeeded {
		t.Fatalf("payments with hostile commands %+v, without %+v", s.Payments, c.Payments)
	}
	if s.Events.Digest != c.Events.Digest {
		t.Fatalf("digest with hostile commands %s, without %s", s.Events.Digest, c.Events.Digest)
	}
	// Each dead letter names why and whence; every hostile record is there.
	want := map[string]int{}
	for _, h := range all {
		want[h.reason]++
	}
	seen := map[string]bool{}
	err = bus.ReadRange(context.Background(), bc, o.Topics.DeadLetters, 0, 0, int64(len(all)), func(m kafka.Message) error {
		h := map[string]string{}
		for _, x := range m.Headers {
			h[x.Key] = string(x.Value)
		}
		if _, err := strconv.ParseInt(h["source_offset"], 10, 64); err != nil || h["source_topic"] != o.Topics.Commands {
			return fmt.Errorf("dead letter %d: headers %v", m.Offset, h)
		}
		src := h["source_partition"] + "@" + h["source_offset"]
		if seen[src] {
			return fmt.Errorf("record %s dead-lettered twice", src)
		}
		seen[src] = true
		for r := range want {
			if strings.Contains(h["reason"], r) {
				want[r]--
				return nil
			}
		}
		return fmt.Errorf("dead letter %s: unexpected reason %q", src, h["reason"])
	})
	if err != nil {
		t.Fatal(err)
	}
	for r, n := range want {
		if n != 0 {
			t.Errorf("reason %q: %d dead letters missing", r, n)
		}
	}
}
