// Package audit checks a run's log against the engine's invariants
// (GUIDE.md section 2) and computes its canonical digest. It re-derives
// everything from the commands and events it is fed and shares no code
// with the ledger that wrote them, so a ledger bug shows up here.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	"maps"
	"math/bits"
	"sort"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/route"
)

type walletAudit struct {
	balance int64
	seq     uint64
	chain   [32]byte
	last    uint64 // hash of the last event's bytes: spots a redelivery of it
	// lim is what the limit checks count (with a policy): beside the rest,
	// not in an array of its own, so an event's audit misses the cache
	// once for its wallet, not twice (at 10M wallets every access misses).
	lim      limitState
	currency sim.Currency
	provider sim.Provider
	open     bool
	negative bool
}

// idSet is a set of command IDs: bit sets per block of 2^24 IDs, since
// payment IDs are epoch<<24 | index, opening IDs event.OpenIDBase + wallet
// index, and a map of ten million entries would cost hundreds of
// megabytes (at 10M wallets the openings alone were 20-40 B per wallet).
// Anything else, which only a hostile log carries, goes to a map.
type idSet struct {
	blocks map[uint64][]uint64
	other  map[uint64]uint8
}

// openBlocks is where the openings' block keys start: above every
// payment block (IDs below 1<<48).
const openBlocks = 1 << 24

// block places id in a bit set: its block key and bit, or ok false.
func block(id uint64) (key, bit uint64, ok bool) {
	switch {
	case id < 1<<48:
		return id >> 24, id & (1<<24 - 1), true
	case id >= event.OpenIDBase && id-event.OpenIDBase < 1<<48:
		k := id - event.OpenIDBase
		return openBlocks + k>>24, k & (1<<24 - 1), true
	}
	return 0, 0, false
}

// unblock is block's inverse.
func unblock(key, bit uint64) uint64 {
	if key >= openBlocks {
		return event.OpenIDBase + (key-openBlocks)<<24 | bit
	}
	return key<<24 | bit
}

func (s *idSet) add(id uint64) (dup bool) {
	key, i, ok := block(id)
	if !ok {
		if s.other == nil {
			s.other = map[uint64]uint8{}
		}
		if s.other[id] < 2 {
			s.other[id]++
		}
		return s.other[id] > 1
	}
	if s.blocks == nil {
		s.blocks = map[uint64][]uint64{}
	}
	b := s.blocks[key]
	if w := int(i / 64); w >= len(b) {
		b = append(b, make([]uint64, w+1-len(b))...)
		s.blocks[key] = b
	}
	m := uint64(1) << (i % 64)
	dup = b[i/64]&m != 0
	b[i/64] |= m
	return dup
}

func (s *idSet) has(id uint64) bool {
	key, i, ok := block(id)
	if !ok {
		return s.other[id] > 0
	}
	b := s.blocks[key]
	return int(i/64) < len(b) && b[i/64]&(1<<(i%64)) != 0
}

func (s *idSet) each(fn func(id uint64)) {
	for key, b := range s.blocks {
		for w, word := range b {
			for word != 0 {
				fn(unblock(key, uint64(w)*64+uint64(bits.TrailingZeros64(word))))
				word &= word - 1
			}
		}
	}
	for id := range s.other {
		fn(id)
	}
}

// Auditor accumulates commands and events. Feed it every record once (in
// any order across wallets, in log order within a partition), then Finish.
type Auditor struct {
	wallets []walletAudit
	far     map[uint64]*walletAudit
	// accounts sums the postings outside the event's own wallet by account
	// type and currency: the verdict needs nothing finer, and a map entry
	// per merchant account cost 2% of a run's CPU.
	accounts  [event.NumAccountTypes][sim.NumCurrencies]sums
	commanded idSet
	outcomes  idSet
	cmdKind   map[uint64]sim.Kind // only for IDs outside the bit sets
	r         Report
	// Fees and P&L are summed here per event and made maps (Report.Fees,
	// Report.PnL) only in Finish: per leg, a map of maps keyed by built
	// strings cost two allocations an event.
	feeSums    [numFeeKinds][sim.NumCurrencies]sums
	pnl        [sim.NumInstitutions][sim.NumRoles][sim.NumCurrencies]sums
	routeLatUS []int64
	scratch    []byte
	kinds      [sim.NumKinds]*KindCount // a.r.ByKind's entries
	carbon     [sim.NumKinds + 1]int64  // green energy by kind, e-receipts last: CarbonByKind in Finish
	// settle holds inter-provider flows by simulated minute (China
	// Standard Time), so any cycle of whole minutes can be struck later.
	settle map[settleKey]*flow
	// Decision checks (decisions.go): set by NewWithPolicy.
	dayStart, dayMS int64
	routes          *route.Table
	limits          *[sim.NumClasses]sim.Limits
	// again holds records whose (wallet, seq) was read already and that
	// are not a copy of the wallet's last event: a resent batch or a
	// zombie's late write. Whether each is a redelivery (the same bytes as
	// the first record of that (wallet, seq)) or a violation is settled by
	// a second look at the first record (Resolve), so the common path
	// keeps one hash per wallet, not one per event.
	again map[walletSeq]*againRec
}

