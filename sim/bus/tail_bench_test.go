package bus

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim/bus/embedded"
)

// BenchmarkTail compares the processors' old input path, kafka-go's
// Reader (a goroutine, a channel hop and two allocations a record), with
// PartitionReader (batched fetches on the caller's goroutine), on the
// embedded broker in this process: each iteration reads one partition of
// benchRecords 100-byte records from its start. records/s and
// allocs/record are the figures to compare (GUIDE.md: measure alone, on
// an idle machine).
//
//	go test -run X -bench Tail -benchmem ./sim/bus/
func BenchmarkTail(b *testing.B) {
	const benchRecords = 200_000
	br, err := embedded.Start(embedded.Config{Partitions: 1, Topics: []string{"bench"}})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	ctx := context.Background()
	cfg := Config{Brokers: []string{br.Addr()}}
	w, err := NewWriter(cfg)
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([]kafka.Message, 0, 5000)
	for i := 0; i < benchRecords; i++ {
		msgs = append(msgs, kafka.Message{Topic: "bench", Key: fmt.Appendf(nil, "%d", i), Value: fmt.Appendf(nil, "%0100d", i), Time: time.UnixMilli(int64(i + 1))})
		if len(msgs) == cap(msgs) || i == benchRecords-1 {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	w.Close()

	run := func(b *testing.B, open func() (fetch func() (kafka.Message, error), close func())) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mallocs := ms.Mallocs
		start := time.Now()
		for n := 0; n < b.N; n++ {
			fetch, closeFn := open()
			var sum int64
			for i := 0; i < benchRecords; i++ {
				m, err := fetch()
				if err != nil {
					b.Fatal(err)
				}
				if m.Offset != int64(i) {
					b.Fatalf("record %d at offset %d", i, m.Offset)
				}
				sum += int64(len(m.Value)) + m.Time.UnixMilli() // what the processor touches
			}
			closeFn()
			if sum == 0 {
				b.Fatal("no records")
			}
		}
		el := time.Since(start)
		runtime.ReadMemStats(&ms)
		recs := float64(b.N) * benchRecords
		b.ReportMetric(recs/el.Seconds(), "records/s")
		b.ReportMetric(float64(ms.Mallocs-mallocs)/recs, "allocs/record")
	}
	b.Run("kafka.Reader", func(b *testing.B) {
		run(b, func() (func() (kafka.Message, error), func()) {
			// The processors' reader before issue 15 (NewPartitionReader then).
			d, err := cfg.Dialer()
			if err != nil {
				b.Fatal(err)
			}
			r := kafka.NewReader(kafka.ReaderConfig{
				Brokers: cfg.Brokers, Dialer: d, Topic: "bench", Partition: 0,
				MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 20 * time.Millisecond, QueueCapacity: 4096,
				ReadBackoffMin: 5 * time.Millisecond, ReadBackoffMax: 200 * time.Millisecond, MaxAttempts: 20,
			})
			if err := r.SetOffset(0); err != nil {
				b.Fatal(err)
			}
			return func() (kafka.Message, error) {
				// Its Fetch: a FetchMessage bounded by the idle check.
				fctx, cancel := context.WithTimeout(ctx, idleCheck)
				defer cancel()
				return r.FetchMessage(fctx)
			}, func() { r.Close() }
		})
	})
	b.Run("PartitionReader", func(b *testing.B) {
		run(b, func() (func() (kafka.Message, error), func()) {
			r, err := NewPartitionReader(cfg, "bench", 0, 0)
			if err != nil {
				b.Fatal(err)
			}
			return func() (kafka.Message, error) { return r.Fetch(ctx) }, func() { r.Close() }
		})
	})
}
