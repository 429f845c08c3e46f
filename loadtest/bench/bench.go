// Package bench measures walletsim against the raw Kafka client it runs on,
// in one process, on one broker, with one message size: the ceilings first,
// then the engine, and reports each figure with its ratio to its ceiling.
// Ratios, not absolute rates, are what hold across machines.
package bench

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/sync/errgroup"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine/replay"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/run"
)

// Ceiling is the raw kafka-go throughput on this embedded.
type Ceiling struct {
	Messages        int64   `json:"messages"`
	MessageBytes    int     `json:"message_bytes"`
	ProduceMsgsPerS float64 `json:"produce_msgs_per_s"`
	ConsumeMsgsPerS float64 `json:"consume_msgs_per_s"`
	// ProduceConsumeMsgsPerS is messages through produce then consume:
	// N / (produce time + consume time).
	ProduceConsumeMsgsPerS float64 `json:"produce_consume_msgs_per_s"`
}

// Pipeline is the engine's figure.
type Pipeline struct {
	Payments           int64   `json:"payments"`
	PaymentsPerS       float64 `json:"payments_per_s"`
	EventsPerS         float64 `json:"events_per_s"`
	DurationS          float64 `json:"duration_s"`
	RatioToCeiling     float64 `json:"ratio_to_ceiling"` // payments/s ÷ produce+consume msgs/s
	AllocsPerPayment   float64 `json:"allocs_per_payment"`
	BytesPerWallet     float64 `json:"engine_bytes_per_wallet"`
	Wallets            int64   `json:"wallets"`
	InvariantsOK       bool    `json:"invariants_ok"`
	Digest             string  `json:"digest"`
	MessagesPerPayment float64 `json:"kafka_records_per_payment"`
	// The same work done by raw kafka-go: the records the pipeline produced
	// and consumed per payment, at the ceiling's rates:
	// 1 / (produced/produce_rate + consumed/consume_rate).
	ProducedPerPayment float64 `json:"produced_per_payment"`
	ConsumedPerPayment float64 `json:"consumed_per_payment"`
	EquivalentCeiling  float64 `json:"equivalent_ceiling_payments_per_s"`
	RatioToEquivalent  float64 `json:"ratio_to_equivalent_ceiling"`
	// The same again with the records the audit read while the pipeline
	// ran (it follows the log alongside): work the pipeline's time holds
	// that the figure above leaves out.
	AuditReadPerPayment        float64 `json:"audit_read_per_payment"`
	EquivalentWithAudit        float64 `json:"equivalent_with_audit_payments_per_s"`
	RatioToEquivalentWithAudit float64 `json:"ratio_to_equivalent_with_audit"`
}

// Rebuild is replay's figure against the raw read of the same topic.
type Rebuild struct {
	Events     int64   `json:"events"`
	EventsPerS float64 `json:"events_per_s"` // state rebuilt and checked, no log digest
	// With the per-event SHA-256 chain of the log digest as well.
	DigestEventsPerS float64 `json:"with_digest_events_per_s"`
	RawReadMsgsPerS  float64 `json:"raw_read_msgs_per_s"` // batched fetch, no decode, same topic
	RatioToRawRead   float64 `json:"ratio_to_raw_read"`
	DigestMatches    bool    `json:"digest_matches"`
	StateMatches     bool    `json:"state_matches"`
}

// Result is bench.json.
type Result struct {
	Ceiling    Ceiling  `json:"ceiling"`
	Pipeline   Pipeline `json:"pipeline"`
	Rebuild    Rebuild  `json:"rebuild"`
	PeakRSSMiB float64  `json:"peak_rss_mib"`
	// PipelinePeakRSSMiB is the process's peak resident set while the
	// pipeline ran (the kernel's high-water mark reset before it), and
	// BytesPerWallet that over the run's wallets: the whole process,
	// population, generator, engine, audit, client and broker included,
	// beside the engine's own bytes per wallet.
	PipelinePeakRSSMiB float64 `json:"pipeline_peak_rss_mib"`
	BytesPerWallet     float64 `json:"bytes_per_wallet"`
	// LogInRAM: the embedded broker kept the log in memory (no --scale
	// and no data dir), so the RSS figures hold the whole log, ceiling
	// included, and bytes per wallet is not the wallets' cost.
	LogInRAM   bool   `json:"log_in_ram"`
	Partitions int    `json:"partitions"`
	Broker     string `json:"broker"`
	Manifest   any    `json:"manifest,omitempty"`
}

