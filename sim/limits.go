package sim

import "fmt"

// Class is a wallet's KYC class; it selects the limits the wallet lives under.
type Class uint8

// Classes (cal:limits.account-class, cal:limits.barcode-classes).
const (
	ClassNone Class = iota
	CNClass1        // PBoC class I: RMB 1,000 cumulative, lifetime
	CNClass2        // class II: RMB 100,000 a year
	CNClass3        // class III: RMB 200,000 a year
	ECNYTier1
	ECNYTier2
	ECNYTier3
	ECNYTier4
	ECNYHK  // HK phone-number e-CNY wallet (May 2024)
	HKSVF   // Hong Kong stored-value e-wallet [A]
	HKBasic // Hong Kong e-wallet without full KYC [A]
	// ForeignCard is a mainland wallet linked to a foreign card (inbound
	// visitors): USD 5,000 a payment, USD 50,000 a year (cal:fees.foreign-card).
	ForeignCard
	MOWallet // Macau e-wallet (MPay) [A] (cal:assume.macau-wallets)
	NumClasses
)

var classNames = [NumClasses]string{"", "cn_class1", "cn_class2", "cn_class3", "ecny_tier1", "ecny_tier2", "ecny_tier3", "ecny_tier4", "ecny_hk", "hk_svf", "hk_basic", "foreign_card", "mo_wallet"}

func (c Class) String() string {
	if c < NumClasses {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Valid reports whether c names a real class.
func (c Class) Valid() bool { return c > ClassNone && c < NumClasses }

// ParseClass maps a name to a Class.
func ParseClass(s string) (Class, error) {
	for i := Class(1); i < NumClasses; i++ {
		if classNames[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown KYC class %q (want one of %v)", s, classNames[1:])
}

// Limits are in the wallet's own currency, minor units; 0 means no limit.
type Limits struct {
	BalanceCap int64
	PerTxn     int64
	PerDay     int64
	PerYear    int64
	Lifetime   int64 // cumulative outgoing over the wallet's life
	StaticDay  int64 // per day through static merchant codes (PBoC class D)
}

const rmb = 100 // fen per yuan

// DefaultLimits is the limit table of cal:defaults.account-limits and cal:limits.ecny-tiers.
var DefaultLimits = [NumClasses]Limits{
	// calibration: class I RMB 1,000 lifetime; fewer than 2 factors RMB 1,000/day; static codes 500/day
	CNClass1: {Lifetime: 1_000 * rmb, PerDay: 1_000 * rmb, StaticDay: 500 * rmb},
	// calibration: class II RMB 100,000/yr; 2+ factors RMB 5,000/day; static 500/day
	CNClass2: {PerYear: 100_000 * rmb, PerDay: 5_000 * rmb, StaticDay: 500 * rmb},
	// calibration: class III RMB 200,000/yr; dynamic class B 5,000/day; static 500/day
	CNClass3: {PerYear: 200_000 * rmb, PerDay: 5_000 * rmb, StaticDay: 500 * rmb},
	// calibration: e-CNY tiers (CCB 2020): balance / per txn / per day / per year
	ECNYTier1: {BalanceCap: 500_000 * rmb, PerTxn: 50_000 * rmb, PerDay: 100_000 * rmb, PerYear: 500_000 * rmb},
	ECNYTier2: {BalanceCap: 10_000 * rmb, PerTxn: 5_000 * rmb, PerDay: 10_000 * rmb, PerYear: 300_000 * rmb},
	ECNYTier3: {BalanceCap: 2_000 * rmb, PerTxn: 2_000 * rmb, PerDay: 2_000 * rmb, PerYear: 50_000 * rmb},
	ECNYTier4: {BalanceCap: 1_000 * rmb, PerTxn: 500 * rmb, PerDay: 1_000 * rmb, PerYear: 10_000 * rmb},
	// calibration: HK phone-number e-CNY wallet: 10k balance, 2k/txn, 5k/day, 50k/yr
	ECNYHK: {BalanceCap: 10_000 * rmb, PerTxn: 2_000 * rmb, PerDay: 5_000 * rmb, PerYear: 50_000 * rmb},
	// [A] HK SVF e-wallet with full KYC: HK$ 50,000 balance, HK$ 20,000 a day.
	HKSVF: {BalanceCap: 50_000 * 100, PerDay: 20_000 * 100},
	// [A] HK e-wallet without full KYC, modelled on the Octopus HK$3,000 load cap.
	HKBasic: {BalanceCap: 3_000 * 100, PerDay: 3_000 * 100},
	// cal:fees.foreign-card: USD 5,000 per transaction, USD 50,000 per year (USD cents)
	ForeignCard: {PerTxn: 5_000 * 100, PerYear: 50_000 * 100},
	// [A] cal:assume.macau-wallets: MOP 10,000 balance, MOP 5,000 a day (avos)
	MOWallet: {BalanceCap: 10_000 * 100, PerDay: 5_000 * 100},
}

// Reason is a decline reason code; its name is the machine-readable code in
// events, summaries and HTTP errors.
type Reason uint8

// Reasons.
const (
	ReasonNone         Reason = iota
	InsufficientFunds         // balance below the debit
	LimitExceeded             // a per-transaction, daily, yearly, lifetime or static-code limit
	BalanceCapExceeded        // a credit would pass the wallet's balance cap
	NoAcceptedWallet          // none of the consumer's wallets can pay this code
	RouteUnavailable          // the policy has no route for this wallet and code
	FXUnavailable             // the route needs a currency conversion it does not offer
	RouteLimitExceeded        // the route's own cap (e.g. the 2022 transfer pilot's RMB 2,000)
	WalletUnknown             // the counterparty wallet does not exist
	CurrencyMismatch          // the command's currency does not fit the wallet or route
	InvalidAmount             // zero or negative amount
	NumReasons
)

var reasonNames = [NumReasons]string{"", "insufficient_funds", "limit_exceeded", "balance_cap_exceeded", "no_accepted_wallet", "route_unavailable", "fx_unavailable", "route_limit_exceeded", "wallet_unknown", "currency_mismatch", "invalid_amount"}

func (r Reason) String() string {
	if r < NumReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Valid reports whether r names a real reason (ReasonNone is not one).
func (r Reason) Valid() bool { return r > ReasonNone && r < NumReasons }

// ParseReason maps a code to a Reason.
func ParseReason(s string) (Reason, error) {
	for i := Reason(1); i < NumReasons; i++ {
		if reasonNames[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown decline reason %q", s)
}

// Reasons lists every reason code.
func Reasons() []Reason {
	out := make([]Reason, 0, NumReasons-1)
	for r := Reason(1); r < NumReasons; r++ {
		out = append(out, r)
	}
	return out
}
