package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFiles writes dir/attack.json and dir/attack.html and names them on
// w.
func (r *Report) WriteFiles(w io.Writer, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	p, err := r.WriteJSON(dir)
	if err != nil {
		return err
	}
	h, err := r.WriteHTML(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s, %s\n", p, h)
	return nil
}

// SearchWithNoop is the rate search of docs/PERFORMANCE.md: the target
// at url (called name) and an in-process no-op handler under the same
// attacker, alternating at every rate (c.Targets is set here).
func SearchWithNoop(ctx context.Context, c SearchConfig, name, url string) (*SearchResult, error) {
	noop, stop, err := ServeNoop()
	if err != nil {
		return nil, err
	}
	defer stop()
	c.Targets = []SearchTarget{{Name: name, URL: url}, {Name: "no-op", URL: noop}}
	if c.Log != nil {
		fmt.Fprintf(c.Log, "rate search: %s per step from %.0f/s, x%.2f, p99 under %s\n", c.StepDuration, c.Start, c.Factor, c.MaxP99)
	}
	return Search(ctx, c)
}

// WriteSummary prints name's highest sustained rate against the no-op
// handler's.
func (r *SearchResult) WriteSummary(w io.Writer, name string) {
	best, base := r.Best[name], r.Best["no-op"]
	ratio := 0.0
	if base > 0 {
		ratio = best / base
	}
	fmt.Fprintf(w, "highest sustained: %s %.0f/s, no-op %.0f/s (%.0f%%)\n", name, best, base, 100*ratio)
}

// WriteJSON writes dir/search.json.
func (r *SearchResult) WriteJSON(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	return os.WriteFile(filepath.Join(dir, "search.json"), append(b, '\n'), 0o644)
}
