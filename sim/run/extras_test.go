package run

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/faults"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/scenario"
)

// countingObserver is an Observer that counts what it saw.
type countingObserver struct {
	engines, events atomic.Int64
	owned           atomic.Int64
}

func (c *countingObserver) ObserveEngine(*engine.Engine) { c.engines.Add(1) }
func (c *countingObserver) SetPartitionsOwned(n int)     { c.owned.Store(int64(n)) }
func (c *countingObserver) Observe(*event.Event)         { c.events.Add(1) }

// The extras each do what Options asks of them, in one run: broker faults
// injected and reported (Result and summary.json), the observer sees the
// engine and every event, the series and report.html are sampled, and the
// calibration report covers the run's payments. The digest is the digest
// of a run without them.
func TestExtras(t *testing.T) {
	ref, err := Run(context.Background(), load(t, 20_000, 5))
	if err != nil {
		t.Fatal(err)
	}
	o := load(t, 20_000, 5)
	obs := &countingObserver{}
	o.Faults = faults.Config{ProduceErrorRate: 0.05, Seed: 9}
	o.Observer, o.Sample, o.Calibrate = obs, true, true
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if !s.Invariants.OK() || s.Events.Digest != ref.Summary.Events.Digest {
		t.Fatalf("with extras: digest %s (want %s), invariants %+v", s.Events.Digest, ref.Summary.Events.Digest, s.Invariants)
	}
	if res.Faults == nil || res.Faults.ProduceErrors == 0 || s.Faults != res.Faults {
		t.Errorf("faults report %+v in the result, %+v in the summary: want produce errors in both", res.Faults, s.Faults)
	}
	if obs.engines.Load() != 1 || obs.events.Load() != s.Events.Written || obs.owned.Load() != 4 {
		t.Errorf("observer: %d engines, %d events (log has %d), %d partitions owned", obs.engines.Load(), obs.events.Load(), s.Events.Written, obs.owned.Load())
	}
	if res.Series == nil || len(res.Series.Throughput) < 2 {
		t.Errorf("series %+v: want at least the start and a final sample", res.Series)
	}
	cal, err := res.Calibration()
	if err != nil || cal == nil || cal.Payments != s.Payments.Attempted {
		t.Fatalf("calibration %+v, %v", cal, err)
	}
	dir := t.TempDir()
	if _, err := s.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Faults *faults.Report `json:"faults"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err := json.Unmarshal(b, &back); err != nil || back.Faults == nil || *back.Faults != *res.Faults {
		t.Errorf("summary.json faults %+v, %v; want %+v", back.Faults, err, res.Faults)
	}
	p, err := res.WriteHTML(dir)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := os.ReadFile(p); !strings.Contains(string(h), "Calibration: ") || !strings.Contains(string(h), "money is conserved per currency") {
		t.Errorf("report.html lacks the calibration table or the invariants")
	}
	var text strings.Builder
	res.WriteFaults(&text, nil)
	if !strings.HasPrefix(text.String(), "faults: injected ") || strings.Contains(text.String(), "network") {
		t.Errorf("WriteFaults: %q", text.String())
	}
	// Without the extras: none of it.
	if ref.Faults != nil || ref.Series != nil || ref.Summary.Faults != nil {
		t.Errorf("a plain run reports faults %v, series %v", ref.Faults, ref.Series)
	}
	if cal, _ := ref.Calibration(); cal != nil {
		t.Error("a plain run has a calibration report")
	}
}

func TestNetPlan(t *testing.T) {
	pl, err := NetPlan(scenario.Faults{Resets: 3, ResetEvery: "2s", NetworkOver: "5s"}, 7, "ev")
	if err != nil || pl.Seed != 7 || pl.Every.Seconds() != 2 || pl.Over.Seconds() != 5 || pl.LoseTopic != "ev" {
		t.Fatalf("%+v, %v", pl, err)
	}
	for _, f := range []scenario.Faults{{Resets: 1, ResetEvery: "soon"}, {Resets: 1, NetworkOver: "x"}} {
		if _, err := NetPlan(f, 1, "ev"); err == nil {
			t.Errorf("%+v: no error", f)
		}
	}
	o := load(t, 10, 1)
	o.Faults, o.Bus = faults.Config{ProduceErrorRate: 0.1}, bus.Config{Brokers: []string{"127.0.0.1:1"}}
	if _, err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "embedded broker") {
		t.Errorf("broker faults with an external cluster: %v", err)
	}
}
