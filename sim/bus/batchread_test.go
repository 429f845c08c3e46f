package bus

import (
	"os"
	"regexp"
	"testing"
)

// TestLinkedKafkaGo: the kafka-go that go.mod requires is the release
// whose internals batchread.go links to. A test binary records no module
// versions, so fastBatchRead cannot check this itself there; built
// binaries do, and fall back to ReadMessage on any other release.
func TestLinkedKafkaGo(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?github\.com/segmentio/kafka-go\s+(\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod does not require github.com/segmentio/kafka-go")
	}
	if string(m[1]) != linkedKafkaGo {
		t.Fatalf("go.mod requires kafka-go %s; batchread.go was checked against %s: check (*Batch).readMessage and errShortRead in the new release, then update linkedKafkaGo", m[1], linkedKafkaGo)
	}
	if regexp.MustCompile(`(?m)^\s*(?:replace\s+)?github\.com/segmentio/kafka-go\b.*=>`).Match(mod) {
		t.Fatal("go.mod replaces kafka-go: batchread.go's linkname is only checked against the released source")
	}
}
