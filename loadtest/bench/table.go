package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
)

// WriteTable prints each figure with its ratio to the ceiling.
func (res *Result) WriteTable(out io.Writer) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	c, p := res.Ceiling, res.Pipeline
	fmt.Fprintf(w, "ceiling produce\t%.0f msgs/s\t(%d msgs of %d B, %d partitions, acks=all)\n", c.ProduceMsgsPerS, c.Messages, c.MessageBytes, res.Partitions)
	fmt.Fprintf(w, "ceiling consume\t%.0f msgs/s\n", c.ConsumeMsgsPerS)
	fmt.Fprintf(w, "ceiling produce+consume\t%.0f msgs/s\n", c.ProduceConsumeMsgsPerS)
	fmt.Fprintf(w, "pipeline (run)\t%.0f payments/s\tratio %.2f of produce+consume; %.2f Kafka records per payment\n", p.PaymentsPerS, p.RatioToCeiling, p.MessagesPerPayment)
	fmt.Fprintf(w, "same work, raw kafka-go\t%.0f payments/s\tratio %.2f (%.2f records produced + %.2f consumed per payment at the ceiling rates)\n", p.EquivalentCeiling, p.RatioToEquivalent, p.ProducedPerPayment, p.ConsumedPerPayment)
	if p.EquivalentWithAudit > 0 {
		fmt.Fprintf(w, "same work + audit reads\t%.0f payments/s\tratio %.2f (and %.2f records per payment the audit read alongside)\n", p.EquivalentWithAudit, p.RatioToEquivalentWithAudit, p.AuditReadPerPayment)
	}
	fmt.Fprintf(w, "pipeline events\t%.0f events/s\t%d payments in %.2fs, invariants ok %v\n", p.EventsPerS, p.Payments, p.DurationS, p.InvariantsOK)
	rb := res.Rebuild
	fmt.Fprintf(w, "raw read (events topic)\t%.0f msgs/s\n", rb.RawReadMsgsPerS)
	fmt.Fprintf(w, "rebuild (replay)\t%.0f events/s\tratio %.2f of raw read; %d events, state matches the run %v\n", rb.EventsPerS, rb.RatioToRawRead, rb.Events, rb.StateMatches)
	fmt.Fprintf(w, "rebuild + log digest\t%.0f events/s\tdigest matches the run %v\n", rb.DigestEventsPerS, rb.DigestMatches)
	fmt.Fprintf(w, "memory\tpeak RSS %.0f MiB\t%.0f engine bytes per wallet, %.1f allocations per payment (whole process)\n", res.PeakRSSMiB, p.BytesPerWallet, p.AllocsPerPayment)
	if res.PipelinePeakRSSMiB > 0 {
		note := ""
		if res.LogInRAM {
			note = ", the broker's log in RAM included: --scale keeps it on disk, as run does"
		}
		fmt.Fprintf(w, "memory, pipeline\tpeak RSS %.0f MiB\t%.0f bytes per wallet, whole process (%d wallets)%s\n", res.PipelinePeakRSSMiB, res.BytesPerWallet, p.Wallets, note)
	}
	w.Flush()
}

// WriteJSON writes dir/bench.json (what `walletsim gate` reads).
func (res *Result) WriteJSON(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	path := filepath.Join(dir, "bench.json")
	return path, os.WriteFile(path, append(b, '\n'), 0o644)
}

// Err is the verdict: replay must reproduce the run's digests and the
// pipeline run keep every invariant.
func (res *Result) Err() error {
	if !res.Rebuild.DigestMatches || !res.Rebuild.StateMatches {
		return fmt.Errorf("bench: replay did not reproduce the run's digests")
	}
	if !res.Pipeline.InvariantsOK {
		return fmt.Errorf("bench: the pipeline run broke an invariant")
	}
	return nil
}
