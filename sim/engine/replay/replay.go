// Package replay rebuilds every wallet from the event log at full speed:
// partitions in parallel, each read with batched fetches, each event
// applied with the ledger's own Apply (which checks sequence numbers and
// the balance each event claims). It computes the same digest as the
// audit, plus a digest of the final state, so a replay can be checked
// against the run that wrote the log. Snapshots let a later replay start
// where the last one stopped.
package replay

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"golang.org/x/sync/errgroup"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/ledger"
)

// Options configure a replay.
type Options struct {
	Bus    bus.Config
	Topics bus.Topics
	// SnapshotDir, if set, is read at start (resume from the snapshots
	// there) and written at the end.
	SnapshotDir string
	// Parallel bounds partitions replayed at once (default: all).
	Parallel int
	// NoDigest skips the per-wallet hash chain: state is rebuilt and
	// checked event by event all the same, but the log digest (a SHA-256
	// per event) is not computed. Snapshots written without it carry no
	// chains and cannot seed a digest later.
	NoDigest bool
}

// Result is what a replay found.
type Result struct {
	Partitions  int     `json:"partitions"`
	Events      int64   `json:"events"`     // events applied by this replay
	Duplicates  int64   `json:"duplicates"` // re-appended events skipped
	Wallets     int64   `json:"wallets"`
	Digest      string  `json:"digest"`       // same definition as the audit's
	StateDigest string  `json:"state_digest"` // sha256 over (id, balance, seq) of every wallet
	DurationS   float64 `json:"duration_s"`
	EventsPerS  float64 `json:"events_per_s"`
	Resumed     int64   `json:"resumed_from_snapshot_events"` // events covered by snapshots
	// Violations: events Apply refused (bad seq, a balance the replay does
	// not reproduce) or whose legs do not balance. Zero on a sound log.
	Violations  int64    `json:"violations"`
	FirstErrors []string `json:"first_errors,omitempty"`

	Books map[int]*ledger.Book `json:"-"`
}

type partResult struct {
	book       *ledger.Book
	chains     [][32]byte
	events     int64
	dups       int64
	violations int64
	resumed    int64
	errs       []string
}

func (o *Options) setDefaults() {
	if o.Topics == (bus.Topics{}) {
		o.Topics = bus.DefaultTopics("")
	}
}

// Validate reports options a replay cannot use.
func (o *Options) Validate() error {
	if len(o.Bus.Brokers) == 0 {
		return errors.New("replay: no brokers: a replay reads an existing log (--brokers)")
	}
	if o.Parallel < 0 {
		return fmt.Errorf("replay: parallel %d is negative", o.Parallel)
	}
	return nil
}