type walletSeq struct{ wallet, seq uint64 }

type againRec struct {
	copies   []uint64 // hashes of the later records
	resolved bool
}

// hashSeed is per process: the hashes only compare records of one audit.
var hashSeed = maphash.MakeSeed()

func hashRecord(raw []byte) uint64 { return maphash.Bytes(hashSeed, raw) }

type settleKey struct {
	minute   int64
	from, to sim.Provider
	cur      sim.Currency
}

type flow struct{ amount, count int64 }

// New returns an empty auditor.
func New() *Auditor {
	a := &Auditor{settle: map[settleKey]*flow{}}
	a.r.ByKind = map[string]*KindCount{}
	a.r.Declines = map[string]int64{}
	a.r.CarbonByKind = map[string]int64{}
	return a
}

// KindCount counts payments of one kind.
type KindCount struct {
	Attempted int64 `json:"attempted"`
	Succeeded int64 `json:"succeeded"`
	Declined  int64 `json:"declined"`
}

// Report is what an audit found.
type Report struct {
	Attempted int64                 `json:"attempted"`
	Succeeded int64                 `json:"succeeded"`
	Declined  int64                 `json:"declined"`
	ByKind    map[string]*KindCount `json:"by_kind"`
	Declines  map[string]int64      `json:"declines"`

	Events  int64  `json:"events"`
	Wallets int64  `json:"wallets"`
	Digest  string `json:"digest"`

	// Invariants: the verdict (OK, Violations), flattened into the JSON.
	Invariants
	// DeadLettered counts commands the processors dead-lettered (with a
	// reason): they are neither attempted payments nor unresolved.
	DeadLettered int64 `json:"dead_lettered,omitempty"`
	// Redelivered counts records identical to one read before (same
	// event, same bytes): at-least-once delivery (a produce whose answer
	// was lost, resent), skipped, not a violation. A different record
	// claiming a (wallet, seq) already read is a DuplicateEvent.
	Redelivered int64 `json:"redelivered"`

	// Interoperability. A payment is accepted when some wallet of the
	// consumer had a route for it; Unaccepted ones are abandoned
	// (no_accepted_wallet). Hops and RoutedEvents give the mean route
	// length over settled payments, transfer debits and top-ups.
	FirstWallet  int64 `json:"first_wallet_success"`
	Fallback     int64 `json:"fallback_success"`
	Abandoned    int64 `json:"abandoned"`
	Unaccepted   int64 `json:"unaccepted"`
	Hops         int64 `json:"hops"`
	RoutedEvents int64 `json:"routed_events"`
	// Fees by party and currency: merchant (discount paid) and consumer
	// (withdrawal fees paid), the net of every institution in each role
	// (acquirer, issuer, wallet, network, clearing), fx (the FX desks' net
	// position); wallet and switch in logs written before issue 13.
	Fees map[string]map[string]int64 `json:"fees"`
	// PnL is each institution's net in each role, "institution/role" ->
	// currency -> minor units (the FX desk as fx_desk/fx).
	PnL map[string]map[string]int64 `json:"pnl"`
	// Flows is the net of every account by kind of holder, per currency:
	// institutions, merchants (and transit operators), consumers (wallets
	// and their holders' banks and cards) and in_flight (transfers held in
	// suspense). They sum to zero per currency on a conserved log.
	Flows map[string]map[string]int64 `json:"flows"`
	// Green energy in Ant Forest green-energy points (its method, not
	// certified CO2; cal:carbon.ant-forest), as the wallets credit it.
	// RidePoints is the part earned by transit rides; RidesElsewhere the
	// points of rides declined at a QR gate, which the rider still takes,
	// paying another way (Octopus): the counterfactual rule counts the
	// ride, not the means of paying for it.
	CarbonGrams    int64            `json:"green_energy_points"`
	CarbonByKind   map[string]int64 `json:"green_energy_by_kind"`
	RidePoints     int64            `json:"ride_points"`
	RidesElsewhere int64            `json:"rides_paid_otherwise_points"`
	// FXVolume is the amount converted, by source currency.
	FXVolume map[string]int64 `json:"fx_volume,omitempty"`
}

