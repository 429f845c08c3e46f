package bench

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/scenario"
)

// TestPipelineMemory: a bench at a --scale preset reports the pipeline's
// own peak RSS and the whole process's bytes per wallet over the run's
// wallets, with the broker's log in a temporary dir that is gone after.
func TestPipelineMemory(t *testing.T) {
	sc, src, err := scenarios.LoadScaled("quickstart", "small")
	if err != nil {
		t.Fatal(err)
	}
	s := *sc.Scenario
	s.Payments, s.Duration = 5000, ""
	if sc, err = scenarios.Recompile(src, &s); err != nil {
		t.Fatal(err)
	}
	table, _, _, err := scenarios.LoadPolicy(s.Policy)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	res, err := Run(context.Background(), Options{Run: run.Options{Scenario: sc, Policy: table}, TempDataDir: true, CeilingMessages: 2000})
	if err != nil {
		t.Fatal(err)
	}
	// The kernel keeps RSS counters per CPU and folds them in lazily, so
	// the two marks, read at different moments, may differ by a little.
	if res.PipelinePeakRSSMiB <= 0 || res.PipelinePeakRSSMiB > res.PeakRSSMiB+8 {
		t.Fatalf("pipeline peak RSS %.1f MiB (process peak %.1f MiB)", res.PipelinePeakRSSMiB, res.PeakRSSMiB)
	}
	// The audit reads alongside the pipeline: a same-work figure with its
	// reads is below the one without (a run this short may end before the
	// audit's first fetch: then they are equal).
	if p := res.Pipeline; p.AuditReadPerPayment < 0 || p.EquivalentWithAudit <= 0 || p.EquivalentWithAudit > p.EquivalentCeiling || (p.AuditReadPerPayment > 0) != (p.EquivalentWithAudit < p.EquivalentCeiling) {
		t.Fatalf("audit reads %.2f a payment, same work with them %.0f payments/s against %.0f without", p.AuditReadPerPayment, p.EquivalentWithAudit, p.EquivalentCeiling)
	}
	if res.LogInRAM {
		t.Fatal("a bench with a temporary data dir says its log was in RAM")
	}
	if p, _ := scenario.ParsePreset("small"); res.Pipeline.Wallets != p.Wallets {
		t.Fatalf("%d wallets, want the preset's %d", res.Pipeline.Wallets, p.Wallets)
	}
	want := res.PipelinePeakRSSMiB * (1 << 20) / float64(res.Pipeline.Wallets)
	if math.Abs(res.BytesPerWallet-want) > 1e-6*want {
		t.Fatalf("bytes per wallet %.1f, want peak RSS over wallets %.1f", res.BytesPerWallet, want)
	}
	left, _ := filepath.Glob(filepath.Join(tmp, "walletsim-bench-*"))
	if len(left) > 0 {
		t.Fatalf("the temporary log dir was left behind: %v", left)
	}
}
