package ledger

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/route"
)

// Sink receives what handling a command produces. Both pointers are only
// valid during the call: the sink must encode or copy them at once.
type Sink interface {
	// Event is a new event of this book's partition, already applied.
	Event(e *event.Event)
	// Send is a saga command for another wallet, due next epoch.
	Send(c *event.Command)
}

// ErrUnknownWallet is returned for a command addressed to a wallet that was
// never opened: nothing can be appended to a wallet that does not exist, so
// the engine dead-letters the command.
var ErrUnknownWallet = errors.New("unknown wallet")

// Book is the set of wallets one partition's processor owns. Wallet IDs are
// assigned to partitions by ID modulo the partition count, so a wallet's
// slot is its ID divided by that count: no map, no hashing.
type Book struct {
	stride  uint64
	part    uint64
	wallets []Wallet
	// far holds wallets whose slot lies well past the dense slice: an ID
	// from a sparse trace or a hostile command (up to event.MaxWalletID)
	// must not make the slice grow to gigabytes. Sequential IDs never
	// land here.
	far    map[uint64]*Wallet
	limits *[sim.NumClasses]sim.Limits
	routes *route.Table
	seed   uint64
	clock  Clock
	ev     event.Event   // scratch, reused for every event
	out    event.Command // scratch, reused for every saga command
}

// NewBook returns an empty book for partition part of parts.
func NewBook(part, parts int, routes *route.Table, limits *[sim.NumClasses]sim.Limits, seed uint64) *Book {
	if limits == nil {
		limits = &sim.DefaultLimits
	}
	return &Book{stride: uint64(parts), part: uint64(part), routes: routes, limits: limits, seed: seed}
}

// Reserve makes room for the partition's share of wallets 1 to n at once,
// as the run knows how many it opens (grown by doubling, a big book would
// hold room for up to twice its wallets, and both arrays while copying).
func (b *Book) Reserve(n int) {
	slots := n/int(b.stride) + 1
	if slots > cap(b.wallets) {
		grown := make([]Wallet, len(b.wallets), slots)
		copy(grown, b.wallets)
		b.wallets = grown
	}
}

// Clock maps simulated time to epochs. Epoch 0 opens wallets; epoch e >= 1
// covers [Start+(e-1)*Length, Start+e*Length) in unix milliseconds.
//
// DayMS, when set, is the length of a holder's day in simulated time: a
// scenario whose wallets are a sample of a market carrying its rate lives
// each holder's day faster than the clock (scenario population
// payments_per_day), and daily and yearly limits count those days, so
// they reset as often as the holders' own days do. 0: the civil day
// (China Standard Time).
type Clock struct {
	Start  int64
	Length int64
	DayMS  int64
}

// Day is the limit-counting day of simulated time t.
func (c Clock) Day(t int64) int32 {
	if c.DayMS > 0 {
		return int32(max(t-c.Start, 0) / c.DayMS)
	}
	return SimDay(t)
}

// Year is the limit-counting year of t: 365 holder days when DayMS is set,
// the first of them starting as many holder days before Start as the
// scenario's date is into its civil year (YearDay), so a run dated in July
// starts with half a limit year behind it, as its wallets' year-to-date
// counters do (sim/gen history).
func (c Clock) Year(t int64) int16 {
	if c.DayMS > 0 {
		return int16((int64(c.Day(t)) + int64(YearDay(c.Start))) / 365)
	}
	return SimYear(t)
}

// EpochOf returns the epoch of simulated time t.
func (c Clock) EpochOf(t int64) uint32 {
	if t < c.Start || c.Length <= 0 {
		return 1
	}
	return uint32(1 + (t-c.Start)/c.Length)
}

// StartOf returns the first millisecond of epoch e.
func (c Clock) StartOf(e uint32) int64 {
	if e == 0 {
		return c.Start
	}
	return c.Start + int64(e-1)*c.Length
}

// SetClock sets the epoch clock saga steps are timed by.
func (b *Book) SetClock(c Clock) { b.clock = c }

