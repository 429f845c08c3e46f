package html

import (
	"math"
	"slices"
	"testing"
)

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{formatInt(0), "0"},
		{formatInt(999), "999"},
		{formatInt(1000), "1,000"},
		{formatInt(-1234567), "-1,234,567"},
		{formatInt(math.MinInt64), "-9,223,372,036,854,775,808"},
		{formatFloat(1234.5, 2), "1,234.5"},
		{formatFloat(-0.0001, 2), "0"},
		{formatFloat(2, 3), "2"},
		{formatFloat(math.NaN(), 2), missing},
		{formatFloat(math.Inf(-1), 2), missing},
		{formatValue(0.01234), "0.012"},
		{formatValue(15.82), "15.8"},
		{formatValue(5026.4), "5,026"},
		{formatMoney(123456, "HKD"), "1,234.56"},
		{formatMoney(5, "CNY"), "0.05"},
		{formatMoney(-5, "cny"), "-0.05"},
		{formatMoney(0, "HKD"), "0.00"},
		{formatMoney(1234, "JPY"), "1,234"},
		{formatMoney(1234, "KWD"), "1.234"},
		{formatMoney(math.MinInt64, "USD"), "-92,233,720,368,547,758.08"},
		{formatSeconds(300), "5m00s"},
		{formatSeconds(3725), "1h02m05s"},
		{formatSeconds(1.5), "1.5 s"},
		{formatSeconds(math.NaN()), missing},
		{clockLabel(90), "1:30"},
		{clockLabel(3600), "1:00:00"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
	for s, want := range map[string]bool{
		"1,234": true, "-12.5": true, "99.9%": true, "1,234.56 HKD": true, "—": true,
		"": false, "HKD": false, "abc 12": false, "1.2.3": false, "12 apples and": false,
	} {
		if looksNumeric(s) != want {
			t.Errorf("looksNumeric(%q) = %v", s, !want)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		target int
		want   []float64
	}{
		{0, 5200, 5, []float64{0, 1000, 2000, 3000, 4000, 5000, 6000}},
		{0, 1, 5, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{0, 0, 5, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{-4, -1, 3, []float64{-4, -3, -2, -1}},
		{0, 52, 5, []float64{0, 10, 20, 30, 40, 50, 60}},
		{0, 23, 5, []float64{0, 5, 10, 15, 20, 25}},
	}
	for _, tt := range tests {
		got, _ := niceTicks(tt.lo, tt.hi, tt.target)
		for i := range got {
			got[i] = math.Round(got[i]*1e9) / 1e9
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("niceTicks(%v, %v, %d) = %v, want %v", tt.lo, tt.hi, tt.target, got, tt.want)
		}
	}
	for _, bad := range [][2]float64{{math.NaN(), 1}, {0, math.Inf(1)}, {5, 5}, {3, 1}} {
		ticks, step := niceTicks(bad[0], bad[1], 5)
		if len(ticks) < 2 || !(step > 0) || ticks[0] >= ticks[len(ticks)-1] {
			t.Errorf("niceTicks(%v) = %v, %v", bad, ticks, step)
		}
	}
}

func TestTimeTicks(t *testing.T) {
	ticks, clock := timeTicks(0, 120, 9)
	if clock || ticks[0] != 0 || ticks[len(ticks)-1] > 120 {
		t.Errorf("0..120 s: %v clock=%v", ticks, clock)
	}
	ticks, clock = timeTicks(0, 299, 9)
	if !clock || !slices.Equal(ticks, []float64{0, 60, 120, 180, 240}) {
		t.Errorf("0..299 s: %v clock=%v", ticks, clock)
	}
	ticks, _ = timeTicks(0, 30*86400, 9)
	if len(ticks) > 20 {
		t.Errorf("30 days: %d ticks", len(ticks))
	}
	if f := tickFormat(2.5, 10); f(7.5) != "7.5" {
		t.Errorf("tickFormat(2.5)(7.5) = %q", f(7.5))
	}
	if f := tickFormat(2000, 12000); f(4000) != "4k" {
		t.Errorf("tickFormat(2000)(4000) = %q", f(4000))
	}
	if f := percentFormat(0.2); f(0.4) != "40%" {
		t.Errorf("percentFormat(0.2)(0.4) = %q", f(0.4))
	}
}

func TestTopCategories(t *testing.T) {
	m := map[string]int64{}
	for i := range 20 {
		m[string(rune('a'+i))] = int64(i)
	}
	cats, vals, folded := topCategories(m)
	if len(cats) != maxCategories || !folded || cats[0] != "t" {
		t.Fatalf("cats %v folded %v", cats, folded)
	}
	var total float64
	for _, v := range vals {
		total += v
	}
	if total != 190 || cats[len(cats)-1] != "other (6 more)" {
		t.Errorf("total %v, last %q", total, cats[len(cats)-1])
	}
	if textWidth("支付宝", 10) != 30 || truncate("abcdefghijkl", 10, 30) == "abcdefghijkl" {
		t.Error("text measure")
	}
}

func TestDecimate(t *testing.T) {
	var pts []Point
	for i := range 100_000 {
		v := float64(i % 7)
		if i == 54_321 {
			v = 1000 // a one-sample spike must survive
		}
		pts = append(pts, Point{T: float64(i), Value: v})
	}
	sx := linear{0, 99_999, 72, 902}
	got := decimate(pts, sx)
	if len(got) > 4*831 || len(got) < 830 {
		t.Fatalf("%d points after decimation", len(got))
	}
	if !slices.ContainsFunc(got, func(p Point) bool { return p.Value == 1000 }) {
		t.Error("spike lost")
	}
	if got[0] != pts[0] || got[len(got)-1] != pts[len(pts)-1] {
		t.Error("ends lost")
	}
	if !slices.IsSortedFunc(got, func(a, b Point) int { return int(a.T - b.T) }) {
		t.Error("not in time order")
	}
	short := pts[:100]
	if len(decimate(short, sx)) != 100 {
		t.Error("short series changed")
	}
}
