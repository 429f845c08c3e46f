package calibration

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const hour = 3_600_000

func TestPeakBin(t *testing.T) {
	for _, tc := range []struct {
		name   string
		phases []scenario.CompiledPhase
		epoch  int64
		want   int64
	}{
		{"hour-aligned phases: the peak hour", []scenario.CompiledPhase{{FromMS: 8 * hour, ToMS: 9 * hour}}, 15 * 60_000, hour},
		{"a quarter-hour burst", []scenario.CompiledPhase{{FromMS: 12 * hour, ToMS: 12*hour + 15*60_000}}, 60_000, 15 * 60_000},
		{"never finer than an epoch", []scenario.CompiledPhase{{FromMS: 0, ToMS: 60_000}}, 15 * 60_000, 15 * 60_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &scenario.Compiled{Scenario: &scenario.Scenario{}, EpochMS: tc.epoch, Phases: tc.phases}
			if got := peakBin(sc); got != tc.want {
				t.Errorf("bin = %d ms, want %d", got, tc.want)
			}
		})
	}
}

func TestPlanBinsAndPeak(t *testing.T) {
	sc := &scenario.Compiled{Scenario: &scenario.Scenario{}, StartMS: 0, EndMS: 4 * hour, Phases: []scenario.CompiledPhase{
		{FromMS: 0, ToMS: 2 * hour, Multiplier: 2},
		{FromMS: hour, ToMS: hour + hour/2, Multiplier: 0}, // later phase wins
	}}
	got := planBins(sc, hour)
	want := []float64{2 * hour, hour, hour, hour}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("bins = %v, want %v", got, want)
	}
	// mean rate 5/4 per ms-hour, peak 2: 1.6x
	if p := peakOf(got, hour, 4*hour); math.Abs(p-1.6) > 1e-12 {
		t.Errorf("peak = %v, want 1.6", p)
	}
	// A partial last bin is compared by its rate, not its count.
	if p := peakOf([]float64{10, 10, 5}, 2, 5); math.Abs(p-1) > 1e-12 {
		t.Errorf("partial bin peak = %v, want 1", p)
	}
}

func TestBasis(t *testing.T) {
	src, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	row := map[string]float64{"alipay": 0.55, "weixin": 0.39, "unionpay": 0.02, "bank": 0.02, "ecny": 0.01, "telco": 0.01}
	peak := func(v float64) string {
		id, _ := src.peakRow(v)
		return id
	}
	for _, tc := range []struct {
		name, got, want string
	}{
		{"row share", src.walletShareBasis(sim.CN, sim.Alipay, row), "cal:" + RowWalletShares},
		{"QuickPass and bank together", src.walletShareBasis(sim.CN, sim.Bank, row), "cal:" + RowWalletShares},
		{"assumed share", src.walletShareBasis(sim.CN, sim.Alipay, map[string]float64{"alipay": 0.6}), Assumed},
		{"HK has no row", src.walletShareBasis(sim.HK, sim.AlipayHK, map[string]float64{"alipay_hk": 0.55}), Assumed},
		{"scan size", src.distBasis(sim.ScanMPM, scenario.Dist{Median: 60, Sigma: 1.2, Max: 50000}), "cal:" + RowScanSize},
		{"red packets", src.distBasis(sim.RedPacket, scenario.Dist{Median: 10, Sigma: 1, Max: 200}), "cal:" + RowP2PSize},
		{"drifted scan size", src.distBasis(sim.ScanMPM, scenario.Dist{Median: 65, Sigma: 1.2}), Assumed},
		{"HK spend, mean 200", src.crossDistBasis(sim.HK, scenario.Dist{Median: 109, Sigma: 1.1}), "cal:" + RowHKSpend},
		{"HK spend, mean out of 150-250", src.crossDistBasis(sim.HK, scenario.Dist{Median: 200, Sigma: 1.1}), Assumed},
		{"default riders", src.ridersBasis(nil), "cal:" + RowDailyRiders},
		{"changed riders", src.ridersBasis(map[string]float64{"mtr": 1}), Assumed},
		{"transit peak", peak(2.2), RowTransitPeak},
		{"11.11", peak(4.0), RowEventPeaks},
		{"other peak", peak(3), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: basis %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

// The collector sees the same commands whether it taps the run's source
// or regenerates them, and notices a run that skipped epochs.
func TestCollectorTapMatchesMeasure(t *testing.T) {
	sc := compiled(t, "hk-rush-hour", "small")
	c := NewCollector(sc)
	src := c.Wrap(gen.New(sc))
	var buf []event.Command
	for e := uint32(0); ; e++ {
		var last bool
		buf, last = src.Epoch(e, buf[:0])
		if last {
			break
		}
	}
	if !c.Complete() {
		t.Fatal("a full pass is not complete")
	}
	got, err := c.Report(sc, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Measure(sc).Report(sc, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tapped report differs from the measured one:\n%+v\n%+v", got, want)
	}
	resumed := NewCollector(sc)
	w := resumed.Wrap(gen.New(sc))
	w.Epoch(3, nil)
	if resumed.Complete() {
		t.Fatal("a run resumed at epoch 3 claims to have seen everything")
	}
}

// The report of a small quickstart, as calibration.json: a change to the
// generator, the targets or the format shows up here (go test -update).
func TestReportGolden(t *testing.T) {
	for _, name := range []string{"quickstart", "gba-cross-border"} {
		t.Run(name, func(t *testing.T) {
			sc := compiled(t, name, "small")
			rep, err := Measure(sc).Report(sc, Config{})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			p, err := rep.WriteJSON(dir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var tbl bytes.Buffer
			rep.WriteTable(&tbl)
			got = append(append(got, "\n"...), tbl.Bytes()...)
			golden := filepath.Join("testdata", name+"-small.golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("report differs from %s (go test -update if intended):\n%s", golden, got)
			}
			var back Report
			if err := json.Unmarshal(got[:bytes.Index(got, []byte("\n}\n"))+2], &back); err != nil || back.Payments != 20_000 || back.Wallets != 1000 {
				t.Errorf("calibration.json does not read back as a 20k-payment, 1k-wallet report: %v %+v", err, back)
			}
		})
	}
}