// dense bounds the IDs kept in arrays; rarer higher ones go in maps.
const dense = 1 << 27

// Reserve makes room for wallets 1 to n at once, as the run knows how
// many it opens: grown by doubling, ten million wallets' state would be
// arrays for 16.7 million, and the old one alive beside the new while it
// is copied.
func (a *Auditor) Reserve(n int) {
	n = min(n+1, dense)
	a.wallets = resize(a.wallets, n)
}

// resize returns s lengthened to n (never shortened), copied once.
func resize[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	grown := make([]T, n)
	copy(grown, s)
	return grown
}

// slot is the state of id: in the dense array while id < dense, grown
// doubling while small and then by a quarter (an array outgrown late
// wastes little), else in the far map.
func slot[T any](arr *[]T, far *map[uint64]*T, id uint64) *T {
	if id < dense {
		if id >= uint64(len(*arr)) {
			n := len(*arr)
			next := 2 * n
			if n > 1<<20 {
				next = n + n/4
			}
			*arr = resize(*arr, int(min(max(id+1, uint64(next), 1024), dense)))
		}
		return &(*arr)[id]
	}
	if *far == nil {
		*far = map[uint64]*T{}
	}
	v := (*far)[id]
	if v == nil {
		v = new(T)
		(*far)[id] = v
	}
	return v
}

func (a *Auditor) wallet(id uint64) *walletAudit { return slot(&a.wallets, &a.far, id) }

// Command records a command read from the commands topic. Only payments
// and wallet openings are counted; saga steps and marks are the engine's.
func (a *Auditor) Command(c *event.Command) {
	if c.Type != event.CmdPay && c.Type != event.CmdOpenWallet {
		return
	}
	if a.commanded.add(c.ID) {
		return // a producer retry wrote it twice; one payment
	}
	if c.Type == event.CmdPay {
		a.r.Attempted++
		a.kind(c.Kind).Attempted++
	}
}

// DeadLettered records a command record the processors dead-lettered.
func (a *Auditor) DeadLettered() { a.r.DeadLettered++ }

func (a *Auditor) kind(k sim.Kind) *KindCount {
	// Cached per kind: a lookup by the kind's name was two string hashes
	// an event.
	if k < sim.NumKinds && a.kinds[k] != nil {
		return a.kinds[k]
	}
	kc := a.r.ByKind[k.String()]
	if kc == nil {
		kc = &KindCount{}
		a.r.ByKind[k.String()] = kc
	}
	if k < sim.NumKinds {
		a.kinds[k] = kc
	}
	return kc
}

func (a *Auditor) carbonBy(k sim.Kind, grams int64) {
	if k < sim.NumKinds {
		a.carbon[k] += grams
		return
	}
	a.r.CarbonByKind[k.String()] += grams
}

// carbonMap is Report.CarbonByKind: the kinds that earned any.
func (a *Auditor) carbonMap() map[string]int64 {
	m := maps.Clone(a.r.CarbonByKind)
	for k, g := range a.carbon[:sim.NumKinds] {
		if g != 0 {
			m[sim.Kind(k).String()] += g
		}
	}
	if g := a.carbon[sim.NumKinds]; g != 0 {
		m["e_receipt"] += g
	}
	return m
}

// Event records one event; raw is its encoding as stored (the digest is
// over what the log holds).
func (a *Auditor) Event(e *event.Event, raw []byte) { a.EventPending(e, raw) }

