package sim

import (
	"fmt"
	"strings"
)

// Provider is a wallet issuer.
type Provider uint8

// Providers. Wire values are stable.
const (
	ProviderNone Provider = iota
	Weixin                // Weixin Pay / WeChat Pay (mainland)
	WeChatPayHK
	Alipay
	AlipayHK
	UnionPay // UnionPay QuickPass / Cloud QuickPass
	ECNY     // e-CNY (digital RMB) wallets
	Bank     // bank apps
	Telco    // China Mobile / Telecom / Unicom wallets
	MPay     // Macau Pass MPay, a Macau e-wallet in MOP [A] (cal:assume.macau-wallets)
	NumProviders
)

var providerNames = [NumProviders]string{"", "weixin", "wechatpay_hk", "alipay", "alipay_hk", "unionpay", "ecny", "bank", "telco", "mpay"}

func (p Provider) String() string {
	if p < NumProviders {
		return providerNames[p]
	}
	return fmt.Sprintf("provider(%d)", uint8(p))
}

// Valid reports whether p names a real provider.
func (p Provider) Valid() bool { return p > ProviderNone && p < NumProviders }

// ParseProvider maps a name to a Provider.
func ParseProvider(s string) (Provider, error) {
	for i := Provider(1); i < NumProviders; i++ {
		if providerNames[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown wallet provider %q (want one of %v)", s, providerNames[1:])
}

// Providers lists every real provider, in wire order.
func Providers() []Provider {
	out := make([]Provider, 0, NumProviders-1)
	for p := Provider(1); p < NumProviders; p++ {
		out = append(out, p)
	}
	return out
}

// Region is where a wallet is licensed or a merchant is located.
type Region uint8

// Regions.
const (
	RegionNone Region = iota
	CN                // mainland China
	HK                // Hong Kong SAR
	MO                // Macao SAR: the third region of the Greater Bay Area
	// INTL are inbound visitors from outside the Greater Bay Area paying
	// with mainland wallets linked to a foreign card (calibration.md
	// section 3, cal:fees.foreign-card). They hold wallets, never merchants.
	INTL
	NumRegions
)

var regionNames = [NumRegions]string{"", "CN", "HK", "MO", "INTL"}

func (r Region) String() string {
	if r < NumRegions {
		return regionNames[r]
	}
	return fmt.Sprintf("region(%d)", uint8(r))
}

// Valid reports whether r names a real region.
func (r Region) Valid() bool { return r > RegionNone && r < NumRegions }

// ParseRegion maps a name to a Region.
func ParseRegion(s string) (Region, error) {
	for i := Region(1); i < NumRegions; i++ {
		if strings.EqualFold(regionNames[i], s) { // YAML loaders lowercase map keys
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown region %q (want CN, HK, MO or INTL)", s)
}

// Regions lists every real region, in wire order.
func Regions() []Region {
	out := make([]Region, 0, NumRegions-1)
	for r := Region(1); r < NumRegions; r++ {
		out = append(out, r)
	}
	return out
}

// Currency is an ISO 4217 currency. All carry two minor-unit digits.
type Currency uint8

// Currencies.
const (
	CurrencyNone Currency = iota
	CNY
	HKD
	MOP // Macanese pataca (avos)
	USD // foreign cards of inbound visitors
	NumCurrencies
)

var currencyNames = [NumCurrencies]string{"", "CNY", "HKD", "MOP", "USD"}

func (c Currency) String() string {
	if c < NumCurrencies {
		return currencyNames[c]
	}
	return fmt.Sprintf("currency(%d)", uint8(c))
}

// Valid reports whether c names a real currency.
func (c Currency) Valid() bool { return c > CurrencyNone && c < NumCurrencies }

// ParseCurrency maps an ISO code to a Currency.
func ParseCurrency(s string) (Currency, error) {
	for i := Currency(1); i < NumCurrencies; i++ {
		if strings.EqualFold(currencyNames[i], s) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown currency %q (want CNY, HKD, MOP or USD)", s)
}

// Home is the currency a region's merchants and fares are priced in (and,
// for INTL, the currency visitors' foreign cards are billed in).
func (r Region) Home() Currency {
	switch r {
	case HK:
		return HKD
	case MO:
		return MOP
	case INTL:
		return USD
	}
	return CNY
}

// WalletCurrency is the currency a wallet holds. It follows the wallet's
// licence, not its holder: a mainland Weixin or Alipay wallet is in CNY
// whoever holds it, and so is the HK phone-number e-CNY wallet (its limits
// are RMB limits, cal:limits.ecny-hk); WeChat Pay HK and AlipayHK hold
// HKD; MPay holds MOP. A visitor's mainland wallet linked to a foreign card
// (region INTL) is billed in USD at payment time, so its "balance" is the
// card's USD line and its limits USD limits (cal:fees.foreign-card).
func WalletCurrency(p Provider, r Region) Currency {
	switch {
	case p == WeChatPayHK || p == AlipayHK:
		return HKD
	case p == MPay:
		return MOP
	case r == INTL:
		return USD
	}
	return CNY
}

// Kind is a payment kind.
type Kind uint8

// Payment kinds. Open is wallet set-up, not a payment.
const (
	KindNone      Kind = iota
	ScanMPM            // consumer scans a merchant-presented code
	ScanCPM            // merchant scans a consumer-presented code
	P2P                // transfer to a wallet of the same provider
	CrossTransfer      // transfer to a wallet of another provider
	RedPacket          // small P2P gift (hongbao), at most RMB 200
	Transit            // fare at a transit gate or bus reader
	TopUp              // money in from a bank account
	Open               // wallet opening (not a payment)
	NumKinds
)

var kindNames = [NumKinds]string{"", "scan_mpm", "scan_cpm", "p2p", "cross_transfer", "red_packet", "transit", "topup", "open"}

func (k Kind) String() string {
	if k < NumKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Valid reports whether k names a real kind.
func (k Kind) Valid() bool { return k > KindNone && k < NumKinds }

// IsPayment reports whether k is counted as a payment (Open is not).
func (k Kind) IsPayment() bool { return k.Valid() && k != Open }

// IsTransfer reports whether k moves money wallet to wallet (a saga).
func (k Kind) IsTransfer() bool { return k == P2P || k == CrossTransfer || k == RedPacket }

// ParseKind maps a name to a Kind.
func ParseKind(s string) (Kind, error) {
	for i := Kind(1); i < NumKinds; i++ {
		if kindNames[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown payment kind %q (want one of %v)", s, kindNames[1:])
}

// PaymentKinds lists the kinds that count as payments, in wire order.
func PaymentKinds() []Kind {
	return []Kind{ScanMPM, ScanCPM, P2P, CrossTransfer, RedPacket, Transit, TopUp}
}
