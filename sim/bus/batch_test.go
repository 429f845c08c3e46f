package bus

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
)

// kafkaGoBatch is what kafka-go's own encoder makes of msgs: the bytes
// Client.Produce sent before the producer encoded its batches itself.
func kafkaGoBatch(t testing.TB, msgs []kafka.Message) []byte {
	t.Helper()
	recs := make([]kafka.Record, len(msgs))
	for i, m := range msgs {
		recs[i] = kafka.Record{Time: m.Time, Headers: m.Headers}
		if m.Key != nil {
			recs[i].Key = protocol.NewBytes(m.Key)
		}
		if m.Value != nil {
			recs[i].Value = protocol.NewBytes(m.Value)
		}
	}
	rs := protocol.RecordSet{Version: 2, Records: protocol.NewRecordReader(recs...)}
	var buf bytes.Buffer
	if _, err := rs.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// firstTimestamp reads a record set's first timestamp: the "now" kafka-go
// gave a first record without a time.
func firstTimestamp(set []byte) int64 {
	return int64(binary.BigEndian.Uint64(set[4+27:]))
}

func ours(msgs []kafka.Message, now int64) []byte {
	return appendBatch(nil, len(msgs), func(i int) *kafka.Message { return &msgs[i] }, now)
}

// TestAppendBatchMatchesKafkaGo: the producer's record sets are byte for
// byte kafka-go's, for the records the engine writes (a wallet key, a
// value, no time) and for what a user's topic may hold (no key, an empty
// value, headers with and without values, times out of order, before
// 1970, at the epoch).
func TestAppendBatchMatchesKafkaGo(t *testing.T) {
	at := func(ms int64) time.Time { return time.UnixMilli(ms) }
	big := bytes.Repeat([]byte("v"), 70_000) // a three-byte length varint
	cases := []struct {
		name string
		msgs []kafka.Message
	}{
		{"engine events, no time", []kafka.Message{
			{Key: []byte("123456"), Value: []byte{0x08, 0x01, 0x10, 0x02}},
			{Key: []byte("7"), Value: []byte{0x08, 0x03}},
		}},
		{"one record", []kafka.Message{{Value: []byte("x")}}},
		{"commands with times", []kafka.Message{
			{Key: []byte("1"), Value: []byte("a"), Time: at(1_780_000_000_123)},
			{Key: []byte("2"), Value: []byte("b"), Time: at(1_780_000_000_100)}, // earlier: a negative delta
			{Key: []byte("3"), Value: []byte("c"), Time: at(1_780_000_099_999)},
		}},
		{"nil and empty", []kafka.Message{
			{Key: nil, Value: nil, Time: at(5)},
			{Key: []byte{}, Value: []byte{}, Time: at(6)},
		}},
		{"headers", []kafka.Message{
			{Key: []byte("k"), Value: []byte("v"), Time: at(1_000), Headers: []kafka.Header{
				{Key: "walletsim.reason", Value: []byte("decode: truncated")},
				{Key: "empty", Value: []byte{}},
				{Key: "none", Value: nil},
				{Key: "", Value: []byte("x")},
			}},
		}},
		{"before 1970", []kafka.Message{
			{Value: []byte("a"), Time: time.Unix(-1, 500_000)},
			{Value: []byte("b"), Time: time.Unix(-86_400*365, 0)},
		}},
		{"a large value", []kafka.Message{{Key: []byte("9"), Value: big, Time: at(2_000)}}},
		{"first without a time", []kafka.Message{
			{Value: []byte("a")},
			{Value: []byte("b"), Time: at(1_780_000_000_000)},
			{Value: []byte("c"), Time: time.UnixMicro(300)}, // rounds to 0 ms: none
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := kafkaGoBatch(t, c.msgs)
			got := ours(c.msgs, firstTimestamp(want))
			if !bytes.Equal(got, want) {
				t.Fatalf("record set differs from kafka-go's:\n got %x\nwant %x", got, want)
			}
		})
	}
}

// TestAppendBatchAppends: a batch appended after other bytes is the same
// batch (the producer reuses one buffer for every request).
func TestAppendBatchAppends(t *testing.T) {
	msgs := []kafka.Message{{Key: []byte("1"), Value: []byte("abc"), Time: time.UnixMilli(42)}}
	prefix := []byte("previous request")
	got := appendBatch(append([]byte(nil), prefix...), 1, func(i int) *kafka.Message { return &msgs[i] }, 0)
	if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], ours(msgs, 0)) {
		t.Fatalf("appended batch differs: %x", got)
	}
}

// FuzzAppendBatch holds the encoder to kafka-go's on any records, and
// kafka-go's decoder reads back what went in.
func FuzzAppendBatch(f *testing.F) {
	f.Add([]byte("123"), []byte("value"), int64(1_780_000_000_000), "h", []byte("hv"), uint8(3))
	f.Add([]byte(nil), []byte(nil), int64(0), "", []byte(nil), uint8(1))
	f.Add([]byte{}, bytes.Repeat([]byte{0xff}, 300), int64(-5), "x", []byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, key, value []byte, ms int64, hk string, hv []byte, n uint8) {
		ms %= 1 << 50 // a time.Time's UnixNano range
		count := int(n%8) + 1
		msgs := make([]kafka.Message, count)
		for i := range msgs {
			msgs[i] = kafka.Message{Key: key, Value: value}
			if i%2 == 1 {
				msgs[i].Time = time.UnixMilli(ms + int64(i)*7 - 3)
			}
			if n&0x80 != 0 {
				msgs[i].Headers = []kafka.Header{{Key: hk, Value: hv}}
			}
		}
		want := kafkaGoBatch(t, msgs)
		got := ours(msgs, firstTimestamp(want))
		if !bytes.Equal(got, want) {
			t.Fatalf("record set differs from kafka-go's:\n got %x\nwant %x", got, want)
		}
		var rs protocol.RecordSet
		if _, err := rs.ReadFrom(bytes.NewReader(got)); err != nil {
			t.Fatalf("kafka-go cannot read the batch back: %v", err)
		}
		i := 0
		for {
			r, err := rs.Records.ReadRecord()
			if err != nil {
				break
			}
			if r.Offset != int64(i) {
				t.Fatalf("record %d: offset %d", i, r.Offset)
			}
			i++
		}
		if i != count {
			t.Fatalf("read back %d records, wrote %d", i, count)
		}
	})
}

// engineRecords is a request of events as a processor writes them: a
// wallet key, a value of about 90 bytes, no time.
func engineRecords(n int) []kafka.Message {
	msgs := make([]kafka.Message, n)
	for i := range msgs {
		msgs[i] = kafka.Message{Key: []byte("1234567"), Value: bytes.Repeat([]byte{byte(i)}, 90)}
	}
	return msgs
}

// BenchmarkAppendBatch against BenchmarkKafkaGoBatch: the cost of
// encoding a 1,000-record request, ours and kafka-go's.
func BenchmarkAppendBatch(b *testing.B) {
	msgs := engineRecords(1000)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendBatch(buf[:0], len(msgs), func(i int) *kafka.Message { return &msgs[i] }, 1)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/record")
}

func BenchmarkKafkaGoBatch(b *testing.B) {
	msgs := engineRecords(1000)
	recs := make([]kafka.Record, len(msgs))
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		for i := range msgs {
			recs[i] = kafka.Record{Key: protocol.NewBytes(msgs[i].Key), Value: protocol.NewBytes(msgs[i].Value)}
		}
		rs := protocol.RecordSet{Version: 2, Records: protocol.NewRecordReader(recs...)}
		buf.Reset()
		if _, err := rs.WriteTo(&buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/record")
}