// Rebuild replays the events topic.
func Rebuild(ctx context.Context, o Options) (*Result, error) {
	o.setDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	admin, err := bus.NewClient(o.Bus)
	if err != nil {
		return nil, err
	}
	parts, err := admin.Partitions(ctx, o.Topics.Events)
	if err != nil {
		return nil, err
	}
	if parts == 0 {
		return nil, fmt.Errorf("topic %s does not exist: nothing to replay", o.Topics.Events)
	}
	first, next, err := admin.Offsets(ctx, o.Topics.Events, parts)
	if err != nil {
		return nil, err
	}
	if o.Parallel <= 0 {
		o.Parallel = parts
	}
	start := time.Now()
	results := make([]*partResult, parts)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Parallel)
	for p := 0; p < parts; p++ {
		g.Go(func() error {
			r, err := rebuildPartition(gctx, o, p, parts, first[p], next[p])
			results[p] = r
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	res := &Result{Partitions: parts, Books: map[int]*ledger.Book{}}
	for p, r := range results {
		res.Events += r.events
		res.Duplicates += r.dups
		res.Violations += r.violations
		res.Resumed += r.resumed
		res.Books[p] = r.book
		if len(res.FirstErrors) < 10 {
			res.FirstErrors = append(res.FirstErrors, r.errs...)
		}
	}
	res.DurationS = time.Since(start).Seconds()
	if res.DurationS > 0 {
		res.EventsPerS = float64(res.Events) / res.DurationS
	}
	res.Digest, res.StateDigest, res.Wallets = digests(results, parts)
	if o.NoDigest {
		res.Digest = ""
	}
	if o.SnapshotDir != "" {
		for p, r := range results {
			if err := writeSnapshot(o.SnapshotDir, p, r, next[p]); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

func rebuildPartition(ctx context.Context, o Options, p, parts int, from, to int64) (*partResult, error) {
	r := &partResult{book: ledger.NewBook(p, parts, nil, nil, 0)}
	if o.SnapshotDir != "" {
		off, err := readSnapshot(o.SnapshotDir, p, r)
		switch {
		case err == nil:
			r.resumed = off - from
			from = off
		case errors.Is(err, os.ErrNotExist):
		default:
			return nil, err
		}
	}
	var ev event.Event
	err := bus.Scan(ctx, o.Bus, o.Topics.Events, p, from, to, func(off int64, v []byte) error {
		if err := event.DecodeEvent(v, &ev); err != nil {
			r.violation(fmt.Sprintf("events[%d]@%d: %v", p, off, err))
			return nil
		}
		if r.book.Seq(ev.Wallet) >= ev.Seq {
			r.dups++
			return nil
		}
		var sums [sim.NumCurrencies]int64
		for _, l := range ev.Legs() {
			if l.Currency < sim.NumCurrencies {
				sums[l.Currency] += l.Amount
			}
		}
		if sums != [sim.NumCurrencies]int64{} {
			r.violation(fmt.Sprintf("events[%d]@%d: legs do not balance", p, off))
		}
		if err := r.book.Apply(&ev); err != nil {
			r.violation(fmt.Sprintf("events[%d]@%d: %v", p, off, err))
			return nil
		}
		r.events++
		if o.NoDigest {
			return nil
		}
		slot := int(ev.Wallet / uint64(parts))
		if slot >= len(r.chains) {
			r.chains = append(r.chains, make([][32]byte, slot+1-len(r.chains)+len(r.chains)/2)...)
		}
		r.chains[slot] = chain(r.chains[slot], v)
		return nil
	})
	return r, err
}

func (r *partResult) violation(s string) {
	r.violations++
	if len(r.errs) < 3 {
		r.errs = append(r.errs, s)
	}
}

var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// chain is the audit's per-wallet hash chain: sha256(previous || event).
func chain(prev [32]byte, raw []byte) [32]byte {
	bp := scratch.Get().(*[]byte)
	b := append(append((*bp)[:0], prev[:]...), raw...)
	h := sha256.Sum256(b)
	*bp = b
	scratch.Put(bp)
	return h
}

// digests combines per-wallet chains in ascending wallet ID, exactly as
// the audit does, and hashes the final state.
func digests(rs []*partResult, parts int) (digest, state string, wallets int64) {
	h, s := sha256.New(), sha256.New()
	var id [8]byte
	var rec [24]byte
	maxSlots := 0
	for _, r := range rs {
		maxSlots = max(maxSlots, r.book.Len())
	}
	for slot := 0; slot < maxSlots; slot++ {
		for p := 0; p < parts; p++ {
			w := uint64(slot)*uint64(parts) + uint64(p)
			r := rs[p]
			wl := r.book.Wallet(w)
			if wl == nil || wl.Seq == 0 {
				continue
			}
			wallets++
			binary.BigEndian.PutUint64(id[:], w)
			h.Write(id[:])
			var c [32]byte
			if slot < len(r.chains) {
				c = r.chains[slot]
			}
			h.Write(c[:])
			binary.BigEndian.PutUint64(rec[0:], w)
			binary.BigEndian.PutUint64(rec[8:], uint64(wl.Balance))
			binary.BigEndian.PutUint64(rec[16:], wl.Seq)
			s.Write(rec[:])
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), "sha256:" + hex.EncodeToString(s.Sum(nil)), wallets
}

// StateDigest hashes (id, balance, seq) of every open wallet of the books
// in ascending ID: the same definition Rebuild reports, for comparing a
// run's in-memory state with a replay of its log.
func StateDigest(books map[int]*ledger.Book, parts int) string {
	rs := make([]*partResult, parts)
	for p := range rs {
		b := books[p]
		if b == nil {
			b = ledger.NewBook(p, parts, nil, nil, 0)
		}
		rs[p] = &partResult{book: b}
	}
	_, state, _ := digests(rs, parts)
	return state
}

func snapPath(dir string, p int) string {
	return filepath.Join(dir, fmt.Sprintf("partition-%04d.snap", p))
}

func writeSnapshot(dir string, p int, r *partResult, offset int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := snapPath(dir, p) + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	err = r.book.WriteSnapshot(f, offset)
	if err == nil {
		chains := r.chains
		if len(chains) < r.book.Len() {
			chains = append(chains, make([][32]byte, r.book.Len()-len(chains))...)
		}
		err = binary.Write(f, binary.LittleEndian, chains[:r.book.Len()])
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("snapshot %d: %w", p, err)
	}
	// Rename last: a crash mid-write leaves the previous snapshot intact.
	return os.Rename(tmp, snapPath(dir, p))
}

func readSnapshot(dir string, p int, r *partResult) (int64, error) {
	f, err := os.Open(snapPath(dir, p))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	// One buffered reader for both parts: ReadSnapshot reuses it rather
	// than buffering past the wallets.
	br := bufio.NewReaderSize(f, 1<<20)
	off, err := r.book.ReadSnapshot(br)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", snapPath(dir, p), err)
	}
	r.chains = make([][32]byte, r.book.Len())
	if err := binary.Read(br, binary.LittleEndian, r.chains); err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("%s: chains: %w", snapPath(dir, p), err)
	}
	return off, nil
}
