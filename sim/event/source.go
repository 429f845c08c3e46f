package event

// Source is traffic: the generator, a recorded trace or the HTTP API's
// live requests. Declared once, here beside the command it yields, so the
// engine, the in-memory ledger and the calibration collector all take the
// same thing without importing each other.
type Source interface {
	// Epoch appends epoch e's commands to buf and reports whether e is the
	// last epoch.
	Epoch(e uint32, buf []Command) ([]Command, bool)
}
