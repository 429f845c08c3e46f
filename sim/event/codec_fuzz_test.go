package event_test

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/sim/event"
	"google.golang.org/protobuf/encoding/protowire"
)

// The fuzz targets of this file and of codec_test.go (FuzzDecodeEvent,
// FuzzDecodeCommand) run their seed corpora, testdata/fuzz/<target>, on
// every `go test`; .ci/fuzz.sh fuzzes each for a bounded time.

var updateSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite testdata/fuzz seed corpora of the codec fuzz targets")

// golden returns the encodings in testdata/encoding.golden ("event NAME
// HEX" or "command NAME HEX" lines): real records of every kind.
func golden(t testing.TB, kind string) [][]byte {
	f, err := os.Open(filepath.Join("testdata", "encoding.golden"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 3 && fs[0] == kind {
			b, err := hex.DecodeString(fs[2])
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %s lines in encoding.golden", kind)
	}
	return out
}

// hostile derives the records a broken or hostile producer writes from a
// valid one: cut short at every kind of boundary, a newer major version, a
// length prefix pointing past the end, a huge varint, a field of an
// unknown wire type.
func hostile(valid []byte) map[string][]byte {
	out := map[string][]byte{
		"empty":        {},
		"one-byte":     {0x08},
		"half":         valid[:len(valid)/2],
		"last-cut":     valid[:len(valid)-1],
		"overlong-len": append(append([]byte{}, valid...), 0xb2, 0x01, 0xff, 0xff, 0xff, 0x0f),
		"varint-11":    append(append([]byte{}, valid...), 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		"wire-type-7":  append(append([]byte{}, valid...), 0x7f),
		"text":         []byte(`{"type":"pay","amount":100}`),
	}
	v := protowire.AppendTag(nil, 1, protowire.VarintType)
	out["version-2"] = append(protowire.AppendVarint(v, uint64(event.Version+1)), valid[2:]...)
	return out
}

// writeSeeds writes a corpus directory in the `go test fuzz v1` format.
func writeSeeds(t *testing.T, target string, seeds map[string][]byte) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWriteFuzzSeeds regenerates the checked-in corpora with
// -update-fuzz-seeds; without it, it checks they exist.
func TestWriteFuzzSeeds(t *testing.T) {
	ev, cmd := golden(t, "event")[0], golden(t, "command")[0]
	targets := map[string]map[string][]byte{
		"FuzzDecodeEvent":   hostile(ev),
		"FuzzDecodeCommand": hostile(cmd),
		"FuzzEventValidate": hostile(ev),
	}
	targets["FuzzDecodeEvent"]["a-command"] = cmd // the wrong topic's record
	targets["FuzzDecodeCommand"]["an-event"] = ev
	if *updateSeeds {
		for target, seeds := range targets {
			writeSeeds(t, target, seeds)
		}
		return
	}
	for target, seeds := range targets {
		for name := range seeds {
			if _, err := os.Stat(filepath.Join("testdata", "fuzz", target, name)); err != nil {
				t.Errorf("seed corpus incomplete (run: go test -run TestWriteFuzzSeeds ./sim/event -args -update-fuzz-seeds): %v", err)
			}
		}
	}
}

// FuzzEventValidate: whatever a decoded event holds, Validate answers
// without panicking; an event it accepts re-encodes to an event that
// decodes and validates again.
func FuzzEventValidate(f *testing.F) {
	for _, b := range golden(f, "event") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var e, again event.Event
		if event.DecodeEvent(b, &e) != nil || e.Validate() != nil {
			return
		}
		if err := event.DecodeEvent(event.AppendEvent(nil, &e), &again); err != nil {
			t.Fatalf("a valid event does not decode after encoding: %v", err)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("a valid event is invalid after a round trip: %v", err)
		}
	})
}

// fill sets every field of the struct v points to from data, recursively
// (arrays, nested structs), so the round-trip targets cover fields added
// later without being edited. Missing data leaves zeros.
func fill(v reflect.Value, data []byte) []byte {
	take := func(n int) uint64 {
		var buf [8]byte
		k := copy(buf[:n], data)
		data = data[k:]
		return binary.LittleEndian.Uint64(buf[:])
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			data = fill(v.Field(i), data)
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			data = fill(v.Index(i), data)
		}
	case reflect.Bool:
		v.SetBool(take(1)&1 == 1)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(take(int(v.Type().Size())))
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(take(int(v.Type().Size()))) << (64 - 8*v.Type().Size()) >> (64 - 8*v.Type().Size()))
	}
	return data
}

// FuzzEventRoundTrip: any event the engine could build (every field any
// value, legs within MaxPostings) encodes to bytes that decode to the same
// event, or that the decoder refuses without panicking; a valid event is
// never refused.
func FuzzEventRoundTrip(f *testing.F) {
	for _, b := range golden(f, "event") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e event.Event
		fill(reflect.ValueOf(&e).Elem(), data)
		// The encoder writes Postings[:NPostings]; slots past it are not
		// part of the event.
		e.NPostings %= event.MaxPostings + 1
		for i := int(e.NPostings); i < event.MaxPostings; i++ {
			e.Postings[i] = event.Posting{}
		}
		var got event.Event
		err := event.DecodeEvent(event.AppendEvent(nil, &e), &got)
		if err != nil {
			if e.Validate() == nil {
				t.Fatalf("valid event refused after encoding: %v\n%+v", err, e)
			}
			return
		}
		if got != e {
			t.Fatalf("round trip changed the event:\n in %+v\nout %+v", e, got)
		}
	})
}

// FuzzCommandRoundTrip is FuzzEventRoundTrip for commands.
func FuzzCommandRoundTrip(f *testing.F) {
	for _, b := range golden(f, "command") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c event.Command
		fill(reflect.ValueOf(&c).Elem(), data)
		c.NCandidates %= event.MaxCandidates + 1
		for i := int(c.NCandidates); i < event.MaxCandidates; i++ {
			c.Candidates[i] = 0
		}
		var got event.Command
		err := event.DecodeCommand(event.AppendCommand(nil, &c), &got)
		if err != nil {
			if c.Validate() == nil {
				t.Fatalf("valid command refused after encoding: %v\n%+v", err, c)
			}
			return
		}
		if got != c {
			t.Fatalf("round trip changed the command:\n in %+v\nout %+v", c, got)
		}
	})
}