// EventPending is Event, reporting whether the record repeats a (wallet,
// seq) read before without being a copy of that wallet's last event: the
// caller must then show the auditor the log again up to this record
// (Resolve), or Finish counts it as a duplicate event.
func (a *Auditor) EventPending(e *event.Event, raw []byte) (pending bool) {
	if err := e.Validate(); err != nil {
		a.r.BadEvents++
		return false
	}
	w := a.wallet(e.Wallet)
	if e.Seq <= w.seq {
		h := hashRecord(raw)
		if e.Seq == w.seq && h == w.last {
			a.r.Redelivered++ // the common case: a resend right behind the original
			return false
		}
		if a.again == nil {
			a.again = map[walletSeq]*againRec{}
		}
		k := walletSeq{e.Wallet, e.Seq}
		r := a.again[k]
		if r == nil {
			r = &againRec{}
			a.again[k] = r
		}
		r.copies = append(r.copies, h)
		return true
	}
	if e.Seq != w.seq+1 {
		a.r.SequenceGaps++
	}
	w.seq = e.Seq
	w.last = hashRecord(raw)
	a.r.Events++
	a.scratch = append(append(a.scratch[:0], w.chain[:]...), raw...)
	w.chain = sha256.Sum256(a.scratch)

	if e.Type == event.WalletOpened {
		w.open, w.currency, w.provider = true, sim.WalletCurrency(e.Provider, e.Region), e.Provider
		a.r.Wallets++
	}
	// Legs balance per currency.
	var sums [sim.NumCurrencies]int64
	for _, p := range e.Legs() {
		sums[p.Currency] += p.Amount
		if p.Account == event.Acct(event.AccWallet, e.Wallet) {
			w.balance += p.Amount
			continue
		}
		a.accounts[p.Account.Type()][p.Currency].add(p.Amount)
	}
	for _, s := range sums {
		if s != 0 {
			a.r.UnbalancedEvents++
			break
		}
	}
	if w.balance != e.BalanceAfter {
		a.r.BalanceMismatches++
	}
	if w.balance < 0 && !w.negative {
		w.negative = true
		a.r.NegativeBalances++
	}
	a.checkFX(e)
	a.checkDecision(e, w)
	a.fees(e)
	if e.Type == event.PaymentSettled || e.Type == event.TransferDebited || e.Type == event.ToppedUp || e.Type == event.Withdrawn {
		if e.Hops > 0 {
			a.r.Hops += int64(e.Hops)
			a.r.RoutedEvents++
		}
	}
	a.settlement(e, w)
	if e.GreenGrams > 0 {
		a.r.CarbonGrams += e.GreenGrams
		a.carbonBy(e.Kind, e.GreenGrams)
		if e.Kind == sim.Transit {
			a.r.RidePoints += e.GreenGrams
		}
	}
	if e.Type == event.PaymentDeclined && e.Kind == sim.Transit {
		if o := sim.Operator(e.Counterparty); o.Valid() {
			a.r.RidesElsewhere += sim.DefaultFares[o].GreenGrams
		}
	}
	if e.ReceiptGrams > 0 {
		a.r.CarbonGrams += e.ReceiptGrams
		a.carbon[sim.NumKinds] += e.ReceiptGrams
	}
	if e.LatencyUS > 0 {
		a.routeLatUS = append(a.routeLatUS, e.LatencyUS)
	}
	if !e.Type.IsOutcome() || !e.Kind.IsPayment() {
		return false
	}
	if a.outcomes.add(e.Command) {
		a.r.DuplicateOutcomes++
		return false
	}
	kc := a.kind(e.Kind)
	if e.Type.Succeeded() {
		a.r.Succeeded++
		kc.Succeeded++
		if e.Attempt == 0 {
			a.r.FirstWallet++
		} else {
			a.r.Fallback++
		}
		return false
	}
	a.r.Declined++
	kc.Declined++
	reason := e.Reason
	if reason == sim.ReasonNone {
		reason = sim.InsufficientFunds
	}
	a.r.Declines[reason.String()]++
	if reason == sim.NoAcceptedWallet {
		a.r.Abandoned++
	}
	// A final decline for lack of a route means no wallet had one (older
	// logs name the sole wallet's reason instead of no_accepted_wallet).
	if e.Type == event.PaymentDeclined && (reason == sim.NoAcceptedWallet || reason == sim.RouteUnavailable || reason == sim.FXUnavailable) {
		a.r.Unaccepted++
	}
	return false
}

