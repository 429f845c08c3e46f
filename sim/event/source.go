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

// PartSource is an optional Source method for epochs too big to hold at
// once: the generator's epoch 0 opens every wallet, ten million commands
// (two gigabytes of Command) at xlarge. EpochPart appends at most n of
// epoch e's commands, from its i-th on, to buf; it returns the index to ask
// for next, or -1 once the epoch is complete, and whether e is the last
// epoch. Asking from 0 with n large enough gives what Epoch gives.
type PartSource interface {
	Source
	EpochPart(e uint32, i, n int, buf []Command) (out []Command, next int, last bool)
}

// Parts yields epoch e of src in parts of at most n commands: through
// EpochPart where src has it, else the whole epoch as one part.
func Parts(src Source, e uint32, i, n int, buf []Command) (out []Command, next int, last bool) {
	if ps, ok := src.(PartSource); ok {
		return ps.EpochPart(e, i, n, buf)
	}
	if i > 0 {
		return buf, -1, false
	}
	out, last = src.Epoch(e, buf)
	return out, -1, last
}

// Sized is an optional Source method: how many wallets the source opens
// (IDs 1 to it), so the engine and the audit can make room for them at
// once rather than grow by doubling.
type Sized interface{ Wallets() int64 }

// WalletsOf is src's wallet count, or 0 when it does not say.
func WalletsOf(src Source) int64 {
	if s, ok := src.(Sized); ok {
		return s.Wallets()
	}
	return 0
}
