package sim

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Money is an amount in minor units (fen, cents) with its currency. It is
// never a float: every sum in walletsim is exact.
type Money struct {
	Amount   int64
	Currency Currency
}

func (m Money) String() string {
	sign := ""
	a := m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, a/100, a%100, m.Currency)
}

// ParseMajor reads a decimal amount in major units ("12.5", "60") exactly,
// without passing through a float.
func ParseMajor(s string) (int64, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || (hasFrac && (len(frac) == 0 || len(frac) > 2)) {
		return 0, fmt.Errorf("amount %q: want digits with at most 2 decimals", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > math.MaxInt64/100 {
		return 0, fmt.Errorf("amount %q: out of range", s)
	}
	var f int64
	if hasFrac {
		if len(frac) == 1 {
			frac += "0"
		}
		f, err = strconv.ParseInt(frac, 10, 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("amount %q: bad decimals", s)
		}
	}
	v := w*100 + f
	if neg {
		v = -v
	}
	return v, nil
}

// RateScale is the fixed-point scale of FX rates: a rate of 914_000 means one
// unit of the source currency buys 0.914 units of the target.
const RateScale = 1_000_000

// Bounds that keep the money arithmetic exact. Policies are compiled
// against them (route.Compile) and commands validated against MaxAmount
// (event.Command.Validate), so no product below overflows int64 even
// before the 128-bit intermediates, which remain as a second guard.
const (
	// MinRate and MaxRate bound a mid rate, margin applied: 0.0005 to
	// 1000 units of the target per unit of the source. With amounts up to
	// 2^48, SourceFor stays under 2^48 * 2000 < 2^60.
	MinRate = RateScale / 2000
	MaxRate = RateScale * 1000
	// MaxFXMarginBPS bounds an FX margin: half the rate at most, so a
	// margined rate never reaches zero (a zero rate would make a payment
	// free).
	MaxFXMarginBPS = 5_000
	// MaxBalance is the hard cap on any wallet's balance, whatever its
	// class (2^52 minor units, about 4.5e13 in major units): balances and
	// the sums over them stay far from int64's range.
	MaxBalance = 1 << 52
)

// mulDiv is a*b/d rounded down for a, b >= 0 and d > 0, through a
// 128-bit product; a quotient past int64 saturates at math.MaxInt64.
func mulDiv(a, b, d uint64, add uint64) int64 {
	hi, lo := bits.Mul64(a, b)
	var c uint64
	lo, c = bits.Add64(lo, add, 0)
	hi += c
	if hi >= d {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, d)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

// Convert turns src minor units into target minor units at rate, rounding
// down: the customer never receives more than the rate allows. Negative
// inputs convert to 0; a result past int64 saturates.
func Convert(src, rate int64) int64 {
	if src <= 0 || rate <= 0 {
		return 0
	}
	return mulDiv(uint64(src), uint64(rate), RateScale, 0)
}

// SourceFor is the smallest source amount that converts to at least dst at
// rate (what a payer must pay for a price in another currency). Exact for
// every dst >= 0 and rate > 0 (128-bit intermediate); a result past int64
// saturates at math.MaxInt64, which no balance covers.
func SourceFor(dst, rate int64) int64 {
	if rate <= 0 || dst <= 0 {
		return 0
	}
	return mulDiv(uint64(dst), RateScale, uint64(rate), uint64(rate)-1)
}

// FeeBPS is amount * bps / 10_000, rounded half up: merchant discount rates
// are quoted in basis points (0.60% = 60 bps; 0.38% = 38; 0.0325% needs
// hundredths, so fees use centi-basis-points, see FeeCBPS). Exact for
// every amount and bps >= 0 (128-bit intermediate); 0 for negative input.
func FeeBPS(amount int64, bps int64) int64 {
	if amount <= 0 || bps <= 0 {
		return 0
	}
	return mulDiv(uint64(amount), uint64(bps), 10_000, 5_000)
}

// FeeCBPS is amount * cbps / 1_000_000 (centi-basis-points: 0.0325% = 325),
// rounded half up; exact like FeeBPS.
func FeeCBPS(amount int64, cbps int64) int64 {
	if amount <= 0 || cbps <= 0 {
		return 0
	}
	return mulDiv(uint64(amount), uint64(cbps), 1_000_000, 500_000)
}

// AddSat is a+b for counters of money spent: a, b >= 0, saturating at
// math.MaxInt64 instead of wrapping negative (a wrapped DaySpent once let
// a payment past the daily limit).
func AddSat(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Exceeds reports whether spending amount on top of spent passes limit
// (0: no limit), without computing spent+amount (which could overflow).
func Exceeds(spent, amount, limit int64) bool {
	return limit > 0 && (spent > limit || amount > limit-spent)
}