// settlement records money that crosses from one provider to another: a
// settled scan payment owes the acquirer (the event's Peer) what its
// merchant is credited; a credited transfer owes the payee's provider what
// the payee received. Refunds never crossed, so they are not flows.
func (a *Auditor) settlement(e *event.Event, w *walletAudit) {
	const cst = 8 * 3600 * 1000
	var from, to sim.Provider
	var amount int64
	var cur sim.Currency
	switch e.Type {
	case event.PaymentSettled:
		from, to = w.provider, e.Peer
		for _, p := range e.Legs() {
			if p.Account.Type() == event.AccMerchant {
				amount, cur = amount+p.Amount, p.Currency
			}
		}
	case event.TransferCredited:
		from, to = e.Peer, w.provider
		if e.NPostings > 0 && e.Postings[0].Account == event.Acct(event.AccWallet, e.Wallet) {
			amount, cur = e.Postings[0].Amount, e.Postings[0].Currency
		}
	default:
		return
	}
	if !from.Valid() || !to.Valid() || from == to || amount <= 0 {
		return
	}
	k := settleKey{minute: (e.SimTime + cst) / 60_000, from: from, to: to, cur: cur}
	f := a.settle[k]
	if f == nil {
		f = &flow{}
		a.settle[k] = f
	}
	f.amount += amount
	f.count++
}

// Position is the net settlement position between two providers over one
// settlement cycle, in one currency: From owes To Net minor units.
type Position struct {
	Cycle      int64  `json:"cycle"`       // cycle index since the epoch
	CycleStart int64  `json:"cycle_start"` // unix milliseconds
	From       string `json:"from"`
	To         string `json:"to"`
	Currency   string `json:"currency"`
	Net        int64  `json:"net"`      // minor units, >= 0
	Gross      int64  `json:"gross"`    // both directions
	Payments   int64  `json:"payments"` // both directions
}

