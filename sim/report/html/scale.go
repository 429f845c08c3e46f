package html

import (
	"math"
	"strconv"
)

// linear maps a domain [d0, d1] onto a range [r0, r1]. A degenerate domain
// maps everything to the middle of the range instead of dividing by zero.
type linear struct{ d0, d1, r0, r1 float64 }

func (s linear) at(v float64) float64 {
	if !(s.d1 != s.d0) || math.IsNaN(v) || math.IsInf(v, 0) {
		return (s.r0 + s.r1) / 2
	}
	return s.r0 + (v-s.d0)/(s.d1-s.d0)*(s.r1-s.r0)
}

// expand turns an empty or inverted interval into a usable one.
func expand(lo, hi float64) (float64, float64) {
	if math.IsNaN(lo) || math.IsInf(lo, 0) || math.IsNaN(hi) || math.IsInf(hi, 0) {
		return 0, 1
	}
	if hi > lo {
		return lo, hi
	}
	if lo == 0 {
		return 0, 1
	}
	d := math.Abs(lo) / 2
	if lo > 0 && lo-d < 0 {
		return 0, hi + d
	}
	return lo - d, hi + d
}

// niceStep returns a step of 1, 2 or 5 times a power of ten that cuts span
// into about target pieces (the step nearest on a log scale, as d3 does).
func niceStep(span float64, target int) float64 {
	if target < 1 {
		target = 1
	}
	if !(span > 0) || math.IsInf(span, 0) {
		return 1
	}
	raw := span / float64(target)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / mag; {
	case f >= math.Sqrt(50):
		return 10 * mag
	case f >= math.Sqrt(10):
		return 5 * mag
	case f >= math.Sqrt2:
		return 2 * mag
	default:
		return mag
	}
}

// niceTicks widens [lo, hi] outwards to multiples of a nice step and returns
// the ticks; the first and last tick are the new domain.
func niceTicks(lo, hi float64, target int) (ticks []float64, step float64) {
	return niceTicksMin(lo, hi, target, 0)
}

// niceTicksMin is niceTicks with a smallest step (1 for counts).
func niceTicksMin(lo, hi float64, target int, minStep float64) (ticks []float64, step float64) {
	lo, hi = expand(lo, hi)
	step = math.Max(niceStep(hi-lo, target), minStep)
	start := math.Floor(lo/step+1e-9) * step
	end := math.Ceil(hi/step-1e-9) * step
	for i := 0; i <= 1000; i++ {
		v := start + float64(i)*step
		if v > end+step*1e-9 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0 // no "-0"
		}
		ticks = append(ticks, v)
	}
	if len(ticks) < 2 {
		ticks = append(ticks, start+step)
	}
	return ticks, step
}

// innerTicks returns the multiples of a nice step inside [lo, hi], leaving
// the domain as it is (used for time, where the lines should touch the edges).
func innerTicks(lo, hi, step float64) []float64 {
	var ticks []float64
	if !(step > 0) {
		return nil
	}
	start := math.Ceil(lo/step-1e-9) * step
	for i := 0; i <= 1000; i++ {
		v := start + float64(i)*step
		if v > hi+step*1e-9 {
			break
		}
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, v)
	}
	return ticks
}

// timeSteps are the tick steps, in seconds, used once a time axis is longer
// than three minutes; labels are then m:ss or h:mm:ss.
var timeSteps = []float64{30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}

// timeTicks picks ticks for a time axis in seconds. It reports whether the
// labels are clock style (m:ss) rather than plain seconds.
func timeTicks(lo, hi float64, target int) (ticks []float64, clock bool) {
	if hi-lo <= 180 {
		return innerTicks(lo, hi, niceStep(hi-lo, target)), false
	}
	step := timeSteps[len(timeSteps)-1]
	for _, s := range timeSteps {
		if (hi-lo)/s <= float64(target) {
			step = s
			break
		}
	}
	for (hi-lo)/step > float64(target)*2 { // beyond a day
		step *= 2
	}
	return innerTicks(lo, hi, step), true
}

// clockLabel writes seconds as m:ss, or h:mm:ss past an hour.
func clockLabel(sec float64) string {
	neg := sec < 0
	t := int64(math.Round(math.Abs(sec)))
	h, m, s := t/3600, t/60%60, t%60
	var out string
	if h > 0 {
		out = strconv.FormatInt(h, 10) + ":" + pad2(m) + ":" + pad2(s)
	} else {
		out = strconv.FormatInt(m, 10) + ":" + pad2(s)
	}
	if neg {
		return "-" + out
	}
	return out
}

// stepDecimals is the number of decimals that writes every multiple of step
// exactly (2.5 -> 1, 0.05 -> 2), at most 6.
func stepDecimals(step float64) int {
	for d := 0; d < 6; d++ {
		x := step * math.Pow(10, float64(d))
		if math.Abs(x-math.Round(x)) < 1e-6*math.Max(1, x) {
			return d
		}
	}
	return 6
}

// tickFormat returns a label function for ticks spaced by step, with k/M/G
// suffixes once the values reach ten thousand.
func tickFormat(step, maxAbs float64) func(float64) string {
	div, suffix := 1.0, ""
	switch {
	case maxAbs >= 1e10:
		div, suffix = 1e9, "G"
	case maxAbs >= 1e7:
		div, suffix = 1e6, "M"
	case maxAbs >= 1e4:
		div, suffix = 1e3, "k"
	}
	d := stepDecimals(step / div)
	return func(v float64) string {
		if v == 0 {
			return "0"
		}
		return formatFloat(v/div, d) + suffix
	}
}

// percentFormat labels ratios 0..1 as percentages.
func percentFormat(step float64) func(float64) string {
	d := stepDecimals(step * 100)
	return func(v float64) string { return formatFloat(v*100, d) + "%" }
}
