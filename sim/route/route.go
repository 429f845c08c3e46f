// Package route turns an interoperability policy (which wallet may pay which
// code, through which clearing route, at what fees) into dense lookup tables.
// Policies are data; compiling them happens once, so a route decision on the
// hot path is an array index that allocates nothing.
package route

import (
	"fmt"

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

// Latency medians are summed along the hops; the report shows them per route.
func (r *Route) MedianLatencyMS() float64 {
	s := 0.0
	for _, h := range r.Hops {
		s += h.LatencyMedian
	}
	return s
}

const numAcceptors = 16 // providers and operators both fit below 16

// maskSize is the number of acceptor bit sets a multi-code merchant can
// offer: one bit per provider.
const maskSize = 1 << sim.NumProviders

// choice is a precomputed multi-code decision: the route and the acceptor
// (code scheme or scanner network) it goes through.
type choice struct {
	route    uint16
	acceptor uint8
}

// Table is a compiled policy. Index order: channel, payer provider, payer
// region, acceptor region, acceptor. The zero entry means "not accepted".
type Table struct {
	Name   string
	Routes []Route // Routes[0] is the empty "no route"
	cells  [NumChannels][sim.NumProviders][sim.NumRegions][sim.NumRegions][numAcceptors]uint16
	// best is the route chosen when a merchant shows several codes (or has
	// scanners for several networks): indexed by the bit set of acceptors.
	bestMPM [sim.NumProviders][sim.NumRegions][sim.NumRegions][maskSize]choice
	bestCPM [sim.NumProviders][sim.NumRegions][sim.NumRegions][maskSize]choice
	// Rates holds mid FX rates (sim.RateScale fixed point): Rates[from][to].
	Rates [sim.NumCurrencies][sim.NumCurrencies]int64
	// SettleCycleMS is the settlement cycle: net positions between
	// providers are struck once per cycle, cycles aligned to midnight
	// China Standard Time.
	SettleCycleMS int64
}

// Lookup returns the route for one acceptor, or nil when the policy does not
// accept the pair.
func (t *Table) Lookup(ch Channel, payer sim.Provider, payerRegion, accRegion sim.Region, acceptor uint8) *Route {
	if ch >= NumChannels || payer >= sim.NumProviders || payerRegion >= sim.NumRegions || accRegion >= sim.NumRegions || acceptor >= numAcceptors {
		return nil
	}
	id := t.cells[ch][payer][payerRegion][accRegion][acceptor]
	if id == 0 {
		return nil
	}
	return &t.Routes[id]
}

// Best returns the route a wallet takes to pay a merchant that offers the
// acceptors in mask (bit i = provider i), preferring the cheapest route with
// the fewest hops (decided at compile time). ch is MPM or CPM.
func (t *Table) Best(ch Channel, payer sim.Provider, payerRegion, accRegion sim.Region, mask uint16) *Route {
	r, _ := t.Choose(ch, payer, payerRegion, accRegion, mask)
	return r
}

// Choose is Best that also names the acceptor the route goes through: the
// code scheme or scanner network that takes the payment, whose provider
// acquires it (settlement is between the payer's provider and it).
func (t *Table) Choose(ch Channel, payer sim.Provider, payerRegion, accRegion sim.Region, mask uint16) (*Route, sim.Provider) {
	if payer >= sim.NumProviders || payerRegion >= sim.NumRegions || accRegion >= sim.NumRegions || mask >= maskSize {
		return nil, sim.ProviderNone
	}
	var c choice
	switch ch {
	case MPM:
		c = t.bestMPM[payer][payerRegion][accRegion][mask]
	case CPM:
		c = t.bestCPM[payer][payerRegion][accRegion][mask]
	default:
		return nil, sim.ProviderNone
	}
	if c.route == 0 {
		return nil, sim.ProviderNone
	}
	return &t.Routes[c.route], sim.Provider(c.acceptor)
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
