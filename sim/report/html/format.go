package html

import (
	"math"
	"strconv"
	"strings"
)

// missing is what a value that is absent or not finite shows as.
const missing = "—"

// formatInt writes v with a comma every three digits: 1234567 -> 1,234,567.
func formatInt(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	s = groupDigits(s)
	if neg {
		return "-" + s
	}
	return s
}

// groupDigits puts commas into a string of decimal digits.
func groupDigits(s string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	head := len(s) % 3
	if head > 0 {
		b.WriteString(s[:head])
	}
	for i := head; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// formatFloat writes v with at most digits decimals, trailing zeros dropped,
// and thousands separators in the integer part.
func formatFloat(v float64, digits int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return missing
	}
	if digits < 0 {
		digits = 0
	}
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	s = groupDigits(intPart)
	if hasFrac {
		s += "." + frac
	}
	if neg {
		return "-" + s
	}
	return s
}

// formatValue picks a precision that suits the size of v: three significant
// digits for small values, none for large ones.
func formatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return missing
	case a >= 100:
		return formatFloat(v, 0)
	case a >= 10:
		return formatFloat(v, 1)
	case a >= 1:
		return formatFloat(v, 2)
	default:
		return formatFloat(v, 3)
	}
}

// minorDigits is the number of decimals of a currency's minor unit. ISO 4217
// currencies not listed here have two.
var minorDigits = map[string]int{
	"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0,
	"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}

// formatMoney writes an amount in minor units as a decimal in major units,
// exactly: 123456 HKD -> 1,234.56.
func formatMoney(minor int64, currency string) string {
	d, ok := minorDigits[strings.ToUpper(currency)]
	if !ok {
		d = 2
	}
	neg := minor < 0
	// Work on the decimal string so that math.MinInt64 needs no special case.
	s := strconv.FormatInt(minor, 10)
	if neg {
		s = s[1:]
	}
	if d > 0 {
		for len(s) <= d {
			s = "0" + s
		}
		s = groupDigits(s[:len(s)-d]) + "." + s[len(s)-d:]
	} else {
		s = groupDigits(s)
	}
	if neg {
		return "-" + s
	}
	return s
}

// formatSeconds writes a length of time for a person: 90 -> 1m30s.
func formatSeconds(sec float64) string {
	if math.IsNaN(sec) || math.IsInf(sec, 0) || sec < 0 {
		return missing
	}
	if sec < 60 {
		return formatFloat(sec, 2) + " s"
	}
	total := int64(math.Round(sec))
	h, m, s := total/3600, total/60%60, total%60
	if h > 0 {
		return strconv.FormatInt(h, 10) + "h" + pad2(m) + "m" + pad2(s) + "s"
	}
	return strconv.FormatInt(m, 10) + "m" + pad2(s) + "s"
}

func pad2(v int64) string {
	if v < 10 {
		return "0" + strconv.FormatInt(v, 10)
	}
	return strconv.FormatInt(v, 10)
}

// looksNumeric reports whether a table cell reads as a number (so it is
// right-aligned): "1,234", "-12.5", "99.9%", "1,234.56 HKD".
func looksNumeric(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || s == missing {
		return s == missing
	}
	if f := strings.Fields(s); len(f) == 2 && len(f[1]) <= 4 {
		s = f[0] // a trailing unit or currency code
	}
	s = strings.TrimSuffix(s, "%")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	s = strings.ReplaceAll(s, ",", "")
	if s == "" {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
