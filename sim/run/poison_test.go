package run

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/event"
	"google.golang.org/protobuf/encoding/protowire"
)

// garbage returns n records a confused producer might write to the
// commands topic: random bytes, text, an empty record, a command cut
// short, and a well-formed command of an unknown schema version.
func garbage(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	valid := event.AppendCommand(nil, &event.Command{Type: event.CmdPay, ID: 1, Wallet: 1, Amount: 100})
	var out [][]byte
	for i := 0; len(out) < n; i++ {
		switch i % 5 {
		case 0:
			b := make([]byte, 1+rng.IntN(64))
			for j := range b {
				b[j] = byte(rng.UintN(256))
			}
			out = append(out, b)
		case 1:
			out = append(out, fmt.Appendf(nil, "not a command %d {\"amount\": -1}", i))
		case 2:
			out = append(out, []byte{})
		case 3:
			out = append(out, valid[:len(valid)-1-rng.IntN(len(valid)-1)])
		case 4:
			v := protowire.AppendTag(nil, 1, protowire.VarintType) // the version field
			v = protowire.AppendVarint(v, uint64(event.Version+1+i))
			out = append(out, append(v, valid[2:]...))
		}
	}
	return out
}

// shortEpochs is quickstart in 100 ms epochs: many epochs from few
// payments, so what a test injects lands well before the last one.
func shortEpochs(t *testing.T, payments int64, partitions int) Options {
	t.Helper()
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments, s.Duration, s.Partitions, s.Epoch = payments, "", partitions, "100ms"
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	table, pol, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Scenario: sc, Policy: table, PolicyName: pol.Name, Partitions: partitions, Fresh: true}
}

// TestPoisonMessages writes 100 records of garbage into the commands topic
// while a run is going. Each ends up once in the dead-letter topic with a
// reason; every payment of the run is processed as if they were not
// there.
func TestPoisonMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine twice")
	}
	const payments, bad = 30_000, 100
	b, err := embedded.Start(embedded.Config{DataDir: t.TempDir(), Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bc := bus.Config{Brokers: []string{b.Addr()}}

	o := shortEpochs(t, payments, 4)
	o.Bus, o.Topics = bc, bus.DefaultTopics("clean")
	clean, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}

	o = shortEpochs(t, payments, 4)
	o.Bus, o.Topics = bc, bus.DefaultTopics("poisoned")
	wrote := make(chan error, 1)
	o.OnEngine = func(e *engine.Engine) {
		// Once payments flow, from an outside producer, spread over
		// every partition.
		go func() {
			for e.Resolved() == 0 {
				time.Sleep(time.Millisecond)
			}
			w := &kafka.Writer{Addr: kafka.TCP(b.Addr()), Topic: e.Topics().Commands, Balancer: &kafka.RoundRobin{},
				RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
			defer w.Close()
			var msgs []kafka.Message
			for _, v := range garbage(bad) {
				msgs = append(msgs, kafka.Message{Value: v})
			}
			wrote <- w.WriteMessages(context.Background(), msgs...)
		}()
	}
	got, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	s, c := got.Summary, clean.Summary
	if s.DeadLetters != bad {
		t.Fatalf("dead_letters = %d, want %d", s.DeadLetters, bad)
	}
	if s.Payments.Attempted != c.Payments.Attempted || s.Payments.Succeeded != c.Payments.Succeeded || s.Payments.Declined != c.Payments.Declined {
		t.Fatalf("payments with garbage %+v, without %+v", s.Payments, c.Payments)
	}
	if s.Events.Digest != c.Events.Digest || !s.Invariants.OK() {
		t.Fatalf("digest with garbage %s, without %s; invariants %+v", s.Events.Digest, c.Events.Digest, s.Invariants)
	}

	// The dead-letter topic holds each record once, with why and whence.
	if n := b.Records(o.Topics.DeadLetters); n != bad {
		t.Fatalf("dead-letter topic holds %d records, want %d", n, bad)
	}
	seen, versions := map[string]bool{}, 0
	err = bus.ReadRange(context.Background(), bc, o.Topics.DeadLetters, 0, 0, bad, func(m kafka.Message) error {
		h := map[string]string{}
		for _, x := range m.Headers {
			h[x.Key] = string(x.Value)
		}
		if h["reason"] == "" || h["source_topic"] != o.Topics.Commands {
			return fmt.Errorf("dead letter at %d: headers %v", m.Offset, h)
		}
		src := h["source_partition"] + "@" + h["source_offset"]
		if seen[src] {
			return fmt.Errorf("record %s dead-lettered twice", src)
		}
		seen[src] = true
		if strings.Contains(h["reason"], "version") {
			versions++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The explicit future versions, and the empty records (no version
	// field at all).
	if versions < bad/5 {
		t.Fatalf("%d dead letters name the schema version, want at least %d", versions, bad/5)
	}
}
