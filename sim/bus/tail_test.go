package bus_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/faults"
	"github.com/walletsim/walletsim/sim/bus/netfault"
)

// tailKey and tailTime are what the writer gives partition p's record
// i, so that a reader can check it got the right key and timestamp back
// (the processor keeps keys in dead letters and times as latency).
func tailKey(p, i int) []byte { return fmt.Appendf(nil, "k%d-%d", p, i) }
func tailTime(i int) time.Time {
	return time.UnixMilli(1_700_000_000_000 + int64(i)).UTC()
}

func writeTail(t testing.TB, ctx context.Context, w *kafka.Writer, topic string, p, from, to int) {
	t.Helper()
	msgs := make([]kafka.Message, 0, to-from)
	for i := from; i < to; i++ {
		msgs = append(msgs, kafka.Message{Topic: topic, Partition: p, Key: tailKey(p, i), Value: record(p, i), Time: tailTime(i)})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

// startBroker starts an embedded broker, stopped when the test ends.
func startBroker(t testing.TB, cfg embedded.Config) *embedded.Broker {
	t.Helper()
	b, err := embedded.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// newWriter opens a bus writer, closed when the test ends (before the
// broker it writes to).
func newWriter(t testing.TB, bc bus.Config) *kafka.Writer {
	t.Helper()
	w, err := bus.NewWriter(bc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// openTail opens a PartitionReader on topic's partition p at offset from,
// closed when the test ends.
func openTail(t testing.TB, bc bus.Config, topic string, p int, from int64) *bus.PartitionReader {
	t.Helper()
	r, err := bus.NewPartitionReader(bc, topic, p, from)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// deleteThenTruncated deletes topic and checks that r's next fetch says
// the log is gone (ErrLogTruncated), not that it waits for more.
func deleteThenTruncated(t *testing.T, ctx context.Context, bc bus.Config, r *bus.PartitionReader, topic string) {
	t.Helper()
	admin, err := bus.NewClient(bc)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.DeleteTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Fetch(ctx); !errors.Is(err, bus.ErrLogTruncated) {
		t.Fatalf("reading a deleted topic: %v, want ErrLogTruncated", err)
	}
}

// checkTail fetches records [from, to) of partition p from r, failing on
// any record out of place: a loss, a duplicate or a wrong key, value or
// time. slow sleeps now and then, so that a read spans several resets.
func checkTail(t *testing.T, ctx context.Context, r *bus.PartitionReader, p, from, to int, slow bool) {
	t.Helper()
	for i := from; i < to; i++ {
		m, err := r.Fetch(ctx)
		if err != nil {
			t.Fatalf("partition %d: record %d: %v", p, i, err)
		}
		if m.Offset != int64(i) || string(m.Value) != string(record(p, i)) || string(m.Key) != string(tailKey(p, i)) || !m.Time.Equal(tailTime(i)) {
			t.Fatalf("partition %d: got offset %d key %q value %.12q... time %v, want record %d (key %q, value %.12q..., time %v)",
				p, m.Offset, m.Key, m.Value, m.Time, i, tailKey(p, i), record(p, i), tailTime(i))
		}
		if slow && i%20 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
}

// noMore checks that r has nothing more to hand out (no duplicate of the
// last record, nothing invented): a short wait ends in the context's
// deadline, and the reader is still usable afterwards.
func noMore(t *testing.T, r *bus.PartitionReader) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if m, err := r.Fetch(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("past the end: got offset %d (%v), want the context's deadline", m.Offset, err)
	}
}

// TestTailThroughResets: with every connection to the broker reset every
// 100 ms, readers tailing four partitions (half the records written
// before they start, half while they read, slowly) hand out every record
// once, in order, with its key and time, and then nothing more. Each
// reader has to redial mid-read (Dials), so without the resume at the
// last record handed out a reset loses or repeats records.
func TestTailThroughResets(t *testing.T) {
	const parts, per = 4, 3000
	b := startBroker(t, embedded.Config{Partitions: parts, Topics: []string{"tail"}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := newWriter(t, bus.Config{Brokers: []string{b.Addr()}})
	for p := 0; p < parts; p++ {
		writeTail(t, ctx, w, "tail", p, 0, per/2)
	}

	px, err := netfault.Start("", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); netfault.Plan{Every: 100 * time.Millisecond}.Run(px, stop) }()
	defer func() { close(stop); <-done }()

	wrote := make(chan error, 1)
	go func() {
		// The second half lands while the readers tail the first.
		time.Sleep(200 * time.Millisecond)
		msgs := []kafka.Message{}
		for p := 0; p < parts; p++ {
			for i := per / 2; i < per; i++ {
				msgs = append(msgs, kafka.Message{Topic: "tail", Partition: p, Key: tailKey(p, i), Value: record(p, i), Time: tailTime(i)})
			}
		}
		wrote <- w.WriteMessages(ctx, msgs...)
	}()
	bc := bus.Config{Brokers: []string{px.Addr()}}
	for p := 0; p < parts; p++ {
		r, err := bus.NewPartitionReader(bc, "tail", p, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkTail(t, ctx, r, p, 0, per, true)
		noMore(t, r)
		if r.Dials() < 2 {
			t.Fatalf("partition %d: read on %d connection(s): no reset hit it, the test did not test", p, r.Dials())
		}
		t.Logf("partition %d: %d connections", p, r.Dials())
		r.Close()
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}

// TestTailAcrossBrokerRestart: a reader halfway through a partition when
// the broker restarts (every connection drops, the log survives) goes on
// after the last record it handed out, and picks up what is written
// after the restart.
func TestTailAcrossBrokerRestart(t *testing.T) {
	b := startBroker(t, embedded.Config{Partitions: 1, Topics: []string{"tail"}, DataDir: filepath.Join(t.TempDir(), "log")})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	w := newWriter(t, bc)
	writeTail(t, ctx, w, "tail", 0, 0, 2000)
	r := openTail(t, bc, "tail", 0, 0)
	checkTail(t, ctx, r, 0, 0, 1000, false)
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	writeTail(t, ctx, w, "tail", 0, 2000, 3000)
	checkTail(t, ctx, r, 0, 1000, 3000, false)
	noMore(t, r)
	if r.Dials() < 2 {
		t.Fatalf("%d connection(s) across a restart", r.Dials())
	}
}

// TestTailTruncated: a reader whose partition ends before its position
// gets ErrLogTruncated instead of waiting forever: started past the end
// (the broker answers OFFSET_OUT_OF_RANGE; the idle check is off, so this
// is the fetch's own check), with its topic deleted under it while it
// waits at the end (recreated empty by the reader's own metadata request:
// out of range again), and deleted on a cluster that does not recreate it
// (the idle check).
func TestTailTruncated(t *testing.T) {
	b := startBroker(t, embedded.Config{Partitions: 1, Topics: []string{"short", "doomed"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	w := newWriter(t, bc)
	writeTail(t, ctx, w, "short", 0, 0, 10)
	writeTail(t, ctx, w, "doomed", 0, 0, 10)

	t.Run("past the end", func(t *testing.T) {
		defer bus.SetIdleCheck(time.Hour)()
		r := openTail(t, bc, "short", 0, 50)
		if _, err := r.Fetch(ctx); !errors.Is(err, bus.ErrLogTruncated) {
			t.Fatalf("reading at 50 of a 10-record partition: %v, want ErrLogTruncated", err)
		}
	})
	t.Run("deleted", func(t *testing.T) {
		defer bus.SetIdleCheck(200 * time.Millisecond)()
		r := openTail(t, bc, "doomed", 0, 0)
		checkTail(t, ctx, r, 0, 0, 10, false)
		deleteThenTruncated(t, ctx, bc, r, "doomed")
	})
	t.Run("deleted, no auto-creation", func(t *testing.T) {
		// A cluster that does not create topics on a metadata request:
		// the fetches answer UNKNOWN_TOPIC_OR_PARTITION, which is
		// retriable (a new topic can be unknown for a moment), so only
		// the idle check ends the wait.
		defer bus.SetIdleCheck(200 * time.Millisecond)()
		b := startBroker(t, embedded.Config{Partitions: 1, Topics: []string{"gone"}})
		cl := b.Cluster()
		cl.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
			cl.KeepControl()
			req.(*kmsg.MetadataRequest).AllowAutoTopicCreation = false
			return nil, nil, false
		})
		bc := bus.Config{Brokers: []string{b.Addr()}}
		w := newWriter(t, bc)
		writeTail(t, ctx, w, "gone", 0, 0, 10)
		r := openTail(t, bc, "gone", 0, 0)
		checkTail(t, ctx, r, 0, 0, 10, false)
		deleteThenTruncated(t, ctx, bc, r, "gone")
	})
}

// TestTailStartsInsideABatch: a fetch returns whole record batches, so
// one at an offset inside a batch (compressed or not) gets the records
// before it too; the reader hands out none of them.
func TestTailStartsInsideABatch(t *testing.T) {
	for _, codec := range []struct {
		name string
		c    kafka.Compression
	}{{"none", 0}, {"snappy", kafka.Snappy}, {"lz4", kafka.Lz4}, {"zstd", kafka.Zstd}} {
		t.Run(codec.name, func(t *testing.T) {
			topic := "batch-" + codec.name
			b := startBroker(t, embedded.Config{Partitions: 1, Topics: []string{topic}})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			bc := bus.Config{Brokers: []string{b.Addr()}}
			w, err := bus.NewWriter(bc)
			if err != nil {
				t.Fatal(err)
			}
			w.Compression = codec.c
			writeTail(t, ctx, w, topic, 0, 0, 100) // one call: one batch
			w.Close()
			r := openTail(t, bc, topic, 0, 37)
			checkTail(t, ctx, r, 0, 37, 100, false)
			noMore(t, r)
		})
	}
}

// TestTailLargeRecords: records close to the broker's 1 MiB limit, more
// than one fetch's worth together, among small ones, come back whole (the
// arena grows past its size), to a PartitionReader and to Scan (its
// 64 kB buffer grows).
func TestTailLargeRecords(t *testing.T) {
	b := startBroker(t, embedded.Config{Partitions: 1, Topics: []string{"big"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	w := newWriter(t, bc)
	value := func(i int) []byte {
		n := 100
		if i%3 == 1 {
			n = 800_000
		}
		v := make([]byte, n)
		for j := range v {
			v[j] = byte(i + j)
		}
		return v
	}
	for i := 0; i < 9; i++ { // one write each: one batch each
		if err := w.WriteMessages(ctx, kafka.Message{Topic: "big", Value: value(i)}); err != nil {
			t.Fatal(err)
		}
	}
	r := openTail(t, bc, "big", 0, 0)
	for i := 0; i < 9; i++ {
		m, err := r.Fetch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m.Offset != int64(i) || string(m.Value) != string(value(i)) {
			t.Fatalf("record %d: got offset %d, %d bytes, want %d bytes as written", i, m.Offset, len(m.Value), len(value(i)))
		}
	}
	// Scan (the audit's read) grows its buffer the same way.
	i := 0
	if err := bus.Scan(ctx, bc, "big", 0, 0, 9, func(off int64, v []byte) error {
		if off != int64(i) || string(v) != string(value(i)) {
			return fmt.Errorf("scan: record %d: got offset %d, %d bytes, want %d bytes", i, off, len(v), len(value(i)))
		}
		i++
		return nil
	}); err != nil || i != 9 {
		t.Fatalf("scan: %v after %d records", err, i)
	}
}

// TestTailAllocations: a reader tailing a partition allocates no more per
// record than kafka-go's Batch.ReadMessage does (the key and the value);
// the rest is per fetch, and a fetch brings hundreds. kafka-go's Reader,
// the processors' input before, made about seven (BenchmarkTail).
func TestTailAllocations(t *testing.T) {
	const n = 20_000
	b := startBroker(t, embedded.Config{Partitions: 1, Topics: []string{"allocs"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	w := newWriter(t, bc)
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Topic: "allocs", Key: tailKey(0, i), Value: fmt.Appendf(nil, "value %d of a hundred bytes or so ....................................................", i)}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	r := openTail(t, bc, "allocs", 0, 0)
	fetch := func() {
		if _, err := r.Fetch(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2000; i++ { // the arena grows to a fetch
		fetch()
	}
	if a := testing.AllocsPerRun(n-3000, fetch); a > 2.1 {
		t.Fatalf("%.2f allocations a record, want at most ReadMessage's 2", a)
	}
}

// TestTailClosed: a context that ends ends a Fetch waiting on an idle
// partition (and the reader goes on with another), and a closed reader
// says so (io.EOF: processor.fetch stops on it).
func TestTailClosed(t *testing.T) {
	b := startBroker(t, embedded.Config{Partitions: 1, Topics: []string{"idle"}})
	r, err := bus.NewPartitionReader(bus.Config{Brokers: []string{b.Addr()}}, "idle", 0, kafka.FirstOffset)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	if _, err := r.Fetch(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("fetch on an idle partition, context cancelled: %v", err)
	}
	// Still usable with another context.
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	w := newWriter(t, bus.Config{Brokers: []string{b.Addr()}})
	writeTail(t, ctx2, w, "idle", 0, 0, 1)
	checkTail(t, ctx2, r, 0, 0, 1, false)
	r.Close()
	if _, err := r.Fetch(context.Background()); !errors.Is(err, io.EOF) {
		t.Fatalf("fetch after Close: %v, want io.EOF", err)
	}
	if _, err := bus.NewPartitionReader(bus.Config{Brokers: []string{b.Addr()}}, "idle", 0, -7); err == nil {
		t.Fatal("offset -7 accepted")
	}
}

// TestTailThroughFetchErrors: with a third of the fetches answered
// NOT_LEADER_OR_FOLLOWER (the leader moved: look it up again) a reader
// hands out every record once, in order, and hides the errors from its
// caller: each redial rides on, none ends Fetch.
func TestTailThroughFetchErrors(t *testing.T) {
	b := startBroker(t, embedded.Config{Partitions: 1, Topics: []string{"flaky"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	w := newWriter(t, bc)
	for i := 0; i < 2000; i += 100 { // small batches: many fetches
		writeTail(t, ctx, w, "flaky", 0, i, i+100)
	}
	in, err := faults.Inject(b, faults.Config{FetchErrorRate: 0.33, Seed: 3}, faults.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Stop()
	r := openTail(t, bc, "flaky", 0, 0)
	checkTail(t, ctx, r, 0, 0, 2000, false)
	noMore(t, r)
	if rep := in.Report(); rep.FetchErrors == 0 || r.Dials() < 2 {
		t.Fatalf("%d fetch errors injected, %d connections: the test did not test", rep.FetchErrors, r.Dials())
	}
	t.Logf("%d fetch errors, %d connections", in.Report().FetchErrors, r.Dials())
}
