package audit

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cespare/xxhash/v2"
)

// DefaultStreamEvery is how many events of a partition one window of
// stream hashes covers: 8 partitions of a 200k-payment run record about
// 20 windows each, a 10M-payment run about a thousand (a few tens of KB
// of summary.json).
const DefaultStreamEvery = 4096

// Streams records rolling hashes of each partition's event stream: every
// Every events it notes the hash of everything the partition held so far
// and the log offset that ended the window. Two runs whose digests differ
// can then be compared window by window to find where they part without
// reading either log; the offsets say where to start reading when the
// logs are reachable.
//
// The stream is what the audit accepted, in log order: duplicates and
// undecodable records are left out, so a run that suffered redeliveries
// hashes like a clean one. The hash is xxhash64 (not cryptographic: the
// digest is the proof, these only locate a difference) over each event's
// bytes, streamed, so the hash at n events depends on the first n events
// only and runs with different Every still compare at common boundaries.
type Streams struct {
	Every int
	parts []*stream
}

type stream struct {
	d       *xxhash.Digest
	n       int64
	windows []StreamWindow
	first   int64
	last    int64
}

// NewStreams returns a recorder for parts partitions (more are added as
// seen); every <= 0 takes DefaultStreamEvery.
func NewStreams(parts, every int) *Streams {
	if every <= 0 {
		every = DefaultStreamEvery
	}
	s := &Streams{Every: every}
	for p := 0; p < parts; p++ {
		s.part(p)
	}
	return s
}

func (s *Streams) part(p int) *stream {
	for len(s.parts) <= p {
		s.parts = append(s.parts, &stream{d: xxhash.New(), first: -1, last: -1})
	}
	return s.parts[p]
}

// Add records one accepted event of partition p at log offset off.
func (s *Streams) Add(p int, off int64, raw []byte) {
	if p < 0 {
		return
	}
	st := s.part(p)
	var n [4]byte
	// A length prefix keeps event boundaries in the hash: two streams
	// whose bytes concatenate alike but split differently stay apart.
	binary.BigEndian.PutUint32(n[:], uint32(len(raw)))
	st.d.Write(n[:])
	st.d.Write(raw)
	st.n++
	if st.first < 0 {
		st.first = off
	}
	st.last = off
	if st.n%int64(s.Every) == 0 {
		st.windows = append(st.windows, StreamWindow{Events: st.n, Offset: off, Hash: hex64(st.d.Sum64())})
	}
}

// Summary is the recorder's state as summary.json holds it.
func (s *Streams) Summary() *StreamHashes {
	out := &StreamHashes{Every: s.Every, Partitions: make([]PartitionStream, len(s.parts))}
	for p, st := range s.parts {
		out.Partitions[p] = PartitionStream{
			Partition: p, Events: st.n, FirstOffset: st.first, LastOffset: st.last,
			Hash: hex64(st.d.Sum64()), Windows: append([]StreamWindow{}, st.windows...),
		}
	}
	return out
}

func hex64(v uint64) string { return fmt.Sprintf("%016x", v) }

// StreamHashes is summary.json's stream_hashes: per partition, the hash
// of its accepted event stream at every Every events and at its end.
type StreamHashes struct {
	Every      int               `json:"every"`
	Partitions []PartitionStream `json:"partitions"`
	// Log says where the log lives, when a later `walletsim diff` can
	// reach it (an embedded broker's --data dir, or a cluster's topics).
	Log *LogLocation `json:"log,omitempty"`
}

// LogLocation names a run's log.
type LogLocation struct {
	// DataDir is the embedded broker's data directory (kept after the run).
	DataDir string `json:"data_dir,omitempty"`
	// Brokers is an external cluster's bootstrap list.
	Brokers []string `json:"brokers,omitempty"`
	// Events and Commands are the topic names.
	Events    string `json:"events"`
	Commands  string `json:"commands"`
	Transfers string `json:"transfers,omitempty"` // saga steps between partitions
}

// PartitionStream is one partition's hashes.
type PartitionStream struct {
	Partition   int            `json:"partition"`
	Events      int64          `json:"events"`
	FirstOffset int64          `json:"first_offset"`
	LastOffset  int64          `json:"last_offset"`
	Hash        string         `json:"hash"`
	Windows     []StreamWindow `json:"windows"`
}

// StreamWindow is the stream's hash after its first Events events; Offset
// is the log offset of the last of them.
type StreamWindow struct {
	Events int64  `json:"events"`
	Offset int64  `json:"offset"`
	Hash   string `json:"hash"`
}

// Divergence is where two recorded streams part.
type Divergence struct {
	Partition int
	// After is how many events of the partition both streams share for
	// certain (a window boundary); the first difference lies after it and
	// no later than Before events (0: the stream's end).
	After, Before int64
	// OffsetA and OffsetB are the log offsets of the last shared event
	// (-1: from the partition's start).
	OffsetA, OffsetB int64
	// EventsA and EventsB are the partitions' event counts.
	EventsA, EventsB int64
}

// ErrIncomparable means the two recordings cannot be compared window by
// window (different partition counts, or no recording).
var ErrIncomparable = errors.New("stream hashes are not comparable")

// FirstDivergence compares two recordings and returns the lowest
// partition whose stream differs, narrowed to the last window boundary the
// two share, or nil when every partition's stream is the same.
func FirstDivergence(a, b *StreamHashes) (*Divergence, error) {
	if a == nil || b == nil {
		return nil, fmt.Errorf("%w: a run recorded no stream_hashes (summary.json from an older walletsim?)", ErrIncomparable)
	}
	if len(a.Partitions) != len(b.Partitions) {
		return nil, fmt.Errorf("%w: %d partitions against %d (per-partition streams compare runs with the same partition count)", ErrIncomparable, len(a.Partitions), len(b.Partitions))
	}
	for p := range a.Partitions {
		pa, pb := &a.Partitions[p], &b.Partitions[p]
		if pa.Events == pb.Events && pa.Hash == pb.Hash {
			continue
		}
		d := &Divergence{Partition: p, OffsetA: -1, OffsetB: -1, EventsA: pa.Events, EventsB: pb.Events}
		// Windows at the same event count compare; the hash at n events
		// covers the first n only, so the last equal one bounds the
		// shared prefix and the first unequal one the difference.
		bw := map[int64]StreamWindow{}
		for _, w := range pb.Windows {
			bw[w.Events] = w
		}
		for _, wa := range pa.Windows {
			wb, ok := bw[wa.Events]
			if !ok {
				continue
			}
			if wa.Hash != wb.Hash {
				d.Before = wa.Events
				break
			}
			d.After, d.OffsetA, d.OffsetB = wa.Events, wa.Offset, wb.Offset
		}
		return d, nil
	}
	return nil, nil
}

// Seq is the last sequence number the audit accepted for wallet id (0:
// none). A caller that compares it before and after Event learns whether
// the audit took the event or set it aside as a duplicate or a bad record.
func (a *Auditor) Seq(id uint64) uint64 {
	if id < uint64(len(a.wallets)) {
		return a.wallets[id].seq
	}
	if w := a.far[id]; w != nil {
		return w.seq
	}
	return 0
}
