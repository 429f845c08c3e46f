package compare

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPairedDiff: the interval is the textbook paired-t interval, and one
// that spans zero is not significant.
func TestPairedDiff(t *testing.T) {
	cases := []struct {
		name      string
		d         []float64
		mean      float64
		low, high float64
		sig       bool
	}{
		// mean 3, sd sqrt(2.5), t(4) 2.776: half 2.776*1.5811/sqrt(5) = 1.963
		{"five seeds", []float64{1, 2, 3, 4, 5}, 3, 1.037, 4.963, true},
		// mean 0.4, sd sqrt(7.3): half 2.776*2.7019/sqrt(5) = 3.354
		{"spans zero", []float64{-1, 2, -3, 4, 0}, 0.4, -2.954, 3.754, false},
		{"all equal, nonzero", []float64{2, 2, 2}, 2, 2, 2, true},
		{"no difference", []float64{0, 0, 0, 0}, 0, 0, 0, false},
		// mean -1, sd sqrt(2), t(1) 12.706: half 12.706
		{"two seeds", []float64{-2, 0}, -1, -13.706, 11.706, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := PairedDiff("b", tc.d)
			if math.Abs(got.Mean-tc.mean) > 1e-9 || math.Abs(got.Low-tc.low) > 0.01 || math.Abs(got.High-tc.high) > 0.01 || got.Significant != tc.sig {
				t.Fatalf("got mean %v [%v, %v] significant %v, want %v [%v, %v] %v", got.Mean, got.Low, got.High, got.Significant, tc.mean, tc.low, tc.high, tc.sig)
			}
			if !tc.sig && !strings.HasSuffix(got.Cell(), "n.s.") {
				t.Fatalf("cell %q of an interval spanning zero is not marked n.s.", got.Cell())
			}
		})
	}
}

// TestTQuantile: the table's values, then the large-sample limit.
func TestTQuantile(t *testing.T) {
	for df, want := range map[int]float64{1: 12.706, 4: 2.776, 9: 2.262, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980, 100000: 1.960} {
		if got := TQuantile975(df); math.Abs(got-want) > 0.001 {
			t.Errorf("t(%d) = %v, want %v", df, got, want)
		}
	}
	prev := math.Inf(1)
	for df := 1; df < 1000; df++ {
		q := TQuantile975(df)
		if q > prev || q < 1.96 {
			t.Fatalf("t(%d) = %v after %v: not decreasing towards 1.96", df, q, prev)
		}
		prev = q
	}
}

// TestRunPaired: real runs of two policies on three seeds; every metric
// the table shows has a difference per other policy computed from the
// per-seed values, compare.json carries them and compare.html shows them.
func TestRunPaired(t *testing.T) {
	if testing.Short() {
		t.Skip("six runs on the embedded broker")
	}
	sc := quickstart(t, 3000, 11)
	o := Options{Scenario: sc, Policies: []Policy{policy(t, "walled-garden"), policy(t, "unified-qr")}}
	seeds, err := SeedsFrom(11, 3)
	if err != nil {
		t.Fatal(err)
	}
	c, err := RunPaired(context.Background(), o, seeds)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Paired
	if p == nil || len(p.Seeds) != 3 || len(p.Runs) != 6 || !p.InvariantsOK() {
		t.Fatalf("paired %+v", p)
	}
	// Different seeds are different traffic.
	if p.Runs[0].Digest == p.Runs[2].Digest {
		t.Fatal("seeds 11 and 12 gave the same events")
	}
	var accept *PairedMetric
	for i := range p.Metrics {
		m := &p.Metrics[i]
		if len(m.Diffs) != 1 || len(m.Values) != 2 || len(m.Values[0]) != 3 {
			t.Fatalf("%s: %d diffs, values %v", m.Name, len(m.Diffs), m.Values)
		}
		var d []float64
		for s := range 3 {
			d = append(d, m.Values[1][s]-m.Values[0][s])
		}
		if want := PairedDiff("unified-qr", d); m.Diffs[0] != want {
			t.Fatalf("%s: diff %+v, from the values %+v", m.Name, m.Diffs[0], want)
		}
		if m.Name == "acceptance rate" {
			accept = m
		}
	}
	// calibration section 2: unified QR accepts what walled gardens
	// refuse; the effect is far larger than the seed-to-seed spread.
	if accept == nil || !accept.Diffs[0].Significant || accept.Diffs[0].Low <= 0 {
		t.Fatalf("acceptance difference %+v, want a significant rise", accept)
	}
	dir := t.TempDir()
	if _, err := c.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "compare.json"))
	var back struct {
		Paired Paired `json:"paired"`
	}
	if err := json.Unmarshal(raw, &back); err != nil || len(back.Paired.Metrics) != len(p.Metrics) {
		t.Fatalf("compare.json paired: %v (%d metrics)", err, len(back.Paired.Metrics))
	}
	if _, err := c.WriteHTML(dir); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "compare.html"))
	for _, want := range []string{`id="paired"`, "Paired differences over 3 seeds", "Δ unified-qr [95% CI]", "acceptance rate"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("compare.html lacks %q", want)
		}
	}
	var tb bytes.Buffer
	if err := p.WritePairedTable(&tb); err != nil || !strings.Contains(tb.String(), "Δ unified-qr") {
		t.Fatalf("table: %v\n%s", err, tb.String())
	}
}
