package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/run"
)

// quickstart is the quickstart scenario cut into 100 ms epochs: many
// epochs from few payments, so a stop lands between epochs, inside them,
// and with the producer a full window ahead of the processors.
func quickstart(t *testing.T, payments int64, partitions int) run.Options {
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
	return run.Options{Scenario: sc, Policy: table, PolicyName: pol.Name, Partitions: partitions}
}

// TestRecoveryAfterAborts stops a run again and again part way (its
// context cancelled once some share of the payments has an outcome, so
// writes are cut off mid-epoch), resumes it on the same log each time, and
// checks that the finished log is the log of a run that never stopped.
// The chaos command does the same with SIGKILL and separate processes;
// this is the in-process version that runs with `go test`.
func TestRecoveryAfterAborts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine several times")
	}
	b, err := embedded.Start(embedded.Config{DataDir: t.TempDir(), Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	ctx := context.Background()
	const payments = 40_000

	ref := quickstart(t, payments, 4)
	ref.Bus, ref.Topics, ref.Fresh = bc, bus.DefaultTopics("ref"), true
	want, err := run.Run(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}

	topics := bus.DefaultTopics("aborted")
	for i, share := range []float64{0.05, 0.3, 0.31, 0.6, 0.9} {
		o := quickstart(t, payments, 4)
		o.Bus, o.Topics, o.Fresh = bc, topics, i == 0
		runCtx, cancel := context.WithCancel(ctx)
		o.OnEngine = func(e *engine.Engine) {
			go func() {
				for runCtx.Err() == nil && float64(e.Resolved()) < share*payments {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
		}
		_, err := run.Run(runCtx, o)
		cancel()
		if err == nil {
			// This attempt resolved its share in one epoch's write and
			// finished before the cancel: fine, the next resumes a
			// finished log.
			t.Logf("attempt %d finished before it was stopped", i)
		}
	}
	o := quickstart(t, payments, 4)
	o.Bus, o.Topics = bc, topics
	got, err := run.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Summary.Invariants.OK() {
		t.Fatalf("invariants after aborts: %+v", got.Summary.Invariants)
	}
	if got.Summary.Payments.Attempted != payments {
		t.Fatalf("attempted %d, want %d", got.Summary.Payments.Attempted, payments)
	}
	if g, w := got.Summary.Events.Digest, want.Summary.Events.Digest; g != w {
		t.Fatalf("digest after aborts %s, uninterrupted run %s", g, w)
	}
}

// TestResumeFinishedRun: a run started again over a finished log (a crash
// after the last event, before the result was reported) does no work and
// reports the same log.
func TestResumeFinishedRun(t *testing.T) {
	b, err := embedded.Start(embedded.Config{DataDir: t.TempDir(), Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	o := quickstart(t, 5_000, 2)
	o.Bus, o.Fresh = bus.Config{Brokers: []string{b.Addr()}}, true
	first, err := run.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	o.Fresh = false
	again, err := run.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	a, f := again.Summary.Events, first.Summary.Events
	if a.Written != f.Written || a.Digest != f.Digest || !again.Summary.Invariants.OK() {
		t.Fatalf("rerun over a finished log: %d events %s, want %d %s; invariants %+v", a.Written, a.Digest, f.Written, f.Digest, again.Summary.Invariants)
	}
	if again.Process.Stats.Events != 0 {
		t.Fatalf("rerun wrote %d events; every partition was done", again.Process.Stats.Events)
	}
}

// stopAt is a source that ends (blocks until cancelled) before epoch k, as
// a producer killed between epochs does.
type stopAt struct {
	event.Source
	k   uint32
	ctx context.Context
}

func (s stopAt) Epoch(e uint32, buf []event.Command) ([]event.Command, bool) {
	if e >= s.k {
		<-s.ctx.Done()
		return buf, false
	}
	return s.Source.Epoch(e, buf)
}

// TestResumeWhenCaughtUp: the run stops when every processor has finished
// every epoch the producer wrote, several windows in. The resumed producer
// must not wait for processors to catch up from "nothing done yet": they
// are waiting for its next epoch. (It did, forever, before the processors
// reported their checkpointed epoch at start.)
func TestResumeWhenCaughtUp(t *testing.T) {
	b, err := embedded.Start(embedded.Config{DataDir: t.TempDir(), Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	const payments, stop = 20_000, 5

	ref := quickstart(t, payments, 4)
	ref.Bus, ref.Topics, ref.Fresh = bc, bus.DefaultTopics("ref"), true
	want, err := run.Run(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}

	o := quickstart(t, payments, 4)
	topics := bus.DefaultTopics("stopped")
	g := gen.New(o.Scenario)
	eng, err := engine.New(engine.Config{Bus: bc, Topics: topics, Partitions: 4, Routes: o.Policy, Seed: uint64(o.Scenario.Seed), Clock: g.Clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := eng.Setup(ctx, true); err != nil {
		t.Fatal(err)
	}
	prod := make(chan error, 1)
	go func() {
		_, err := eng.Produce(ctx, stopAt{g, stop, ctx}, 0)
		prod <- err
	}()
	proc := make(chan error, 1)
	go func() {
		_, err := eng.Process(ctx, nil)
		proc <- err
	}()
	for caughtUp := false; !caughtUp; {
		time.Sleep(5 * time.Millisecond)
		caughtUp = true
		for _, d := range eng.DoneEpochs() {
			caughtUp = caughtUp && d == stop-1
		}
	}
	cancel()
	<-prod
	<-proc
	eng.Close()

	// Resume. A deadlock shows as this deadline passing, not as a hang of
	// the whole test binary.
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o.Bus, o.Topics = bc, topics
	got, err := run.Run(ctx, o)
	if err != nil {
		t.Fatalf("resume after the processors caught up: %v", err)
	}
	if g, w := got.Summary.Events.Digest, want.Summary.Events.Digest; g != w || !got.Summary.Invariants.OK() {
		t.Fatalf("resumed run: digest %s (want %s), invariants %+v", g, w, got.Summary.Invariants)
	}
}

// copyLog copies every topic of a run to new names, record by record in
// partition order, leaving out what drop says: how a test builds the log a
// crash at a chosen point would have left.
func copyLog(t *testing.T, bc bus.Config, from, to bus.Topics, parts int, drop func(topic string, part int, i, n int) bool) {
	t.Helper()
	ctx := context.Background()
	admin, err := bus.NewClient(bc)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.EnsureTopics(ctx, parts, to.Partitioned()...); err != nil {
		t.Fatal(err)
	}
	if err := admin.EnsureTopics(ctx, 1, to.DeadLetters, to.Producer); err != nil {
		t.Fatal(err)
	}
	w, err := bus.NewWriter(bc)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	pairs := [][2]string{{from.Commands, to.Commands}, {from.Transfers, to.Transfers}, {from.Events, to.Events},
		{from.Checkpoints, to.Checkpoints}, {from.DeadLetters, to.DeadLetters}, {from.Producer, to.Producer}}
	for _, pr := range pairs {
		n, err := admin.Partitions(ctx, pr[0])
		if err != nil {
			t.Fatal(err)
		}
		first, next, err := admin.Offsets(ctx, pr[0], n)
		if err != nil {
			t.Fatal(err)
		}
		for p := 0; p < n; p++ {
			var msgs []kafka.Message
			err := bus.ReadRange(ctx, bc, pr[0], p, first[p], next[p], func(m kafka.Message) error {
				msgs = append(msgs, kafka.Message{Topic: pr[1], Partition: p, Key: m.Key, Value: m.Value, Headers: m.Headers})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			kept := msgs[:0]
			for i, m := range msgs {
				if drop == nil || !drop(pr[0], p, i, len(msgs)) {
					kept = append(kept, m)
				}
			}
			if len(kept) > 0 {
				if err := w.WriteMessages(ctx, kept...); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestResumeBeforeDoneCheckpoint: a processor killed after its last
// epoch's checkpoint but before the checkpoint that says it is done, while
// every other partition finished. Restarted, it must reach the same verdict
// from the marks in the log. (It waited forever for marks of an epoch the
// finished partitions never write.)
func TestResumeBeforeDoneCheckpoint(t *testing.T) {
	b, err := embedded.Start(embedded.Config{DataDir: t.TempDir(), Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	o := quickstart(t, 5_000, 2)
	o.Bus, o.Topics, o.Fresh = bc, bus.DefaultTopics("whole"), true
	want, err := run.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	cut := bus.DefaultTopics("cut")
	copyLog(t, bc, o.Topics, cut, 2, func(topic string, part, i, n int) bool {
		return topic == o.Topics.Checkpoints && part == 0 && i == n-1 // the done checkpoint
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o.Topics, o.Fresh = cut, false
	got, err := run.Run(ctx, o)
	if err != nil {
		t.Fatalf("resume before the done checkpoint: %v", err)
	}
	if g, w := got.Summary.Events.Digest, want.Summary.Events.Digest; g != w || !got.Summary.Invariants.OK() {
		t.Fatalf("resumed run: digest %s (want %s), invariants %+v", g, w, got.Summary.Invariants)
	}
}

// TestStreamedOpenings: epoch 0's 100,000 openings are handled as they are
// read and written every 1,000 records, so a processor never holds the
// whole epoch (at 10M wallets that was most of the run's memory). A run
// stopped in the middle of epoch 0, with part of the openings in the log,
// resumes to the log of a run that never stopped.
func TestStreamedOpenings(t *testing.T) {
	defer engine.SetStreamFlush(1000)()
	b, err := embedded.Start(embedded.Config{DataDir: t.TempDir(), Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	ctx := context.Background()
	const payments = 5_000
	ref := quickstart(t, payments, 2)
	ref.Bus, ref.Topics, ref.Fresh = bc, bus.DefaultTopics("ref"), true
	want, err := run.Run(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	wallets := want.Summary.Engine.Wallets
	// Each partition opens about half the wallets; a payment epoch's
	// output is held whole, and here is at most a few thousand records.
	if held := want.Process.Stats.MaxHeld; held > wallets/8 {
		t.Fatalf("a processor held %d records at once (%d wallets over 2 partitions): epoch 0 was not streamed", held, wallets)
	}

	topics := bus.DefaultTopics("stopped")
	o := quickstart(t, payments, 2)
	o.Bus, o.Topics, o.Fresh = bc, topics, true
	runCtx, cancel := context.WithCancel(ctx)
	admin, err := bus.NewClient(bc)
	if err != nil {
		t.Fatal(err)
	}
	o.OnEngine = func(e *engine.Engine) {
		go func() {
			for runCtx.Err() == nil {
				_, next, err := admin.Offsets(runCtx, topics.Events, 2)
				if err == nil && next[0]+next[1] >= wallets/3 {
					t.Logf("stopping at %d events", next[0]+next[1])
					break
				}
				time.Sleep(100 * time.Microsecond)
			}
			cancel()
		}()
	}
	_, err = run.Run(runCtx, o)
	cancel()
	if err == nil {
		t.Fatal("the run finished before it was stopped in epoch 0")
	}
	o = quickstart(t, payments, 2)
	o.Bus, o.Topics = bc, topics
	got, err := run.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Summary.Invariants.OK() {
		t.Fatalf("invariants after a stop in epoch 0: %+v", got.Summary.Invariants)
	}
	if g, w := got.Summary.Events.Digest, want.Summary.Events.Digest; g != w {
		t.Fatalf("digest after a stop in epoch 0 %s, uninterrupted run %s", g, w)
	}
}
