package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// small is quickstart shrunk a hundredfold (640 consumers, 100
// merchants, 2,000 payments in 100 ms epochs): a whole run in well under
// a second, so a fuzz target can afford one per input.
func small(t testing.TB) (*scenario.Compiled, *route.Table) {
	t.Helper()
	sc, src, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments, s.Duration, s.Partitions, s.Epoch = 2_000, "", 2, "100ms"
	shrink := func(m map[string]int64) map[string]int64 {
		out := map[string]int64{}
		for k, v := range m {
			out[k] = max(v/100, 1)
		}
		return out
	}
	s.Population.Consumers = shrink(s.Population.Consumers)
	w := map[string]map[string]int64{}
	for r, m := range s.Population.Wallets {
		w[r] = shrink(m)
	}
	s.Population.Wallets = w
	s.Merchants.Count = shrink(s.Merchants.Count)
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	table, _, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		t.Fatal(err)
	}
	return sc, table
}

var (
	brokerOnce sync.Once
	broker     *embedded.Broker
	brokerErr  error
	runs       atomic.Int64
)

// sharedBroker is one in-memory broker for every run of this file: each
// run takes fresh topics.
func sharedBroker(t testing.TB) bus.Config {
	brokerOnce.Do(func() { broker, brokerErr = embedded.Start(embedded.Config{Partitions: 2}) })
	if brokerErr != nil {
		t.Fatal(brokerErr)
	}
	return bus.Config{Brokers: []string{broker.Addr()}}
}

// record is a command record written to a chosen partition.
type record struct {
	part  int
	value []byte
}

