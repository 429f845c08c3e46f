// Package event defines walletsim's commands and events and their binary
// encoding. The encoding is the protobuf wire format (schema in
// walletsim.proto), written and read by hand with protowire so that encoding
// appends into a reused buffer and decoding fills a caller's struct: neither
// allocates. Field numbers are stable; unknown fields are skipped so older
// readers survive newer writers; a different major Version is refused.
package event

import (
	"fmt"

	"github.com/walletsim/walletsim/sim"
)

// Version is the schema's major version. A reader refuses other versions:
// such records go to the dead-letter topic instead of being guessed at.
const Version = 1

// Type is an event type.
type Type uint8

// Event types. An outcome is the single final answer to a payment command.
const (
	TypeNone            Type = iota
	WalletOpened             // set-up: wallet exists, initial balance loaded
	PaymentSettled           // outcome (succeeded): scan or transit paid
	PaymentDeclined          // outcome (declined), any kind
	ToppedUp                 // outcome (succeeded): money in from a bank
	TransferDebited          // saga step: payer debited, funds held in suspense
	TransferCredited         // outcome (succeeded): payee credited from suspense
	TransferCompensated      // outcome (declined): payer refunded from suspense
	AttemptDeclined          // this wallet could not pay; the consumer tries the next
	Withdrawn                // outcome (succeeded): money out to the holder's bank (a rebalancing top-up command above the float)
	NumTypes
)

var typeNames = [NumTypes]string{"", "wallet_opened", "payment_settled", "payment_declined", "topped_up", "transfer_debited", "transfer_credited", "transfer_compensated", "attempt_declined", "withdrawn"}