// next readies b.out as a saga step of c due next epoch, at that epoch's
// start: it happens after everything its sender did.
func (b *Book) next(c *event.Command, t event.CommandType) *event.Command {
	o := &b.out
	*o = *c
	o.Type = t
	o.Epoch = c.Epoch + 1
	o.SimTime = b.clock.StartOf(o.Epoch)
	return o
}

// Partition maps a wallet ID to its partition.
func Partition(wallet uint64, parts int) int { return int(wallet % uint64(parts)) }

// Wallet returns the state of wallet id, or nil when the book has never
// seen it.
func (b *Book) Wallet(id uint64) *Wallet {
	if id%b.stride != b.part {
		return nil
	}
	s := id / b.stride
	if s >= uint64(len(b.wallets)) {
		if w := b.far[id]; w != nil && w.Open {
			return w
		}
		return nil
	}
	if !b.wallets[s].Open {
		return nil
	}
	return &b.wallets[s]
}

// Len is the number of dense slots (an upper bound on wallets held there).
func (b *Book) Len() int { return len(b.wallets) }

// Far returns the IDs of wallets held outside the dense slots, ascending.
func (b *Book) Far() []uint64 {
	ids := make([]uint64, 0, len(b.far))
	for id := range b.far {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Each calls fn for every open wallet in ID order.
func (b *Book) Each(fn func(id uint64, w *Wallet)) {
	for s := range b.wallets {
		if b.wallets[s].Open {
			fn(uint64(s)*b.stride+b.part, &b.wallets[s])
		}
	}
	for _, id := range b.Far() {
		if w := b.far[id]; w.Open {
			fn(id, w)
		}
	}
}

// maxGap is how far past the dense slice a new slot may lie and still
// extend it (64 MiB of wallets); further out it goes to the far map.
const maxGap = 1 << 20

func (b *Book) slot(id uint64) *Wallet {
	s := id / b.stride
	if s >= uint64(len(b.wallets)) {
		if s-uint64(len(b.wallets)) >= maxGap || b.far[id] != nil {
			if b.far == nil {
				b.far = map[uint64]*Wallet{}
			}
			w := b.far[id]
			if w == nil {
				w = &Wallet{}
				b.far[id] = w
			}
			return w
		}
		n := s + 1
		if c := uint64(cap(b.wallets)); n <= c {
			b.wallets = b.wallets[:n]
		} else {
			next := 2 * c
			if c > 1<<20 {
				next = c + c/4 // outgrown late: waste little
			}
			grown := make([]Wallet, n, max(n, next, 1024))
			copy(grown, b.wallets)
			b.wallets = grown
		}
		// The dense slice now covers slots a far wallet may hold: move
		// them in, so each wallet lives in one place.
		for fid, w := range b.far {
			if fs := fid / b.stride; fs < uint64(len(b.wallets)) {
				b.wallets[fs] = *w
				delete(b.far, fid)
			}
		}
	}
	return &b.wallets[s]
}

// Apply applies an event read back from the log (recovery, replay).
func (b *Book) Apply(e *event.Event) error {
	if e.Wallet%b.stride != b.part {
		return fmt.Errorf("event %d for wallet %d does not belong to partition %d of %d", e.ID, e.Wallet, b.part, b.stride)
	}
	return b.slot(e.Wallet).ApplyOn(e, b.clock)
}

// Handle decides one command. It returns an error only for a command that
// cannot be attributed to any wallet (the engine dead-letters it); every
// other outcome, declines included, is an event.
func (b *Book) Handle(c *event.Command, sink Sink) error {
	switch c.Type {
	case event.CmdOpenWallet:
		return b.open(c, sink)
	case event.CmdPay, event.CmdRetry:
		w := b.Wallet(c.Wallet)
		if w == nil {
			return fmt.Errorf("%w %d", ErrUnknownWallet, c.Wallet)
		}
		b.pay(c, w, sink)
		return nil
	case event.CmdCredit:
		b.credit(c, sink)
		return nil
	case event.CmdCompensate:
		w := b.Wallet(c.Wallet)
		if w == nil {
			return fmt.Errorf("%w %d (compensation)", ErrUnknownWallet, c.Wallet)
		}
		b.compensate(c, w, sink)
		return nil
	}
	return fmt.Errorf("command type %s is not handled by a wallet", c.Type)
}

func (b *Book) newEvent(t event.Type, c *event.Command, w *Wallet, wallet uint64, step uint8) *event.Event {
	e := &b.ev
	*e = event.Event{
		Type: t, ID: event.EventID(c.ID, step), Wallet: wallet, Seq: w.Seq + 1,
		Command: c.ID, SimTime: c.SimTime, Kind: c.Kind, Amount: c.Amount,
		Currency: c.Currency, Counterparty: c.Counterparty, Attempt: c.Attempt,
		Epoch: c.Epoch,
	}
	return e
}

// emit applies the event to its wallet and hands it to the sink.
func (b *Book) emit(w *Wallet, sink Sink) {
	e := &b.ev
	e.BalanceAfter = w.Balance
	if e.NPostings > 0 && e.Postings[0].Account == event.Acct(event.AccWallet, e.Wallet) {
		e.BalanceAfter += e.Postings[0].Amount
	}
	if err := w.ApplyOn(e, b.clock); err != nil {
		// Apply rejects only what Handle could not have built; reaching
		// here is a bug in this package, not bad input.
		panic(err)
	}
	sink.Event(e)
}

func (b *Book) open(c *event.Command, sink Sink) error {
	if c.Wallet%b.stride != b.part {
		return fmt.Errorf("open: wallet %d does not belong to partition %d", c.Wallet, b.part)
	}
	w := b.slot(c.Wallet)
	if w.Open {
		// Opening twice is idempotent by ID: the first wins.
		return nil
	}
	e := b.newEvent(event.WalletOpened, c, w, c.Wallet, event.StepFirst)
	e.Kind = sim.Open
	e.Provider, e.Region, e.Class, e.Apps = c.Provider, c.Region, c.Class, c.Apps
	e.Card, e.Target, e.QuotaUsed = c.Card, c.Target, c.QuotaUsed
	e.YearSpent, e.LifeSpent = c.YearSpent, c.LifeSpent
	e.Currency = sim.WalletCurrency(c.Provider, c.Region)
	if c.Amount > 0 {
		e.Post(event.Acct(event.AccWallet, c.Wallet), c.Amount, e.Currency)
		e.Post(event.Acct(event.AccExternal, 0), -c.Amount, e.Currency)
	}
	// Apply needs a closed wallet to open; emit computes the balance.
	e.BalanceAfter = c.Amount
	if err := w.ApplyOn(e, b.clock); err != nil {
		panic(err)
	}
	w.Balance = c.Amount
	sink.Event(e)
	return nil
}

func (b *Book) step(c *event.Command) uint8 {
	if c.Attempt == 0 {
		return event.StepFirst
	}
	return event.StepAttempt + c.Attempt
}

// route finds how wallet w can pay what c asks, and the provider on the
// other side (the acquirer, or the payee's provider; none for transit and
// top-ups). Every branch is a table index: nothing is searched or
// allocated per payment.
func (b *Book) route(c *event.Command, w *Wallet) (*route.Route, sim.Provider) {
	ch := route.ChannelOf(c.Kind)
	// Where this wallet and merchant stand in the policy's rollouts
	// (route.Rollout): the same for every policy of a seed, so a wider
	// rollout reaches a superset.
	at := route.Rank{Wallet: route.RankOf(b.seed, c.Wallet, route.SaltWallet)}
	switch ch {
	case route.MPM, route.CPM:
		at.Merchant = route.RankOf(b.seed, c.Counterparty, route.SaltMerchant)
		return b.routes.ChooseAt(ch, w.Provider, w.Region, c.AccRegion, c.Acceptors, at)
	case route.Gate:
		if c.Counterparty >= 256 {
			return nil, sim.ProviderNone
		}
		return b.routes.LookupAt(ch, w.Provider, w.Region, c.AccRegion, uint8(c.Counterparty), at), sim.ProviderNone
	case route.Transfer:
		payee := payeeProvider(c)
		if payee == sim.ProviderNone {
			return nil, sim.ProviderNone
		}
		return b.routes.LookupAt(ch, w.Provider, w.Region, c.AccRegion, uint8(payee), at), payee
	case route.Load:
		return b.routes.LookupAt(ch, w.Provider, w.Region, w.Region, uint8(w.Provider), at), sim.ProviderNone
	}
	return nil, sim.ProviderNone
}

// payeeProvider is a transfer's payee provider: the one bit of Acceptors.
func payeeProvider(c *event.Command) sim.Provider {
	if c.Acceptors == 0 {
		return sim.ProviderNone
	}
	p := sim.Provider(bits.TrailingZeros16(c.Acceptors))
	if !p.Valid() {
		return sim.ProviderNone
	}
	return p
}

func (b *Book) pay(c *event.Command, w *Wallet, sink Sink) {
	r, peer := b.route(c, w)
	if r == nil {
		b.decline(c, w, sink, sim.RouteUnavailable, true)
		return
	}
	if r.ReceiverApp != sim.ProviderNone && c.Kind.IsTransfer() && c.PayeeSibling == 0 {
		// The pilot's receiver scans the sender's code with the sender's
		// app; a payee who holds no such wallet cannot receive it.
		b.decline(c, w, sink, sim.RouteUnavailable, true)
		return
	}
	surcharge := foreignCardSurcharge(c, w)
	debit, rate := c.Amount+surcharge, int64(0)
	if c.Currency != w.Currency {
		mid, ok := b.routes.Rate(w.Currency, c.Currency)
		if !r.FX || !ok {
			b.decline(c, w, sink, sim.FXUnavailable, true)
			return
		}
		rate = mid * (10_000 - r.FXMarginBPS) / 10_000
		if rate <= 0 { // route.Compile bounds rates and margins; a zero rate would make the payment free
			b.decline(c, w, sink, sim.FXUnavailable, true)
			return
		}
		debit = sim.SourceFor(c.Amount+surcharge, rate)
	}
	if r.MaxAmount > 0 && debit > r.MaxAmount {
		b.decline(c, w, sink, sim.RouteLimitExceeded, false)
		return
	}
	if c.Kind == sim.TopUp {
		b.topUp(c, w, r, debit, sink)
		return
	}
	lim := &b.limits[w.Class]
	w.roll(c.SimTime, b.clock)
	// sim.Exceeds, not spent+debit > limit: the sum could overflow.
	staticOver := c.Static && sim.Exceeds(w.StaticDay, debit, lim.StaticDay)
	// Account-class and e-CNY limits bound balance payments
	// (cal:limits.account-class); a linked card is the bank's business.
	overLimit := sim.Exceeds(0, debit, lim.PerTxn) ||
		sim.Exceeds(w.DaySpent, debit, lim.PerDay) ||
		sim.Exceeds(w.YearSpent, debit, lim.PerYear) ||
		sim.Exceeds(w.LifeSpent, debit, lim.Lifetime)
	card, reason := chooseFunding(c, w, debit, staticOver, overLimit)
	if reason != sim.ReasonNone {
		b.decline(c, w, sink, reason, false)
		return
	}
	if c.Kind.IsTransfer() {
		b.debitTransfer(c, w, r, peer, debit, rate, card, sink)
		return
	}
	e := b.newEvent(event.PaymentSettled, c, w, c.Wallet, b.step(c))
	e.Route, e.FXRate, e.Peer, e.Hops = r.ID, rate, peer, r.NHops
	e.LatencyUS = b.latency(c, r)
	if c.Static {
		e.Flags |= FlagStatic
	}
	b.payerLeg(e, c, w, debit, card)
	if rate != 0 {
		e.Post(event.Acct(event.AccFX, uint64(w.Currency)), debit, w.Currency)
		e.Post(event.Acct(event.AccFX, uint64(c.Currency)), -(c.Amount + surcharge), c.Currency)
	}
	if surcharge != 0 {
		e.Post(party(w.Provider, sim.RoleWallet), surcharge, c.Currency)
	}
	payee := event.Acct(event.AccMerchant, c.Counterparty)
	if c.Kind == sim.Transit {
		payee = event.Acct(event.AccOperator, c.Counterparty)
	}
	// The merchant's credit is posted before its fees so that a merchant
	// always reads as the event's second party.
	at := e.NPostings
	e.Post(payee, c.Amount, c.Currency)
	mdr := acceptanceFees(e, c, w, r, peer, card, c.Amount, c.Currency)
	e.Postings[at].Amount -= mdr
	e.GreenGrams = b.green(c, w)
	// calibration: Ant Forest e-invoice, 5 g, at most 5 a day.
	if c.EReceipt && (c.Kind == sim.ScanMPM || c.Kind == sim.ScanCPM) && w.ReceiptsToday < 5 {
		e.ReceiptGrams = 5
	}
	b.emit(w, sink)
}

// green is the Ant Forest green energy a settled payment earns
// (cal:carbon.ant-forest): 5 g per offline payment of at least RMB 1, at
// most 10 a day; transit rides by operator (bus 80 g, metro 52 g).
func (b *Book) green(c *event.Command, w *Wallet) int64 {
	if c.Kind == sim.Transit {
		if o := sim.Operator(c.Counterparty); o.Valid() {
			return sim.DefaultFares[o].GreenGrams
		}
		return 0
	}
	if (c.Kind == sim.ScanMPM || c.Kind == sim.ScanCPM) && c.Amount >= 100 && w.GreenToday < 10 {
		return 5
	}
	return 0
}

// payerLeg posts the payer's side of a payment of debit (the wallet's
// currency): the wallet's balance, or the linked card and what pulling the
// money from the card's bank costs the wallet.
func (b *Book) payerLeg(e *event.Event, c *event.Command, w *Wallet, debit int64, card bool) {
	if !card {
		e.Post(event.Acct(event.AccWallet, c.Wallet), -debit, w.Currency)
		return
	}
	e.Flags |= FlagCard
	e.Post(event.Acct(event.AccExternal, 0), -debit, w.Currency)
	b.bankLeg(e, w, debit, w.Card, true)
}

func (b *Book) debitTransfer(c *event.Command, w *Wallet, r *route.Route, payee sim.Provider, debit, rate int64, card bool, sink Sink) {
	if r.ReceiverApp != sim.ProviderNone && c.PayeeSibling != 0 {
		payee = r.ReceiverApp
	}
	e := b.newEvent(event.TransferDebited, c, w, c.Wallet, b.step(c))
	e.Route, e.FXRate, e.Peer, e.Hops = r.ID, rate, payee, r.NHops
	e.LatencyUS = b.latency(c, r)
	if card {
		e.Flags |= FlagCard
		e.Post(event.Acct(event.AccExternal, 0), -debit, w.Currency)
	} else {
		e.Post(event.Acct(event.AccWallet, c.Wallet), -debit, w.Currency)
	}
	e.Post(event.Acct(event.AccSuspense, uint64(w.Currency)), debit, w.Currency)
	if card {
		b.bankLeg(e, w, debit, w.Card, true)
	}
	b.emit(w, sink)

	o := b.next(c, event.CmdCredit)
	o.Wallet = c.Counterparty
	if r.ReceiverApp != sim.ProviderNone && c.PayeeSibling != 0 {
		// The receiver scanned the code with the sender's app: the money
		// lands in their wallet of that app (the 2022 pilot: the WeChat
		// user's Alipay), an on-us transfer for the sender's provider.
		o.Wallet = c.PayeeSibling
	}
	o.Counterparty = c.Wallet
	o.Route, o.Peer = r.ID, w.Provider
	o.HeldAmount, o.HeldCurrency, o.FXRate = debit, w.Currency, rate
	o.HeldCard = card
	sink.Send(o)
}

func (b *Book) credit(c *event.Command, sink Sink) {
	w := b.Wallet(c.Wallet)
	reason := sim.ReasonNone
	switch {
	case w == nil:
		reason = sim.WalletUnknown
	case c.Currency != w.Currency:
		reason = sim.CurrencyMismatch
	case !b.canReceive(c, w):
		reason = sim.RouteUnavailable
	case sim.Exceeds(w.Balance, c.Amount, b.limits[w.Class].BalanceCap), sim.Exceeds(w.Balance, c.Amount, sim.MaxBalance):
		reason = sim.BalanceCapExceeded
	}
	if reason != sim.ReasonNone {
		o := b.next(c, event.CmdCompensate)
		o.Wallet = c.Counterparty
		o.Counterparty = c.Wallet
		o.Reason = reason
		o.HeldCard = c.HeldCard
		o.Peer = payeeProvider(c)
		if w != nil {
			o.Peer = w.Provider
		}
		sink.Send(o)
		return
	}
	e := b.newEvent(event.TransferCredited, c, w, c.Wallet, event.StepCredit)
	e.Route, e.FXRate, e.Peer = c.Route, c.FXRate, c.Peer
	e.Post(event.Acct(event.AccWallet, c.Wallet), c.Amount, w.Currency)
	e.Post(event.Acct(event.AccSuspense, uint64(c.HeldCurrency)), -c.HeldAmount, c.HeldCurrency)
	if c.HeldCurrency != w.Currency {
		e.Post(event.Acct(event.AccFX, uint64(c.HeldCurrency)), c.HeldAmount, c.HeldCurrency)
		e.Post(event.Acct(event.AccFX, uint64(w.Currency)), -c.Amount, w.Currency)
	}
	// The clearing fee is due once the money has landed.
	if int(c.Route) < len(b.routes.Routes) {
		transferFees(e, &b.routes.Routes[c.Route], c.Peer, w.Provider, c.HeldAmount, c.HeldCurrency)
	}
	b.emit(w, sink)
}

func (b *Book) compensate(c *event.Command, w *Wallet, sink Sink) {
	e := b.newEvent(event.TransferCompensated, c, w, c.Wallet, event.StepCompensate)
	e.Route, e.Reason, e.Peer = c.Route, c.Reason, c.Peer
	if c.HeldCard {
		// Card-funded: the refund goes back to the card.
		e.Post(event.Acct(event.AccExternal, 0), c.HeldAmount, c.HeldCurrency)
	} else {
		e.Post(event.Acct(event.AccWallet, c.Wallet), c.HeldAmount, c.HeldCurrency)
	}
	e.Post(event.Acct(event.AccSuspense, uint64(c.HeldCurrency)), -c.HeldAmount, c.HeldCurrency)
	b.emit(w, sink)
}

// canReceive checks a route's receiver condition at the credit step: under
// the 2022 pilot a WeChat user receives an Alipay sender's money only by
// scanning the sender's code with Alipay, so the payee's holder must have
// that app installed. Holder apps come from the wallet's opening; when the
// opening recorded none, the holder is known to have only this wallet's
// app (the payment cannot be shown to reach the receiver, so it is refunded).
func (b *Book) canReceive(c *event.Command, w *Wallet) bool {
	if int(c.Route) >= len(b.routes.Routes) {
		return true
	}
	app := b.routes.Routes[c.Route].ReceiverApp
	if app == sim.ProviderNone || app == w.Provider {
		return true
	}
	apps := w.Apps
	if apps == 0 {
		apps = 1 << w.Provider
	}
	return apps&(1<<app) != 0
}

// decline ends this wallet's attempt. If the consumer holds another wallet,
// the payment moves to it next epoch (multi-homing fallback); otherwise the
// payment is declined for good.
//
// unaccepted says this wallet had no usable route (route_unavailable,
// fx_unavailable). The final reason is no_accepted_wallet when no wallet of
// the consumer had one, however many they hold: the consumer abandons the
// payment. Otherwise it is the reason of the last wallet that could pay but
// did not (funds, limits): a later wallet that could not pay at all does
// not explain the failure.
func (b *Book) decline(c *event.Command, w *Wallet, sink Sink, reason sim.Reason, unaccepted bool) {
	allUnaccepted := unaccepted && (c.Attempt == 0 || c.AllUnaccepted)
	lastAccepted := c.LastReason
	if c.Attempt == 0 {
		lastAccepted = sim.ReasonNone
	}
	if !unaccepted {
		lastAccepted = reason
	}
	if next := c.Attempt + 1; next < c.NCandidates {
		e := b.newEvent(event.AttemptDeclined, c, w, c.Wallet, b.step(c))
		e.Reason = reason
		b.emit(w, sink)
		o := b.next(c, event.CmdRetry)
		o.Attempt = next
		o.Wallet = c.Candidates[next]
		o.AllUnaccepted = allUnaccepted
		o.LastReason = lastAccepted
		sink.Send(o)
		return
	}
	switch {
	case allUnaccepted:
		reason = sim.NoAcceptedWallet
	case unaccepted && lastAccepted.Valid():
		reason = lastAccepted
	}
	e := b.newEvent(event.PaymentDeclined, c, w, c.Wallet, b.step(c))
	e.Reason = reason
	b.emit(w, sink)
}

// RescanMS is what trying another wallet costs the consumer: closing one
// app, opening the next and scanning again [A] (cal:assume.rescan-latency).
// A payment settled on its k-th fallback carries k rescans in its route
// latency.
const RescanMS = 4_000

// foreignCardSurcharge is what a visitor's foreign card pays on top of a
// scan price (cal:fees.foreign-card): nothing up to RMB 200, 3% of the
// amount above that, taken by the wallet provider. Other wallets pay none.
// It is kept apart from the fee postings: it is the consumer's cost, not
// the merchant's.
func foreignCardSurcharge(c *event.Command, w *Wallet) int64 {
	if w.Class != sim.ForeignCard || c.Currency != sim.CNY || (c.Kind != sim.ScanMPM && c.Kind != sim.ScanCPM) {
		return 0
	}
	const free = 200 * 100 // RMB 200 in fen
	if c.Amount <= free {
		return 0
	}
	return sim.FeeBPS(c.Amount, 300)
}

// latency samples the route's simulated latency: each hop lognormal, drawn
// from a hash of the seed and command so it is the same on every machine,
// plus a rescan for each wallet the consumer tried before this one.
func (b *Book) latency(c *event.Command, r *route.Route) int64 {
	x := b.seed ^ c.ID*0x9E3779B97F4A7C15 ^ uint64(c.Attempt)<<56
	total := float64(c.Attempt) * RescanMS
	for _, h := range r.Hops {
		if h.LatencyMedian <= 0 {
			continue
		}
		x = splitmix(x)
		u1 := (float64(x>>11) + 0.5) / (1 << 53)
		x = splitmix(x)
		u2 := float64(x>>11) / (1 << 53)
		z := math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
		total += h.LatencyMedian * math.Exp(h.LatencySigma*z)
	}
	return int64(total * 1000)
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

// Seq is the last sequence number applied to wallet id (0: none).
func (b *Book) Seq(id uint64) uint64 {
	s := id / b.stride
	if id%b.stride != b.part {
		return 0
	}
	if s >= uint64(len(b.wallets)) {
		if w := b.far[id]; w != nil {
			return w.Seq
		}
		return 0
	}
	return b.wallets[s].Seq
}