// smallRun produces every epoch, writes `after` behind the generator's
// last mark (before runs before the first command), then processes and
// audits the log.
func smallRun(t testing.TB, before, after []record) (*Engine, audit.Report, []kafka.Message) {
	t.Helper()
	sc, table := small(t)
	bc := sharedBroker(t)
	g := gen.New(sc)
	topics := bus.DefaultTopics(fmt.Sprintf("guard%d", runs.Add(1)))
	e, err := New(Config{Bus: bc, Topics: topics, Partitions: 2, Routes: table, Seed: uint64(sc.Seed), Clock: g.Clock, Window: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := e.Setup(ctx, true); err != nil {
		t.Fatal(err)
	}
	write := func(rs []record) {
		if len(rs) == 0 {
			return
		}
		msgs := make([]kafka.Message, len(rs))
		for i, r := range rs {
			msgs[i] = kafka.Message{Topic: topics.Commands, Partition: r.part, Value: r.value}
		}
		if err := e.writeControl(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	write(before)
	if _, err := e.Produce(ctx, g, 0); err != nil {
		t.Fatal(err)
	}
	write(after)
	if _, err := e.Process(ctx, nil); err != nil {
		t.Fatalf("process: %v", err)
	}
	_, rep, err := Verify(ctx, bc, topics)
	if err != nil {
		t.Fatal(err)
	}
	var dls []kafka.Message
	if n := e.DeadLetters(); n > 0 {
		if err := bus.ReadRange(ctx, bc, topics.DeadLetters, 0, 0, n, func(m kafka.Message) error {
			dls = append(dls, m)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return e, rep, dls
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func payCmd(id, wallet uint64, epoch uint32) []byte {
	return event.AppendCommand(nil, &event.Command{Type: event.CmdPay, ID: id, Wallet: wallet, Epoch: epoch, Kind: sim.TopUp,
		Amount: 100, Currency: sim.CNY, Candidates: [event.MaxCandidates]uint64{wallet}, NCandidates: 1})
}

// TestAfterLastMark: payments written behind the generator's last mark
// are never processed; each is dead-lettered with its reason and offset,
// none is an unresolved payment, and the log is the clean run's.
func TestAfterLastMark(t *testing.T) {
	_, clean, _ := smallRun(t, nil, nil)
	// Wallet 3 is CN (home currency CNY) in this population.
	w := uint64(3)
	p := ledger.Partition(w, 2)
	_, got, dls := smallRun(t, nil, []record{{p, payCmd(1<<41, w, 1)}, {p, payCmd(1<<41+1, w, 1<<20)}})
	if len(dls) != 2 || got.UnresolvedCommands != 0 || !got.OK() {
		t.Fatalf("%d dead letters, report %+v", len(dls), got)
	}
	for _, m := range dls {
		if !strings.Contains(header(m, "reason"), "after the generator's last mark") || header(m, "source_offset") == "" {
			t.Fatalf("dead letter headers %v", m.Headers)
		}
	}
	if got.Digest != clean.Digest || got.Attempted != clean.Attempted || got.DeadLettered != 2 {
		t.Fatalf("digest %s attempted %d dead %d; clean %s %d", got.Digest, got.Attempted, got.DeadLettered, clean.Digest, clean.Attempted)
	}
}

// TestPanicIsDeadLettered makes the ledger panic on one command after it
// has already applied and emitted its event: the processor takes the
// command's output back, dead-letters it with the panic as its reason,
// counts it, and goes on; the log is the log of a run without it.
func TestPanicIsDeadLettered(t *testing.T) {
	_, clean, _ := smallRun(t, nil, nil)
	const boom = 1 << 42
	orig := handleCommand
	handleCommand = func(b *ledger.Book, c *event.Command, s ledger.Sink) error {
		if c.ID == boom {
			_ = orig(b, c, s)
			panic("ledger bug")
		}
		return orig(b, c, s)
	}
	defer func() { handleCommand = orig }()
	w := uint64(3)
	e, got, dls := smallRun(t, []record{{ledger.Partition(w, 2), payCmd(boom, w, 1)}}, nil)
	if e.Panics() != 1 || len(dls) != 1 || !strings.Contains(header(dls[0], "reason"), "panic") {
		t.Fatalf("panics %d, dead letters %d %v", e.Panics(), len(dls), dls)
	}
	if !got.OK() || got.Digest != clean.Digest {
		t.Fatalf("after a panic: digest %s (clean %s), report %+v", got.Digest, clean.Digest, got)
	}
}

// FuzzProcessor drives the real processors (embedded broker, real
// topics) with one structurally valid command of any field values, before
// the generator's traffic and again behind its last mark. Whatever the
// fields, the run finishes, nothing panics, every invariant holds and no
// payment is left unresolved: the command is processed or dead-lettered.
func FuzzProcessor(f *testing.F) {
	f.Add(uint8(event.CmdOpenWallet), uint64(1<<62), uint64(0), int64(100), uint8(0), uint8(1), uint32(0), uint8(0), uint16(0), uint8(0), uint8(0), int64(0))
	f.Add(uint8(event.CmdOpenWallet), uint64(1<<33), uint64(0), int64(100), uint8(0), uint8(1), uint32(0), uint8(0), uint16(0), uint8(0), uint8(0), int64(0))
	f.Add(uint8(event.CmdOpenWallet), uint64(event.MaxWalletID), uint64(0), int64(1<<48), uint8(0), uint8(1), uint32(1), uint8(1), uint16(0), uint8(0), uint8(0), int64(0))
	f.Add(uint8(event.CmdPay), uint64(3), uint64(1), int64(1<<48), uint8(sim.ScanMPM), uint8(sim.HKD), uint32(1), uint8(1), uint16(0xffff), uint8(0), uint8(1), int64(0))
	f.Add(uint8(event.CmdPay), uint64(3), uint64(0), int64(1<<48), uint8(sim.TopUp), uint8(sim.CNY), uint32(2), uint8(1), uint16(0), uint8(0), uint8(1), int64(0))
	f.Add(uint8(event.CmdPay), uint64(999_999), uint64(3), int64(1), uint8(sim.P2P), uint8(sim.CNY), uint32(1), uint8(1), uint16(1), uint8(0), uint8(1), int64(0))
	f.Add(uint8(event.CmdCredit), uint64(3), uint64(4), int64(1<<48), uint8(sim.P2P), uint8(sim.CNY), uint32(1), uint8(1), uint16(1), uint8(0), uint8(1), int64(1<<60))
	f.Add(uint8(event.CmdEpochMark), uint64(0), uint64(0), int64(0), uint8(0), uint8(0), uint32(7), uint8(0), uint16(0), uint8(0), uint8(0), int64(0))
	f.Fuzz(func(t *testing.T, typ uint8, wallet, cp uint64, amount int64, kind, cur uint8, epoch uint32, part uint8, acceptors uint16, attempt, ncand uint8, held int64) {
		c := event.Command{Type: event.CommandType(typ), ID: 1<<41 + uint64(runs.Load()), Wallet: wallet, Epoch: epoch, Kind: sim.Kind(kind),
			Amount: amount, Currency: sim.Currency(cur), Counterparty: cp, Acceptors: acceptors, AccRegion: sim.Region(cur % 3),
			Attempt: attempt, NCandidates: ncand % (event.MaxCandidates + 1), HeldAmount: held, HeldCurrency: sim.Currency(cur),
			Provider: sim.Provider(kind % 8), Region: sim.Region(cur%2 + 1), Class: sim.Class(kind%10 + 1), Source: -1}
		for i := range c.Candidates[:c.NCandidates] {
			c.Candidates[i] = wallet + uint64(i)
		}
		v := event.AppendCommand(nil, &c)
		r := []record{{int(part % 2), v}}
		e, rep, _ := smallRun(t, r, r)
		if e.Panics() != 0 {
			t.Fatalf("%d commands panicked: %+v", e.Panics(), c)
		}
		if !rep.OK() {
			t.Fatalf("command %+v: report %+v", c, rep)
		}
	})
}

// TestDeadLetterWriteFailureIsAnError: when the broker refuses the
// dead-letter write for good (not authorized), the processor stops with
// an error naming the dead letters; it used to log a line, count the
// record as dead-lettered and go on, so the record was gone.
func TestDeadLetterWriteFailureIsAnError(t *testing.T) {
	b, err := embedded.Start(embedded.Config{Partitions: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sc, table := small(t)
	bc := bus.Config{Brokers: []string{b.Addr()}}
	g := gen.New(sc)
	topics := bus.DefaultTopics("dlfail")
	e, err := New(Config{Bus: bc, Topics: topics, Partitions: 2, Routes: table, Seed: uint64(sc.Seed), Clock: g.Clock, Window: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.Setup(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := e.writeControl(ctx, []kafka.Message{{Topic: topics.Commands, Partition: 0, Value: []byte("garbage")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Produce(ctx, g, 0); err != nil {
		t.Fatal(err)
	}
	cl := b.Cluster()
	cl.ControlKey(int16(kmsg.Produce), func(r kmsg.Request) (kmsg.Response, error, bool) {
		cl.KeepControl()
		req := r.(*kmsg.ProduceRequest)
		for _, tp := range req.Topics {
			if tp.Topic != topics.DeadLetters {
				return nil, nil, false
			}
		}
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, tp := range req.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic = tp.Topic
			for _, p := range tp.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p.Partition, kerr.TopicAuthorizationFailed.Code
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, nil, true
	})
	_, err = e.Process(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "dead letters") {
		t.Fatalf("process with the dead-letter topic refusing writes: %v", err)
	}
	if e.DeadLetters() != 0 {
		t.Fatalf("%d dead letters counted that were never written", e.DeadLetters())
	}
}

// TestDeadLetterKeepsRecord: a dead letter holds the record as it was
// read, though the input reader's buffer has held other records since
// (a record's bytes are the reader's only until its next fetch, and dead
// letters are written at the next checkpoint). The records are large, a
// fetch holds a few, so later fetches overwrite the first ones' bytes
// before the dead letters go out.
func TestDeadLetterKeepsRecord(t *testing.T) {
	w := uint64(3)
	p := ledger.Partition(w, 2)
	big := func(i int) []byte {
		v := make([]byte, 300_000)
		for j := range v {
			v[j] = byte('a' + (i+j)%26)
		}
		return v
	}
	const n = 8
	var before []record
	for i := 0; i < n; i++ {
		before = append(before, record{p, big(i)})
	}
	_, got, dls := smallRun(t, before, nil)
	if len(dls) != n || !got.OK() {
		t.Fatalf("%d dead letters, report %+v", len(dls), got)
	}
	for _, m := range dls {
		var off int
		if _, err := fmt.Sscan(header(m, "source_offset"), &off); err != nil || off >= n {
			t.Fatalf("dead letter source offset %q", header(m, "source_offset"))
		}
		if string(m.Value) != string(big(off)) {
			t.Fatalf("dead letter of record %d holds %.20q..., not the record written (%.20q...)", off, m.Value, big(off))
		}
	}
}
