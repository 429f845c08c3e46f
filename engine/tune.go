package engine

import "time"

// SetBatchTimeout changes how long the engine's writer waits to fill a
// batch before sending it (kafkabus.NewWriter's default suits bulk runs).
// A latency-bound caller (serve: a person waits on each payment) trades
// fewer, larger produce requests for a shorter wait. Call it before Setup.
func (e *Engine) SetBatchTimeout(d time.Duration) {
	if d > 0 {
		e.w.BatchTimeout = d
	}
}
