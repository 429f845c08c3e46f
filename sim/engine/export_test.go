package engine

// SetWriteAttempts sets how many times a produce request is sent before the
// writer gives up (tests of the no-drop rule); it returns a restore func.
func SetWriteAttempts(n int) func() {
	old := writeAttempts
	writeAttempts = n
	return func() { writeAttempts = old }
}

// SetStreamFlush sets how many records a streamed epoch 0 holds before it
// writes them; it returns a restore func.
func SetStreamFlush(n int) func() {
	old := streamFlush
	streamFlush = n
	return func() { streamFlush = old }
}
