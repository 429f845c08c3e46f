package bus

import "time"

// SetTopicWait shortens how long topic creation and deletion are awaited.
func SetTopicWait(d time.Duration) (restore func()) {
	old := topicVisibleWait
	topicVisibleWait = d
	return func() { topicVisibleWait = old }
}

// BatchLen exposes batchLen to the tests.
var BatchLen = batchLen
