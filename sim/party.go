package sim

import "fmt"

// Role is the part an institution plays in one payment's money flows (the
// four-party model plus clearing): the same company can play several, e.g.
// Alipay is the wallet of an Alipay payer and the acquirer of the Alipay
// code it scans.
type Role uint8

// Roles. Wire values are stable (they are part of fee account IDs).
const (
	RoleNone     Role = iota
	RoleAcquirer      // the institution behind the merchant's code or scanner: earns the merchant discount
	RoleIssuer        // the payer's card or account issuer on a card network, and the bank behind a linked card
	RoleWallet        // the payer's wallet provider: pays for card funding, earns withdrawal fees
	RoleNetwork       // the card network (UnionPay): 0.0325% from each side
	RoleClearing      // non-bank clearing (NetsUnion)
	NumRoles
)

var roleNames = [NumRoles]string{"", "acquirer", "issuer", "wallet", "network", "clearing"}

func (r Role) String() string {
	if r < NumRoles {
		return roleNames[r]
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Valid reports whether r names a real role.
func (r Role) Valid() bool { return r > RoleNone && r < NumRoles }

// Roles lists every role in wire order.
func Roles() []Role {
	out := make([]Role, 0, NumRoles-1)
	for r := Role(1); r < NumRoles; r++ {
		out = append(out, r)
	}
	return out
}

// Institution is a company that earns or pays fees. Values below
// NumProviders are the wallet providers themselves (so Institution(p) is
// provider p): UnionPay runs both QuickPass and the card network, and
// "bank" stands for the banks, which also issue the cards wallets link.
// The clearing houses that are not wallet providers follow.
type Institution uint8

// Institutions that are not wallet providers.
const (
	InstNetsUnion Institution = 16 + iota // NetsUnion (wanglian), non-bank clearing since 2018-06
	NumInstitutions
)

// InstitutionOf is the institution behind a wallet provider.
func InstitutionOf(p Provider) Institution { return Institution(p) }

func (i Institution) String() string {
	switch {
	case i > 0 && i < Institution(NumProviders):
		return Provider(i).String()
	case i == InstNetsUnion:
		return "netsunion"
	}
	return fmt.Sprintf("institution(%d)", uint8(i))
}

// Valid reports whether i names a real institution.
func (i Institution) Valid() bool {
	return (i > 0 && i < Institution(NumProviders)) || i == InstNetsUnion
}

// Card is the bank card a wallet is linked to (funding source besides the
// wallet's balance).
type Card uint8

// Cards. Wire values are stable.
const (
	CardNone Card = iota
	CardDebit
	CardCredit
	NumCards
)

var cardNames = [NumCards]string{"none", "debit", "credit"}

func (c Card) String() string {
	if c < NumCards {
		return cardNames[c]
	}
	return fmt.Sprintf("card(%d)", uint8(c))
}

// Valid reports whether c is a known card kind (none included).
func (c Card) Valid() bool { return c < NumCards }

// ParseCard maps a name to a Card.
func ParseCard(s string) (Card, error) {
	for i := Card(0); i < NumCards; i++ {
		if cardNames[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown card kind %q (want none, debit or credit)", s)
}

// Tier is a merchant's contracted discount-rate tier with its acquirer.
type Tier uint8

// Tiers. Wire values are stable.
const (
	TierStandard     Tier = iota // 0.60%
	TierSME                      // small and medium merchants: 0.54% while the 2021 cuts ran
	TierPreferential             // 0.38%
	NumTiers
)

var tierNames = [NumTiers]string{"standard", "sme", "preferential"}

func (t Tier) String() string {
	if t < NumTiers {
		return tierNames[t]
	}
	return fmt.Sprintf("tier(%d)", uint8(t))
}

// ParseTier maps a name to a Tier.
func ParseTier(s string) (Tier, error) {
	for i := Tier(0); i < NumTiers; i++ {
		if tierNames[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown merchant tier %q (want standard, sme or preferential)", s)
}
