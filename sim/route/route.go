// Package route turns an interoperability policy (which wallet may pay which
// code, through which clearing route, at what fees) into dense lookup tables.
// Policies are data; compiling them happens once, so a route decision on the
// hot path is an array index that allocates nothing.
package route

import (
	"fmt"
	"math/bits"

	"github.com/walletsim/walletsim/sim"
)

// Channel is how a payment meets its acceptor.
type Channel uint8

// Channels.
const (
	ChannelNone Channel = iota
	MPM                 // acceptor: the scheme of a code the merchant shows
	CPM                 // acceptor: the network of the merchant's scanner
	Gate                // acceptor: a transit operator
	Transfer            // acceptor: the payee's wallet provider
	Load                // top-up from a bank account; acceptor: the payer's own provider
	NumChannels
)

var channelNames = [NumChannels]string{"", "mpm", "cpm", "transit", "transfer", "topup"}

func (c Channel) String() string {
	if c < NumChannels {
		return channelNames[c]
	}
	return fmt.Sprintf("channel(%d)", uint8(c))
}

// ParseChannel maps a name to a Channel.
func ParseChannel(s string) (Channel, error) {
	for i := Channel(1); i < NumChannels; i++ {
		if channelNames[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown channel %q (want mpm, cpm, transit, transfer or topup)", s)
}

// ChannelOf is the channel a payment kind goes through.
func ChannelOf(k sim.Kind) Channel {
	switch k {
	case sim.ScanMPM:
		return MPM
	case sim.ScanCPM:
		return CPM
	case sim.Transit:
		return Gate
	case sim.P2P, sim.CrossTransfer, sim.RedPacket:
		return Transfer
	case sim.TopUp:
		return Load
	}
	return ChannelNone
}

// Clearing names who clears a route.
type Clearing uint8

// Clearing kinds.
const (
	ClearingNone Clearing = iota
	OnUs                  // inside one wallet provider
	NetsUnion             // NetsUnion (wanglian), mandatory for bank-funded non-bank payments from 2018-06
	UnionPayNet           // UnionPay's network
	ECNYNet               // the e-CNY operating system
	CrossBorder           // a cross-border link with FX
	NumClearings
)

var clearingNames = [NumClearings]string{"", "on_us", "netsunion", "unionpay", "ecny", "cross_border"}

func (c Clearing) String() string {
	if c < NumClearings {
		return clearingNames[c]
	}
	return fmt.Sprintf("clearing(%d)", uint8(c))
}

// ParseClearing maps a name to a Clearing.
func ParseClearing(s string) (Clearing, error) {
	for i := Clearing(1); i < NumClearings; i++ {
		if clearingNames[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown clearing %q (want one of %v)", s, clearingNames[1:])
}

// Hop is one leg of a route, with its simulated latency (lognormal).
type Hop struct {
	Name          string  `mapstructure:"name"`
	LatencyMedian float64 `mapstructure:"latency_ms"` // median, milliseconds
	LatencySigma  float64 `mapstructure:"sigma"`
}

// Route is one accepted way to pay: who clears it, its hops, fees and limits.
type Route struct {
	ID       uint16 // index in Table.Routes; 0 is "no route"
	Name     string
	Clearing Clearing
	Hops     []Hop
	// MDRBPS is the rule's quoted merchant discount rate in basis points
	// (0.60% = 60). It orders routes for a multi-code merchant; what a
	// merchant pays is its own contract (MerchantRateBPS), charged when
	// ChargesMerchant. Zero for transfers, top-ups, e-CNY and transit.
	MDRBPS int64
	// ChargesMerchant says whether merchants pay a discount on this route
	// (a rule with mdr_bps > 0): e-CNY and transit gates charge none.
	ChargesMerchant bool
	// SwitchCBPS is the network's or clearing house's fee in
	// centi-basis-points of the amount, both sides together (0.065% =
	// 650): each side pays half, capped in total (SideFees).
	SwitchCBPS int64
	// FXMarginBPS is the margin on the mid rate when currencies differ.
	FXMarginBPS int64
	// FX says whether the route converts currency at all.
	FX bool
	// MaxAmount caps one payment in the payer's currency; 0 = no cap.
	MaxAmount int64
	// ReceiverApp, when set, is the app the payee must scan the sender's
	// code with for the money to land (the 2022 Alipay-to-WeChat pilot: a
	// WeChat user receives only by scanning with Alipay). The payee's
	// ledger checks it at the credit step and refunds the payer otherwise.
	ReceiverApp sim.Provider
	// NHops is len(Hops), kept as a byte so events can record it.
	NHops uint8
	// Rule is the index of the policy rule that produced the route (for
	// reports: which calibration row a decision came from).
	Rule int
}

// RuleRef is what reports need of a policy rule.
type RuleRef struct {
	ID      string // the rule's id key, or "rules[i]"
	Channel string
	Route   string // empty for a deny rule
	Deny    bool
	Note    string // the calibration row the rule stands on
}

// RuleOf returns the rule that produced route id, or nil (id 0: no route).
func (t *Table) RuleOf(id uint16) *RuleRef {
	if id == 0 || int(id) >= len(t.Routes) {
		return nil
	}
	if i := t.Routes[id].Rule; i >= 0 && i < len(t.Rules) {
		return &t.Rules[i]
	}
	return nil
}

// Latency medians are summed along the hops; the report shows them per route.
func (r *Route) MedianLatencyMS() float64 {
	s := 0.0
	for _, h := range r.Hops {
		s += h.LatencyMedian
	}
	return s
}

const numAcceptors = 16 // providers and operators both fit below 16

// maskSize bounds the acceptor bit sets a multi-code merchant can offer:
// one bit per provider.
const maskSize = 1 << sim.NumProviders

// fullReach is a rollout that reaches everyone: every Rank is below it.
const fullReach = 1 << 16

// link is one rule's say in a cell: its route (0 = deny) for the wallets
// and merchants whose Rank falls below the thresholds.
type link struct {
	route              uint16
	wallets, merchants uint32
}

func (l link) full() bool { return l.wallets == fullReach && l.merchants == fullReach }

// cell is a run of links in Table.links, in rule order.
type cell struct {
	start uint32
	n     uint8
}

// Rank places a payer wallet and a merchant in the order rollouts reach
// them (see Rollout): 0 is reached by every step, 65535 only by a full one.
type Rank struct {
	Wallet, Merchant uint16
}

// RankOf is the rollout position of an ID: a hash of the seed and the ID,
// so that a rollout's reach is spread over providers, regions and
// merchant kinds, and is the same on every machine and in every run of the
// seed. salt separates wallets from merchants.
func RankOf(seed, id, salt uint64) uint16 {
	x := seed ^ (id+salt)*0x9E3779B97F4A7C15
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return uint16(x >> 48)
}

// Salts of RankOf.
const (
	SaltWallet   = 0x77616c6c6574
	SaltMerchant = 0x6d65726368
)

// Table is a compiled policy. Index order: channel, payer provider, payer
// region, acceptor region, acceptor. An empty cell means "not accepted".
type Table struct {
	Name   string
	Routes []Route // Routes[0] is the empty "no route"
	// Rules are the policy's rules in order (Route.Rule indexes them),
	// with their stable IDs, for coverage and attribution.
	Rules []RuleRef
	cells [NumChannels][sim.NumProviders][sim.NumRegions][sim.NumRegions][numAcceptors]cell
	links []link
	// Rates holds mid FX rates (sim.RateScale fixed point): Rates[from][to].
	Rates [sim.NumCurrencies][sim.NumCurrencies]int64
	// SettleCycleMS is the settlement cycle: net positions between
	// providers are struck once per cycle, cycles aligned to midnight
	// China Standard Time.
	SettleCycleMS int64
}

// find walks a cell's links: the first whose rollout reaches at decides.
func (t *Table) find(ch Channel, payer sim.Provider, payerRegion, accRegion sim.Region, acceptor uint8, at Rank) uint16 {
	c := t.cells[ch][payer][payerRegion][accRegion][acceptor]
	for _, l := range t.links[c.start : c.start+uint32(c.n)] {
		if uint32(at.Wallet) < l.wallets && uint32(at.Merchant) < l.merchants {
			return l.route
		}
	}
	return 0
}

func (t *Table) inRange(ch Channel, payer sim.Provider, payerRegion, accRegion sim.Region) bool {
	return ch < NumChannels && payer < sim.NumProviders && payerRegion < sim.NumRegions && accRegion < sim.NumRegions
}

// Lookup returns the route for one acceptor, or nil when the policy does not
// accept the pair, for a wallet and merchant every rollout reaches.
func (t *Table) Lookup(ch Channel, payer sim.Provider, payerRegion, accRegion sim.Region, acceptor uint8) *Route {
	return t.LookupAt(ch, payer, payerRegion, accRegion, acceptor, Rank{})
}

// LookupAt is Lookup for a wallet and merchant at a rollout rank.
func (t *Table) LookupAt(ch Channel, payer sim.Provider, payerRegion, accRegion sim.Region, acceptor uint8, at Rank) *Route {
	if !t.inRange(ch, payer, payerRegion, accRegion) || acceptor >= numAcceptors {
		return nil
	}
	if id := t.find(ch, payer, payerRegion, accRegion, acceptor, at); id != 0 {
		return &t.Routes[id]
	}
	return nil
}

// Best returns the route a wallet takes to pay a merchant that offers the
// acceptors in mask (bit i = provider i), preferring the cheapest route with
// the fewest hops. ch is MPM or CPM.
func (t *Table) Best(ch Channel, payer sim.Provider, payerRegion, accRegion sim.Region, mask uint16) *Route {
	r, _ := t.Choose(ch, payer, payerRegion, accRegion, mask)
	return r
}

// Choose is Best that also names the acceptor the route goes through: the
// code scheme or scanner network that takes the payment, whose provider
// acquires it (settlement is between the payer's provider and it).
func (t *Table) Choose(ch Channel, payer sim.Provider, payerRegion, accRegion sim.Region, mask uint16) (*Route, sim.Provider) {
	return t.ChooseAt(ch, payer, payerRegion, accRegion, mask, Rank{})
}

// ChooseAt is Choose for a wallet and merchant at a rollout rank. It looks
// at each code the merchant offers (at most one per provider): a few array
// reads, nothing allocated.
func (t *Table) ChooseAt(ch Channel, payer sim.Provider, payerRegion, accRegion sim.Region, mask uint16, at Rank) (*Route, sim.Provider) {
	if (ch != MPM && ch != CPM) || !t.inRange(ch, payer, payerRegion, accRegion) || mask >= maskSize {
		return nil, sim.ProviderNone
	}
	var best uint16
	var acc sim.Provider
	for m := mask; m != 0; m &= m - 1 {
		a := uint8(bits.TrailingZeros16(m))
		if id := t.find(ch, payer, payerRegion, accRegion, a, at); id != 0 && t.better(id, best) {
			best, acc = id, sim.Provider(a)
		}
	}
	if best == 0 {
		return nil, sim.ProviderNone
	}
	return &t.Routes[best], acc
}

// Rate returns the mid rate to convert from into to, and whether one exists.
func (t *Table) Rate(from, to sim.Currency) (int64, bool) {
	if from == to {
		return sim.RateScale, true
	}
	if from >= sim.NumCurrencies || to >= sim.NumCurrencies {
		return 0, false
	}
	r := t.Rates[from][to]
	return r, r > 0
}
