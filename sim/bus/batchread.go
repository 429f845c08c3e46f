package bus

import (
	"bufio"
	"io"
	"runtime/debug"
	_ "unsafe" // go:linkname

	"github.com/segmentio/kafka-go"
)

// kafka-go's Batch has two public ways to read a record: Read, which
// copies the value into the caller's buffer without allocating but drops
// the key and the timestamp, and ReadMessage, which has both but allocates
// the key and the value of every record. The processors need all three
// (the key for dead letters, the timestamp for latency) and read every
// record of the run, so they call the method both are built on: it hands
// key and value to callbacks that read them straight off the connection's
// buffer into the reader's arena, and returns the record's offset and
// timestamp.
//
// A linkname is checked by nobody: a kafka-go whose readMessage has
// another signature would still link, and corrupt memory. So the fast
// path is only taken with the kafka-go version whose source it was
// checked against (linkedKafkaGo); any other build falls back to
// ReadMessage (two allocations a record, the same records), and
// TestLinkedKafkaGo fails until someone checks the new version.

//go:linkname batchReadMessage github.com/segmentio/kafka-go.(*Batch).readMessage
func batchReadMessage(b *kafka.Batch, key, val func(*bufio.Reader, int, int) (int, error)) (offset, timestamp int64, headers []kafka.Header, err error)

// errShortRead is kafka-go's sentinel for a record cut off by the end of
// a fetch response (the broker truncates at MaxBytes): readMessage
// recognises it from a callback and ends the batch cleanly.
//
//go:linkname errShortRead github.com/segmentio/kafka-go.errShortRead
var errShortRead error

// linkedKafkaGo is the kafka-go release whose (*Batch).readMessage and
// errShortRead the declarations above match (batch.go, read.go).
const linkedKafkaGo = "v0.4.51"

// fastBatchRead reports whether this binary links the kafka-go release
// the declarations were checked against.
var fastBatchRead = func() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	if len(bi.Deps) == 0 {
		// A test binary records no modules; TestLinkedKafkaGo checks
		// go.mod's kafka-go against linkedKafkaGo instead.
		return true
	}
	for _, m := range bi.Deps {
		if m.Path == "github.com/segmentio/kafka-go" {
			return m.Replace == nil && m.Version == linkedKafkaGo
		}
	}
	return false
}()

// readInto returns a readBytesFunc of kafka-go's: it appends the n bytes
// of a key or value (n < 0: null) to *arena and records where they are in
// *span (span[0] < 0: null). size is what is left of the fetch response
// (or of the decompressed batch), so n is checked against it before the
// arena grows: a corrupt length cannot make it allocate more than the
// response holds. The same contract as the value callback of Batch.Read.
func readInto(arena *[]byte, span *[2]int) func(*bufio.Reader, int, int) (int, error) {
	return func(r *bufio.Reader, size, n int) (int, error) {
		if n < 0 {
			span[0], span[1] = -1, -1
			return size, nil
		}
		if n > size {
			return size, errShortRead
		}
		a := *arena
		start := len(a)
		if cap(a)-start < n {
			g := make([]byte, start, 2*cap(a)+n)
			copy(g, a)
			a = g
		}
		a = a[:start+n]
		got, err := io.ReadFull(r, a[start:])
		*arena = a[:start+got]
		span[0], span[1] = start, start+got
		return size - got, err
	}
}
