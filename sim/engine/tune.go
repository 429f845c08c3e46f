package engine

import "time"

// SetWriterBatch changes how the engine's writer batches: how long it
// waits to fill a batch and how many messages one holds (kafkabus's
// defaults suit bulk runs). A latency-bound caller (serve: a person waits
// on each payment, and each epoch is a few dozen records) wants a short
// wait and small batches: kafka-go allocates and zeroes room for the full
// batch size on every batch, which at thousands of small batches a second
// costs more than the records. Zero keeps a setting. Call before Setup.
func (e *Engine) SetWriterBatch(timeout time.Duration, size int) {
	if timeout > 0 {
		e.w.BatchTimeout = timeout
		e.ctl.BatchTimeout = timeout
	}
	if size > 0 {
		e.w.BatchSize = size
	}
}
