package ledger

// Peek returns a copy of wallet id's state as this book holds it (the zero
// Wallet when it holds none): with Restore, how the engine takes back a
// command whose handling panicked half way.
func (b *Book) Peek(id uint64) Wallet {
	if id%b.stride != b.part {
		return Wallet{}
	}
	if s := id / b.stride; s < uint64(len(b.wallets)) {
		return b.wallets[s]
	}
	if w := b.far[id]; w != nil {
		return *w
	}
	return Wallet{}
}

// Restore puts back a state Peek returned. It touches only a slot that
// exists: a wallet the book never held stays absent.
func (b *Book) Restore(id uint64, w Wallet) {
	if id%b.stride != b.part {
		return
	}
	if s := id / b.stride; s < uint64(len(b.wallets)) {
		b.wallets[s] = w
		return
	}
	if f := b.far[id]; f != nil {
		if w == (Wallet{}) {
			delete(b.far, id)
			return
		}
		*f = w
	}
}