func (t Type) String() string {
	if t < NumTypes {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// IsOutcome reports whether an event of this type settles its command.
func (t Type) IsOutcome() bool {
	switch t {
	case PaymentSettled, PaymentDeclined, ToppedUp, TransferCredited, TransferCompensated, Withdrawn:
		return true
	}
	return false
}

// Succeeded reports whether the outcome is a success.
func (t Type) Succeeded() bool {
	return t == PaymentSettled || t == ToppedUp || t == TransferCredited || t == Withdrawn
}

// Step numbers the events one command causes; EventID = command<<4 | step.
const (
	StepFirst      = 0 // the first wallet's event (or the wallet opening)
	StepCredit     = 1 // the payee's credit
	StepCompensate = 2 // the payer's refund
	StepAttempt    = 3 // + attempt number: fallback attempts on other wallets
)

// EventID derives an event's ID from its command and step: deterministic,
// unique, and a reader can tell which command caused it.
func EventID(command uint64, step uint8) uint64 { return command<<4 | uint64(step) }

// MaxCommandID keeps EventID within 64 bits.
const MaxCommandID = 1<<60 - 1

// OpenIDBase is where wallet-opening command IDs start (OpenIDBase +
// wallet ID); payments stay below it. The audit tells the two apart by
// it: an opening's outcome is its WalletOpened event, a payment's is a
// settled or declined event.
const OpenIDBase = 1 << 59

// AccountType is the kind of ledger account a posting moves money in.
type AccountType uint8

// Account types.
const (
	AccNone     AccountType = iota
	AccWallet               // id: wallet ID
	AccMerchant             // id: merchant ID
	AccOperator             // id: transit operator
	AccProvider             // id: wallet provider (fee income)
	AccSwitch               // id: clearing (switch fee income)
	AccFX                   // id: currency (the FX desk's position)
	AccSuspense             // id: currency (transfers in flight)
	AccExternal             // id: 0 (banks: the holders' bank accounts and linked cards, where top-ups come from)
	// AccParty is an institution's fee account in one role (four-party
	// model): id = role<<8 | institution, see PartyAcct. It replaces
	// AccProvider and AccSwitch, which only logs written before it use.
	AccParty
	NumAccountTypes
)

var accountTypeNames = [NumAccountTypes]string{"", "wallet", "merchant", "operator", "provider_fees", "switch_fees", "fx", "suspense", "external", "party"}

func (a AccountType) String() string {
	if a < NumAccountTypes {
		return accountTypeNames[a]
	}
	return fmt.Sprintf("account_type(%d)", uint8(a))
}

// Account identifies a ledger account: type in the top byte, ID below.
type Account uint64

// Acct builds an Account.
func Acct(t AccountType, id uint64) Account { return Account(uint64(t)<<56 | id&(1<<56-1)) }

// Type is the account's type.
func (a Account) Type() AccountType { return AccountType(a >> 56) }

// ID is the account's ID within its type.
func (a Account) ID() uint64 { return uint64(a) & (1<<56 - 1) }

func (a Account) String() string {
	if a.Type() == AccParty {
		i, r := a.Party()
		return fmt.Sprintf("%s:%s/%s", a.Type(), i, r)
	}
	return fmt.Sprintf("%s:%d", a.Type(), a.ID())
}

// PartyAcct is the fee account of institution i in role r.
func PartyAcct(i sim.Institution, r sim.Role) Account {
	return Acct(AccParty, uint64(r)<<8|uint64(i))
}

// Party splits an AccParty account into its institution and role.
func (a Account) Party() (sim.Institution, sim.Role) {
	id := a.ID()
	return sim.Institution(id & 0xff), sim.Role(id >> 8 & 0xff)
}

// Posting is one leg of a double-entry movement. The legs of an event sum
// to zero per currency.
type Posting struct {
	Account  Account
	Amount   int64 // positive: credit to the account; negative: debit
	Currency sim.Currency
}

// MaxPostings bounds the legs of one event. The widest is a card-funded
// payment through a card network: card, merchant, acquirer, issuer,
// network, wallet, the card's bank, clearing; with FX two more.
const MaxPostings = 12

// Event is a fact about one wallet. Its fields are values only, so a
// decoder can fill one in place without allocating.
type Event struct {
	Type    Type
	ID      uint64
	Wallet  uint64
	Seq     uint64 // the wallet's sequence number, from 1
	Command uint64
	SimTime int64 // simulated time, unix milliseconds
	Kind    sim.Kind
	// Amount is the payment's price in Currency (the merchant's or fare's
	// currency; for transfers the amount sent).
	Amount       int64
	Currency     sim.Currency
	BalanceAfter int64 // the wallet's balance after this event, its own currency
	Counterparty uint64
	Route        uint16
	Reason       sim.Reason
	Attempt      uint8
	FXRate       int64 // rate applied (sim.RateScale fixed point); 0 when none
	LatencyUS    int64 // simulated route latency
	GreenGrams   int64 // Ant Forest green-energy grams earned
	Flags        uint8 // ledger.Flag* bits
	// Epoch is the simulated-time epoch that produced the event: a restarted
	// processor keeps the events of checkpointed epochs and rewrites none.
	Epoch uint32
	// WalletOpened only.
	Provider sim.Provider
	Region   sim.Region
	Class    sim.Class
	// Postings[:NPostings] are the event's legs.
	NPostings uint8
	Postings  [MaxPostings]Posting
	// Peer is the provider on the other side of the money: for a settled
	// scan payment the acquirer (the scheme of the code or scanner that
	// took it); for a transfer debit or refund the payee's provider; for a
	// transfer credit the payer's provider. 0 for top-ups and transit.
	// Settlement between providers is struck from it.
	Peer sim.Provider
	// Hops is the number of legs of the route a settled payment, transfer
	// debit or top-up took.
	Hops uint8
	// Apps (WalletOpened) is the bit set of wallet apps (bit = provider)
	// the holder has installed; 0 = not recorded. A route with a receiver
	// app (the 2022 transfer pilot) checks it at the credit step.
	Apps uint16
	// ReceiptGrams is the green energy of an e-receipt (Ant Forest
	// e-invoice: 5 g, at most 5 a day), apart from GreenGrams so the two
	// daily caps are counted separately.
	ReceiptGrams int64
	// WalletOpened only: the holder's linked bank card (none, debit,
	// credit), the balance the holder keeps the wallet at (the float its
	// rebalancing top-ups aim for; 0 = none) and the free withdrawal quota
	// already used before the run.
	Card      sim.Card
	Target    int64
	QuotaUsed int64
	// WalletOpened only: what the holder paid from the balance before the
	// run in the current limit year and over the wallet's life, so the
	// yearly and lifetime class limits start in the steady state a long
	// run reaches (sim/gen history) instead of at zero.
	YearSpent int64
	LifeSpent int64
}

// Post appends a leg; it panics only on a programming error (too many legs).
func (e *Event) Post(a Account, amount int64, c sim.Currency) {
	e.Postings[e.NPostings] = Posting{Account: a, Amount: amount, Currency: c}
	e.NPostings++
}

// Legs returns the event's postings.
func (e *Event) Legs() []Posting { return e.Postings[:e.NPostings] }

// CommandType is a command type.
type CommandType uint8

// Command types. Credit, Compensate and Retry are saga steps that one
// partition's processor sends another; EpochMark is a control record.
const (
	CmdNone       CommandType = iota
	CmdOpenWallet             // create a wallet with an initial balance
	CmdPay                    // any payment kind, sent to the payer's wallet
	CmdCredit                 // saga: credit the payee from suspense
	CmdCompensate             // saga: refund the payer from suspense
	CmdRetry                  // saga: the consumer's next wallet tries the payment
	CmdEpochMark              // control: a source finished an epoch for this partition
	NumCommandTypes
)

var cmdNames = [NumCommandTypes]string{"", "open_wallet", "pay", "credit", "compensate", "retry", "epoch_mark"}

func (t CommandType) String() string {
	if t < NumCommandTypes {
		return cmdNames[t]
	}
	return fmt.Sprintf("command_type(%d)", uint8(t))
}

// MaxCandidates bounds the wallets a consumer tries for one payment.
const MaxCandidates = 4

// Command asks one wallet aggregate to do something.
type Command struct {
	Type    CommandType
	ID      uint64 // the payment's ID; saga steps keep it
	Wallet  uint64 // the target aggregate: decides the partition
	SimTime int64
	Epoch   uint32 // simulated-time epoch it belongs to
	Kind    sim.Kind
	Amount  int64
	// Currency is the price currency (merchant, fare or sent amount).
	Currency sim.Currency
	// Counterparty: merchant ID (scan), operator (transit), payee wallet
	// (transfer), or the payer wallet (Credit, Compensate).
	Counterparty uint64
	// Acceptors is the bit set of code schemes the merchant shows (MPM) or
	// networks its scanner reads (CPM); for transit bit = operator; for
	// transfers bit = payee provider.
	Acceptors uint16
	AccRegion sim.Region // merchant, operator or payee region
	Static    bool       // a static merchant code (PBoC class D limit)
	// Candidates are the consumer's wallets in preference order, Wallet
	// being Candidates[Attempt]. Fallback walks this list.
	NCandidates uint8
	Attempt     uint8
	Candidates  [MaxCandidates]uint64
	// Failed remembers whether every attempt so far failed for lack of
	// acceptance (for the final reason: no_accepted_wallet).
	AllUnaccepted bool
	LastReason    sim.Reason
	// OpenWallet.
	Provider sim.Provider
	Region   sim.Region
	Class    sim.Class
	// Credit and Compensate: the route, the amount in the receiving
	// wallet's currency and the held (suspense) amount and currency.
	Route        uint16
	HeldAmount   int64
	HeldCurrency sim.Currency
	FXRate       int64
	Reason       sim.Reason
	// EpochMark: the source (-1 = the generator, else a partition) and how
	// many records it sent this partition for the epoch.
	Source int32
	Count  uint32
	// Total is every saga record the source sent, to all partitions, in the
	// epoch: once all totals of an epoch after the generator's last are
	// zero, nothing is in flight anywhere and the run is complete.
	Total uint32
	// Last marks the generator's final epoch.
	Last bool
	// Peer (Credit) is the payer's provider, so the payee's credit event can
	// name both sides of the settlement.
	Peer sim.Provider
	// Apps (OpenWallet) is the bit set of wallet apps the holder has
	// installed (see Event.Apps); 0 = not known.
	Apps uint16
	// EReceipt: the merchant issues an electronic receipt (scan payments).
	EReceipt bool
	// Idem (pay, from serve) is a hash of the request's Idempotency-Key,
	// zero without one: a restarted serve rebuilds its keys from the log.
	Idem [16]byte
	// PayeeSibling (transfers to another provider) is the payee holder's
	// wallet of the payer's provider, 0 when they hold none. A route with a
	// receiver app (the 2022 pilot: the WeChat user scans the Alipay
	// sender's code with Alipay) credits this wallet: the money lands in
	// the receiver's Alipay, not in their WeChat.
	PayeeSibling uint64
	// OpenWallet: see Event.Card, Target, QuotaUsed, YearSpent and LifeSpent.
	Card      sim.Card
	Target    int64
	QuotaUsed int64
	YearSpent int64
	LifeSpent int64
	// CardFirst (Pay): the consumer chooses the linked card over the
	// balance for this payment.
	CardFirst bool
	// Rebalance (TopUp): the consumer moves money between bank and wallet
	// toward the wallet's target float instead of loading Amount (which
	// is then only used when the balance is exactly on target).
	Rebalance bool
	// Tier (scan payments): the merchant's contracted discount-rate tier.
	Tier sim.Tier
	// HeldCard (Credit, Compensate): the held money came from the payer's
	// linked card, so a refund goes back to the card.
	HeldCard bool
}
