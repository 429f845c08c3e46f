package bus

import (
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// SetTopicWait shortens how long topic creation and deletion are awaited.
func SetTopicWait(d time.Duration) (restore func()) {
	old := topicVisibleWait
	topicVisibleWait = d
	return func() { topicVisibleWait = old }
}

// BatchLen is batchLen over a slice.
func BatchLen(msgs []kafka.Message, maxCount int, maxBytes int64) int {
	n, _ := batchLen(len(msgs), func(i int) *kafka.Message { return &msgs[i] }, maxCount, maxBytes)
	return n
}

// SetIdleCheck changes how long a PartitionReader waits for a record
// before it checks the partition's end.
func SetIdleCheck(d time.Duration) (restore func()) {
	old := idleCheck
	idleCheck = d
	return func() { idleCheck = old }
}

// Dials is how many connections the reader has made.
func (p *PartitionReader) Dials() int { return p.dials }

// Group is group's split of msgs, one "topic/partition: indexes" a group.
func Group(msgs []kafka.Message) []string {
	order, groups := group(msgs)
	out := make([]string, len(order))
	for i, k := range order {
		out[i] = fmt.Sprintf("%s/%d: %v", k.topic, k.part, groups[i])
	}
	return out
}
