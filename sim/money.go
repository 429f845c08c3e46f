package sim

import (
	"fmt"
	"math"
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

// Convert turns src minor units into target minor units at rate, rounding
// down: the customer never receives more than the rate allows.
func Convert(src, rate int64) int64 { return src * rate / RateScale }

// SourceFor is the smallest source amount that converts to at least dst at
// rate (what a payer must pay for a price in another currency).
func SourceFor(dst, rate int64) int64 {
	if rate <= 0 {
		return 0
	}
	return (dst*RateScale + rate - 1) / rate
}

// FeeBPS is amount * bps / 10_000, rounded half up: merchant discount rates
// are quoted in basis points (0.60% = 60 bps; 0.38% = 38; 0.0325% needs
// hundredths, so fees use centi-basis-points, see FeeCBPS).
func FeeBPS(amount int64, bps int64) int64 { return (amount*bps + 5_000) / 10_000 }

// FeeCBPS is amount * cbps / 1_000_000 (centi-basis-points: 0.0325% = 325),
// rounded half up.
func FeeCBPS(amount int64, cbps int64) int64 { return (amount*cbps + 500_000) / 1_000_000 }