// Settlement nets the inter-provider flows per cycle of cycleMS (a whole
// number of minutes; cycles aligned to midnight China Standard Time), per
// provider pair and currency. Positions come sorted by cycle, currency,
// then pair; a pair whose flows cancel exactly is listed with Net 0.
func (a *Auditor) Settlement(cycleMS int64) []Position {
	const cst = 8 * 3600 * 1000
	if cycleMS < 60_000 {
		cycleMS = 60_000
	}
	type pairKey struct {
		cycle  int64
		lo, hi sim.Provider
		cur    sim.Currency
	}
	type net struct{ net, gross, count int64 } // net > 0: lo owes hi
	sums := map[pairKey]*net{}
	for k, f := range a.settle {
		pk := pairKey{cycle: k.minute * 60_000 / cycleMS, lo: k.from, hi: k.to, cur: k.cur}
		sign := int64(1)
		if pk.lo > pk.hi {
			pk.lo, pk.hi, sign = pk.hi, pk.lo, -1
		}
		n := sums[pk]
		if n == nil {
			n = &net{}
			sums[pk] = n
		}
		n.net += sign * f.amount
		n.gross += f.amount
		n.count += f.count
	}
	out := make([]Position, 0, len(sums))
	for k, n := range sums {
		p := Position{Cycle: k.cycle, CycleStart: k.cycle*cycleMS - cst, From: k.lo.String(), To: k.hi.String(),
			Currency: k.cur.String(), Net: n.net, Gross: n.gross, Payments: n.count}
		if p.Net < 0 {
			p.From, p.To, p.Net = p.To, p.From, -p.Net
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Cycle != b.Cycle {
			return a.Cycle < b.Cycle
		}
		if a.Currency != b.Currency {
			return a.Currency < b.Currency
		}
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	return out
}

// checkFX verifies that a conversion paid what the recorded rate allows:
// the source leg is the least amount that buys the target at that rate.
func (a *Auditor) checkFX(e *event.Event) {
	var in, out event.Posting
	n := 0
	for _, p := range e.Legs() {
		if p.Account.Type() != event.AccFX {
			continue
		}
		if p.Amount > 0 {
			in = p
		} else {
			out = p
		}
		n++
	}
	if n == 0 {
		return
	}
	if n != 2 || e.FXRate <= 0 || in.Currency == out.Currency {
		a.r.FXViolations++
		return
	}
	if a.r.FXVolume == nil {
		a.r.FXVolume = map[string]int64{}
	}
	a.r.FXVolume[in.Currency.String()] += in.Amount
	if sim.Convert(in.Amount, e.FXRate) < -out.Amount || in.Amount != sim.SourceFor(-out.Amount, e.FXRate) {
		a.r.FXViolations++
	}
}

// sums is an amount with whether anything was added (a map key present).
type sums struct {
	v   int64
	set bool
}

func (m *sums) add(v int64) { m.v, m.set = m.v+v, true }

// Fee kinds beside the roles (sim.Role): Report.Fees keys.
const (
	feeWallet = iota + int(sim.NumRoles) // logs written before issue 13
	feeSwitch
	feeMerchant
	feeConsumer
	numFeeKinds
)

func feeKindName(k int) string {
	switch k {
	case feeWallet:
		return "wallet"
	case feeSwitch:
		return "switch"
	case feeMerchant:
		return "merchant"
	case feeConsumer:
		return "consumer"
	}
	return sim.Role(k).String()
}

func (a *Auditor) fees(e *event.Event) {
	var credited int64
	for _, p := range e.Legs() {
		if !p.Currency.Valid() {
			continue
		}
		switch p.Account.Type() {
		case event.AccParty:
			inst, role := p.Account.Party()
			if inst < sim.NumInstitutions && role < sim.NumRoles {
				a.feeSums[role][p.Currency].add(p.Amount)
				a.pnl[inst][role][p.Currency].add(p.Amount)
			}
		case event.AccProvider:
			a.feeSums[feeWallet][p.Currency].add(p.Amount)
		case event.AccSwitch:
			a.feeSums[feeSwitch][p.Currency].add(p.Amount)
		case event.AccMerchant, event.AccOperator:
			if p.Currency == e.Currency {
				credited += p.Amount
			}
		}
	}
	if !e.Currency.Valid() {
		return
	}
	switch e.Type {
	case event.PaymentSettled:
		// The merchant's cost: the price less what it was credited.
		if d := e.Amount - credited; d != 0 {
			a.feeSums[feeMerchant][e.Currency].add(d)
		}
	case event.Withdrawn:
		// The consumer's cost: what left the wallet less what reached the bank.
		var out, in int64
		for _, p := range e.Legs() {
			switch p.Account.Type() {
			case event.AccWallet:
				out -= p.Amount
			case event.AccExternal:
				in += p.Amount
			}
		}
		if d := out - in; d != 0 {
			a.feeSums[feeConsumer][e.Currency].add(d)
		}
	}
}

// feeMaps is Report.Fees and Report.PnL from the sums.
func (a *Auditor) feeMaps() (fees, pnl map[string]map[string]int64) {
	fees, pnl = map[string]map[string]int64{}, map[string]map[string]int64{}
	put := func(m map[string]map[string]int64, key string, byCur *[sim.NumCurrencies]sums) {
		for c := range byCur {
			if !byCur[c].set {
				continue
			}
			if m[key] == nil {
				m[key] = map[string]int64{}
			}
			m[key][sim.Currency(c).String()] += byCur[c].v
		}
	}
	for k := range a.feeSums {
		put(fees, feeKindName(k), &a.feeSums[k])
	}
	for inst := range a.pnl {
		for role := range a.pnl[inst] {
			put(pnl, sim.Institution(inst).String()+"/"+sim.Role(role).String(), &a.pnl[inst][role])
		}
	}
	return fees, pnl
}

// Pending is the number of records waiting for Resolve.
func (a *Auditor) Pending() int { return len(a.again) }

// Resolve shows the auditor a record of the log again, from the start of
// the partition up to the last pending one: the first record of each
// pending (wallet, seq) decides whether its later copies are redeliveries
// (identical bytes) or duplicate events (anything else).
func (a *Auditor) Resolve(e *event.Event, raw []byte) {
	r := a.again[walletSeq{e.Wallet, e.Seq}]
	if r == nil || r.resolved {
		return
	}
	r.resolved = true
	h := hashRecord(raw)
	for _, c := range r.copies {
		if c == h {
			a.r.Redelivered++
		} else {
			a.r.DuplicateEvents++
		}
	}
}

// Finish closes the audit: unresolved commands, conservation, digest.
func (a *Auditor) Finish() Report {
	for _, rec := range a.again {
		if !rec.resolved { // never shown the first record: cannot be vouched for
			a.r.DuplicateEvents += int64(len(rec.copies))
		}
		rec.resolved = true
	}
	r := a.r
	r.Fees, r.PnL = a.feeMaps()
	r.CarbonByKind = a.carbonMap()
	a.commanded.each(func(id uint64) {
		if id >= event.OpenIDBase { // wallet openings: their outcome is WalletOpened
			return
		}
		if !a.outcomes.has(id) {
			r.UnresolvedCommands++
		}
	})
	a.outcomes.each(func(id uint64) {
		if !a.commanded.has(id) {
			r.OrphanOutcomes++
		}
	})
	// Conservation: every account, wallets included, sums to zero per
	// currency; what the non-external accounts hold equals what came in.
	r.ExternalIn, r.Held = map[string]int64{}, map[string]int64{}
	r.Flows = map[string]map[string]int64{}
	flow := func(holder string, c sim.Currency, v int64) {
		m := r.Flows[holder]
		if m == nil {
			m = map[string]int64{}
			r.Flows[holder] = m
		}
		m[c.String()] += v
	}
	var total [sim.NumCurrencies]int64
	for _, w := range a.wallets {
		if w.open {
			total[w.currency] += w.balance
			r.Held[w.currency.String()] += w.balance
			flow("consumers", w.currency, w.balance)
		}
	}
	for _, w := range a.far {
		if w.open {
			total[w.currency] += w.balance
			r.Held[w.currency.String()] += w.balance
			flow("consumers", w.currency, w.balance)
		}
	}
	for t := range a.accounts {
		for c, sum := range a.accounts[t] {
			if !sum.set {
				continue
			}
			typ, cur, v := event.AccountType(t), sim.Currency(c), sum.v
			total[cur] += v
			switch typ {
			case event.AccExternal:
				flow("consumers", cur, v)
			case event.AccMerchant, event.AccOperator:
				flow("merchants", cur, v)
			case event.AccSuspense:
				flow("in_flight", cur, v)
			default:
				flow("institutions", cur, v)
			}
			switch typ {
			case event.AccExternal:
				r.ExternalIn[cur.String()] -= v
			case event.AccSuspense:
				if v != 0 {
					if r.SuspenseOpen == nil {
						r.SuspenseOpen = map[string]int64{}
					}
					r.SuspenseOpen[cur.String()] += v
				}
				r.Held[cur.String()] += v
			case event.AccFX:
				if r.Fees["fx"] == nil {
					r.Fees["fx"] = map[string]int64{}
				}
				r.Fees["fx"][cur.String()] += v
				if r.PnL["fx_desk/fx"] == nil {
					r.PnL["fx_desk/fx"] = map[string]int64{}
				}
				r.PnL["fx_desk/fx"][cur.String()] += v
				r.Held[cur.String()] += v
			default:
				r.Held[cur.String()] += v
			}
		}
	}
	balanced := true
	for _, t := range total {
		if t != 0 {
			balanced = false
		}
	}
	r.MoneyConserved = balanced && r.UnbalancedEvents == 0 && r.BalanceMismatches == 0 &&
		r.FXViolations == 0 && len(r.SuspenseOpen) == 0 && r.SequenceGaps == 0 && r.BadEvents == 0
	r.Digest = a.digest()
	return r
}

// RouteLatenciesUS returns the simulated route latencies seen (settled
// payments and transfer debits), unsorted.
func (a *Auditor) RouteLatenciesUS() []int64 { return a.routeLatUS }

// digest is sha256 over the canonical log: wallets in ascending ID, each
// contributing its ID and the hash chain of its events in sequence order,
// chain_n = sha256(chain_{n-1} || event_n). It depends on each wallet's
// events and nothing else: not partitions, not timing, not the machine.
func (a *Auditor) digest() string {
	h := sha256.New()
	var id [8]byte
	for i := range a.wallets {
		if a.wallets[i].seq == 0 {
			continue
		}
		binary.BigEndian.PutUint64(id[:], uint64(i))
		h.Write(id[:])
		h.Write(a.wallets[i].chain[:])
	}
	far := make([]uint64, 0, len(a.far))
	for k := range a.far {
		far = append(far, k)
	}
	sort.Slice(far, func(i, j int) bool { return far[i] < far[j] })
	for _, k := range far {
		binary.BigEndian.PutUint64(id[:], k)
		h.Write(id[:])
		h.Write(a.far[k].chain[:])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Balance returns the audited balance and sequence of a wallet.
func (a *Auditor) Balance(id uint64) (balance int64, seq uint64, ok bool) {
	var w *walletAudit
	if id < uint64(len(a.wallets)) {
		w = &a.wallets[id]
	} else if a.far != nil {
		w = a.far[id]
	}
	if w == nil || !w.open {
		return 0, 0, false
	}
	return w.balance, w.seq, true
}