// Options configure a bench run.
type Options struct {
	Run        run.Options // the scenario to run (Bus is filled in)
	Partitions int
	// CeilingMessages is how many raw messages measure the ceiling
	// (default: the pipeline's payments).
	CeilingMessages int64
	MessageBytes    int
	DataDir         string
	// TempDataDir keeps the broker's log in a temporary directory (removed
	// after) when DataDir is empty, instead of in memory: what run does,
	// and what a memory figure needs at millions of wallets.
	TempDataDir bool
	Logf        func(string, ...any)
}

func (o *Options) setDefaults() {
	if o.Partitions == 0 {
		o.Partitions = 8
	}
	if o.MessageBytes == 0 {
		o.MessageBytes = 64 // about one encoded command or event
	}
	if o.CeilingMessages == 0 && o.Run.Scenario != nil {
		o.CeilingMessages = o.Run.Scenario.Payments
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Validate reports options that cannot make a measurement.
func (o *Options) Validate() error {
	switch {
	case o.Run.Scenario == nil || o.Run.Policy == nil:
		return errors.New("bench: a scenario and a policy are required")
	case o.Partitions < 1 || o.Partitions > 4096:
		return fmt.Errorf("bench: partitions %d: want 1 to 4096", o.Partitions)
	case o.MessageBytes < 1 || o.MessageBytes > 1<<20:
		return fmt.Errorf("bench: message size %d bytes: want 1 to 1 MiB", o.MessageBytes)
	case o.CeilingMessages < 1:
		return fmt.Errorf("bench: ceiling messages %d: want at least 1", o.CeilingMessages)
	}
	return nil
}

// Run measures the ceiling and the pipeline on one embedded broker.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.setDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	dir := o.DataDir
	if dir == "" && o.TempDataDir {
		tmp, err := os.MkdirTemp("", "walletsim-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	b, err := embedded.Start(embedded.Config{Partitions: o.Partitions, DataDir: dir})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	res := &Result{Partitions: o.Partitions, Broker: "embedded", LogInRAM: dir == ""}
	o.Logf("ceiling: %d raw messages of %d bytes on %d partitions", o.CeilingMessages, o.MessageBytes, o.Partitions)
	// A ceiling is the best the client can do here: best of three tries.
	for try := 0; try < 3; try++ {
		c, err := ceiling(ctx, bc, o.Partitions, o.CeilingMessages, o.MessageBytes)
		if err != nil {
			return nil, fmt.Errorf("ceiling: %w", err)
		}
		res.Ceiling.Messages, res.Ceiling.MessageBytes = c.Messages, c.MessageBytes
		res.Ceiling.ProduceMsgsPerS = max(res.Ceiling.ProduceMsgsPerS, c.ProduceMsgsPerS)
		res.Ceiling.ConsumeMsgsPerS = max(res.Ceiling.ConsumeMsgsPerS, c.ConsumeMsgsPerS)
	}
	res.Ceiling.ProduceConsumeMsgsPerS = 1 / (1/res.Ceiling.ProduceMsgsPerS + 1/res.Ceiling.ConsumeMsgsPerS)
	o.Logf("pipeline: %d payments", o.Run.Scenario.Payments)
	ro := o.Run
	ro.Bus, ro.Partitions, ro.Fresh = bc, o.Partitions, true
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	// The process's peak so far (the ceiling), kept: the reset below
	// makes the kernel's mark the pipeline's alone.
	peakBefore := peakRSSMiB()
	resetPeakRSS := resetPeakRSS()
	rr, err := run.Run(ctx, ro)
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if resetPeakRSS {
		res.PipelinePeakRSSMiB = peakRSSMiB()
	}
	runtime.ReadMemStats(&ms1)
	s := rr.Summary
	p := &res.Pipeline
	p.Payments, p.PaymentsPerS, p.EventsPerS, p.DurationS = s.Payments.Attempted, s.Throughput.PaymentsPerS, s.Throughput.EventsPerS, s.DurationS
	p.InvariantsOK, p.Digest = s.Invariants.OK(), s.Events.Digest
	if res.Ceiling.ProduceConsumeMsgsPerS > 0 {
		p.RatioToCeiling = p.PaymentsPerS / res.Ceiling.ProduceConsumeMsgsPerS
	}
	if p.Payments > 0 {
		// Whole process: generator, client, broker and audit included.
		p.AllocsPerPayment = float64(ms1.Mallocs-ms0.Mallocs) / float64(p.Payments)
		recs := s.Payments.Attempted + s.Events.Written + s.Engine.SagaRecords + s.Engine.Wallets
		p.MessagesPerPayment = float64(recs) / float64(p.Payments)
		// Processors read every command and every saga record once.
		p.ProducedPerPayment = p.MessagesPerPayment
		p.ConsumedPerPayment = float64(s.Payments.Attempted+s.Engine.Wallets+s.Engine.SagaRecords) / float64(p.Payments)
		c := res.Ceiling
		if c.ProduceMsgsPerS > 0 && c.ConsumeMsgsPerS > 0 {
			sameWork := func(consumed float64) float64 {
				return 1 / (p.ProducedPerPayment/c.ProduceMsgsPerS + consumed/c.ConsumeMsgsPerS)
			}
			p.EquivalentCeiling = sameWork(p.ConsumedPerPayment)
			p.RatioToEquivalent = p.PaymentsPerS / p.EquivalentCeiling
			p.AuditReadPerPayment = float64(s.Engine.AuditedInWindow) / float64(p.Payments)
			p.EquivalentWithAudit = sameWork(p.ConsumedPerPayment + p.AuditReadPerPayment)
			p.RatioToEquivalentWithAudit = p.PaymentsPerS / p.EquivalentWithAudit
		}
	}
	var slots, wallets int64
	for _, book := range rr.Process.Books {
		slots += int64(book.Len())
		book.Each(func(uint64, *ledger.Wallet) { wallets++ })
	}
	if wallets > 0 {
		p.Wallets = wallets
		p.BytesPerWallet = float64(slots) * float64(unsafe.Sizeof(ledger.Wallet{})) / float64(wallets)
		res.BytesPerWallet = res.PipelinePeakRSSMiB * (1 << 20) / float64(wallets)
	}
	o.Logf("rebuild: raw read of the events topic, then replay")
	if res.Rebuild, err = rebuild(ctx, bc, ro.Topics, s); err != nil {
		return nil, fmt.Errorf("rebuild: %w", err)
	}
	res.PeakRSSMiB = max(peakBefore, peakRSSMiB())
	return res, nil
}

func rebuild(ctx context.Context, bc bus.Config, topics bus.Topics, s *run.Summary) (Rebuild, error) {
	var r Rebuild
	if topics == (bus.Topics{}) {
		topics = bus.DefaultTopics("")
	}
	admin, err := bus.NewClient(bc)
	if err != nil {
		return r, err
	}
	parts, err := admin.Partitions(ctx, topics.Events)
	if err != nil {
		return r, err
	}
	first, next, err := admin.Offsets(ctx, topics.Events, parts)
	if err != nil {
		return r, err
	}
	// The raw read: the same batched fetch replay uses, all partitions in
	// parallel, touching each value and nothing more. A short read is
	// noisy, so the ceiling is the best of three, and so is replay.
	for try := 0; try < 3; try++ {
		rate, err := rawRead(ctx, bc, topics.Events, parts, first, next)
		if err != nil {
			return r, err
		}
		r.RawReadMsgsPerS = max(r.RawReadMsgsPerS, rate)
	}
	var rs, rr *replay.Result
	for try := 0; try < 3; try++ {
		a, err := replay.Rebuild(ctx, replay.Options{Bus: bc, Topics: topics, NoDigest: true})
		if err != nil {
			return r, err
		}
		if rs == nil || a.EventsPerS > rs.EventsPerS {
			rs = a
		}
	}
	rr, err = replay.Rebuild(ctx, replay.Options{Bus: bc, Topics: topics})
	if err != nil {
		return r, err
	}
	r.Events, r.EventsPerS, r.DigestEventsPerS = rs.Events, rs.EventsPerS, rr.EventsPerS
	if rs.StateDigest != rr.StateDigest {
		return r, fmt.Errorf("replay with and without the digest built different states")
	}
	if r.RawReadMsgsPerS > 0 {
		r.RatioToRawRead = r.EventsPerS / r.RawReadMsgsPerS
	}
	r.DigestMatches = rr.Digest == s.Events.Digest
	r.StateMatches = rr.StateDigest == s.Events.StateDigest
	if rr.Violations > 0 {
		return r, fmt.Errorf("replay found %d violations: %v", rr.Violations, rr.FirstErrors)
	}
	return r, nil
}

func rawRead(ctx context.Context, bc bus.Config, topic string, parts int, first, next []int64) (float64, error) {
	start := time.Now()
	var n atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for p := 0; p < parts; p++ {
		g.Go(func() error {
			var k, sum int64
			err := bus.Scan(gctx, bc, topic, p, first[p], next[p], func(_ int64, v []byte) error {
				k++
				sum += int64(len(v))
				return nil
			})
			n.Add(k)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

// ceiling produces n messages with the engine's writer settings, whole
// batches per call and one writer goroutine per partition (as the
// processors do), then reads them back with one reader per partition.
func ceiling(ctx context.Context, bc bus.Config, parts int, n int64, size int) (Ceiling, error) {
	c := Ceiling{Messages: n, MessageBytes: size}
	topic := "walletsim.bench.raw"
	admin, err := bus.NewClient(bc)
	if err != nil {
		return c, err
	}
	_ = admin.DeleteTopics(ctx, topic)
	if err := admin.EnsureTopics(ctx, parts, topic); err != nil {
		return c, err
	}
	// The same produce path the engine takes (bus.Producer: kafka-go's
	// Client.RawProduce, one request per partition batch, acks=all), so the ratio measures
	// walletsim's work and not a difference of clients.
	w, err := bus.NewProducer(bc, bus.ProducerConfig{})
	if err != nil {
		return c, err
	}
	defer w.Close()
	value := []byte(strings.Repeat("x", size))
	const batch = 5000
	per := n / int64(parts)
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for p := 0; p < parts; p++ {
		g.Go(func() error {
			msgs := make([]kafka.Message, 0, batch)
			count := per
			if p == parts-1 {
				count = n - per*int64(parts-1)
			}
			for i := int64(0); i < count; {
				msgs = msgs[:0]
				for ; len(msgs) < batch && i < count; i++ {
					msgs = append(msgs, kafka.Message{Topic: topic, Partition: p, Key: strconv.AppendInt(nil, i, 10), Value: value})
				}
				if err := w.Write(gctx, msgs); err != nil {
					return err
				}
			}
			return nil
		})
	}
	err = g.Wait()
	produce := time.Since(start)
	if err != nil {
		return c, err
	}
	_, next, err := admin.Offsets(ctx, topic, parts)
	if err != nil {
		return c, err
	}
	start = time.Now()
	var read atomic.Int64
	g, gctx = errgroup.WithContext(ctx)
	for p := 0; p < parts; p++ {
		g.Go(func() error {
			k := int64(0)
			err := bus.ReadRange(gctx, bc, topic, p, 0, next[p], func(kafka.Message) error { k++; return nil })
			read.Add(k)
			return err
		})
	}
	err = g.Wait()
	consume := time.Since(start)
	if err != nil {
		return c, err
	}
	if got := read.Load(); got != n {
		return c, fmt.Errorf("read back %d of %d messages", got, n)
	}
	c.ProduceMsgsPerS = float64(n) / produce.Seconds()
	c.ConsumeMsgsPerS = float64(n) / consume.Seconds()
	c.ProduceConsumeMsgsPerS = float64(n) / (produce + consume).Seconds()
	_ = admin.DeleteTopics(ctx, topic)
	return c, nil
}

// peakRSSMiB reads the process's high-water resident set (Linux).
// resetPeakRSS resets the kernel's peak resident set of this process to
// the current one (Linux 4.0+: "5" to /proc/self/clear_refs), so a later
// peakRSSMiB is the peak of what ran in between.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}
