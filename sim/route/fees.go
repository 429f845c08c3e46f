package route

import (
	"math/bits"
	"time"

	"github.com/walletsim/walletsim/sim"
)

// The fee schedule of calibration.md section 3, keyed by the date a payment
// happens on (its simulated time). Every fee is computed here, in integer
// minor units, by the functions below: the ledger only posts what they
// return. Rates are basis points (bps, 0.01%) or centi-basis-points (cbps,
// 0.0001%).

var cst = time.FixedZone("CST", 8*3600)

func day(y int, m time.Month, d int) int64 { return time.Date(y, m, d, 0, 0, 0, 0, cst).UnixMilli() }

// Dates the schedule changes on.
var (
	// cal:fees.sme-cut-2021: Tencent cut small and medium merchants' rate
	// by 10% from Sep 2021 to Sep 2024; Alipay made a similar cut in Jul
	// 2021 (no end date given: [A] still running).
	weixinSMEFrom, weixinSMETo = day(2021, 9, 1), day(2024, 9, 1)
	alipaySMEFrom              = day(2021, 7, 1)
)

// Merchant discount rates (cal:fees.mdr, cal:defaults.mdr).
const (
	StandardMDRBPS     = 60 // cal:fees.mdr 0.60%
	SMEMDRBPS          = 54 // cal:fees.sme-cut-2021 0.60% less 10%
	PreferentialMDRBPS = 38 // cal:fees.mdr preferential 0.38%
)

// MerchantRateBPS is the discount rate a merchant of the given tier and
// region pays its acquirer on date t (unix ms). The rate is the
// merchant's own contract with the institution behind its code, whoever
// the payer is. The 2021 SME cuts were Tencent's and Alipay's (mainland);
// other acquirers and Hong Kong merchants keep the standard rate for SMEs
// [A] (cal:assume.merchant-tiers).
func MerchantRateBPS(t int64, tier sim.Tier, region sim.Region, acquirer sim.Provider) int64 {
	switch tier {
	case sim.TierPreferential:
		if region == sim.CN {
			return PreferentialMDRBPS
		}
	case sim.TierSME:
		if region == sim.CN {
			switch {
			case acquirer == sim.Weixin && t >= weixinSMEFrom && t < weixinSMETo,
				acquirer == sim.Alipay && t >= alipaySMEFrom:
				return SMEMDRBPS
			}
		}
	}
	return StandardMDRBPS
}

// Bank-card fees from the 6 Sep 2016 reform (cal:fees.card-issuer,
// cal:fees.card-network).
const (
	DebitIssuerBPS  = 35    // debit: 0.35% ...
	DebitIssuerCap  = 1_300 // ... capped at RMB 13 (fen)
	CreditIssuerBPS = 45    // credit: 0.45%, no cap
	NetworkCap      = 650   // network fee, both sides together, at most RMB 6.5 (fen)
	NetworkSideCBPS = 325   // 0.0325% from each side
	WithdrawalBPS   = 10    // cal:fees.withdrawal 0.1% above the free quota ...
	WithdrawalMin   = 10    // ... at least RMB 0.10 (fen; RMB 0.01 from 2024/25 is [U])
	WithdrawalQuota = 100_000
)

// Fraction is amount * num / den rounded half up, in 128-bit arithmetic so
// that no amount and rate the validators accept can overflow. amount must
// be >= 0, num >= 0, den > 0; a result beyond int64 saturates.
func Fraction(amount, num, den int64) int64 {
	if amount <= 0 || num <= 0 || den <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(amount), uint64(num))
	lo, carry := bits.Add64(lo, uint64(den)/2, 0)
	hi += carry
	if hi >= uint64(den) {
		return 1<<63 - 1
	}
	q, _ := bits.Div64(hi, lo, uint64(den))
	if q > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(q)
}

// MerchantFee is the discount a merchant pays on amount at rateBPS.
func MerchantFee(amount, rateBPS int64) int64 { return min(Fraction(amount, rateBPS, 10_000), amount) }

// IssuerFee is what the issuer of a card receives on amount: debit 0.35%
// capped at RMB 13, credit 0.45% (cal:fees.card-issuer). A wallet's
// balance counts as a debit account [A] (cal:assume.card-funding-fee).
func IssuerFee(amount int64, card sim.Card) int64 {
	if card == sim.CardCredit {
		return Fraction(amount, CreditIssuerBPS, 10_000)
	}
	return min(Fraction(amount, DebitIssuerBPS, 10_000), DebitIssuerCap)
}

// SideFees splits a network or clearing fee of totalCBPS between the two
// sides of a payment (payer's institution, payee's or acquirer's), each
// paying half, the total capped at NetworkCap (cal:fees.card-network:
// 0.065% split 0.0325% per side, at most RMB 6.5). NetsUnion's fee is
// charged the same way on its routes' rate [A] (cal:assume.netsunion-fee).
func SideFees(amount, totalCBPS int64) (payer, payee int64) {
	total := min(Fraction(amount, totalCBPS, 1_000_000), NetworkCap)
	payer = total / 2
	return payer, total - payer
}

// WithdrawalFeeApplies reports whether p's holders pay WithdrawalFee.
func WithdrawalFeeApplies(p sim.Provider) bool { return p == sim.Weixin || p == sim.Alipay }

// WithdrawalFee is the fee on withdrawing amount from a wallet whose holder
// has already withdrawn `withdrawn` over its life: 0.1% of the part above
// the RMB 1,000 lifetime free quota, at least RMB 0.10, never more than the
// amount (cal:fees.withdrawal, WeChat Pay from 1 Mar 2016; Alipay's
// schedule is taken to be the same [A]). Other wallets withdraw free [A].
func WithdrawalFee(p sim.Provider, amount, withdrawn int64) int64 {
	if !WithdrawalFeeApplies(p) || amount <= 0 {
		return 0
	}
	free := max(WithdrawalQuota-max(withdrawn, 0), 0)
	over := amount - min(amount, free)
	if over <= 0 {
		return 0
	}
	return min(max(Fraction(over, WithdrawalBPS, 10_000), WithdrawalMin), amount)
}
