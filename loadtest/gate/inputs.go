package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// BuildRules gathers a thresholds file (empty: none) and thresholds and
// tolerances given one by one (METRIC=TOL), naming source in what they
// report (the CLI's flags).
func BuildRules(file string, exprs, tolerances []string) (*Rules, error) {
	rules := &Rules{}
	if file != "" {
		r, err := LoadRules(file)
		if err != nil {
			return nil, err
		}
		rules = r
	}
	for _, e := range exprs {
		if err := rules.AddThreshold(e, "--threshold"); err != nil {
			return nil, fmt.Errorf("--threshold: %w", err)
		}
	}
	for _, t := range tolerances {
		i := strings.LastIndex(t, "=")
		if i < 0 {
			return nil, fmt.Errorf("--tolerance %q: want METRIC=TOL, e.g. throughput.payments_per_s=-10%%", t)
		}
		if err := rules.AddTolerance(strings.TrimSpace(t[:i]), t[i+1:], "--tolerance"); err != nil {
			return nil, fmt.Errorf("--tolerance: %w", err)
		}
	}
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	return rules, nil
}

// LoadDocuments loads every path as a Document.
func LoadDocuments(paths []string) ([]*Document, error) {
	var docs []*Document
	for _, p := range paths {
		d, err := LoadDocument(p)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// SameDigest is the determinism gate: every result's events.digest must
// equal the first baseline's (same scenario, seed and policy, same
// events).
func SameDigest(results, baselines []*Document) (Check, error) {
	c := Check{Kind: KindBaseline, Name: "events.digest unchanged", Metric: "events.digest", Limit: "== baseline", Source: "--same-digest"}
	if len(results) == 0 || len(baselines) == 0 {
		return c, fmt.Errorf("--same-digest needs a RESULT and a --baseline")
	}
	p, _ := ParsePath("events.digest")
	base, err := baselines[0].Lookup(p)
	if err != nil {
		return c, err
	}
	c.Baseline, c.Pass = base, true
	for _, d := range results {
		now, err := d.Lookup(p)
		if err != nil {
			return c, err
		}
		c.Now = now
		if now != base {
			c.Pass = false
			c.Message = fmt.Sprintf("%s: digest %v, baseline %s has %v: the events changed", d.Name, now, baselines[0].Name, base)
			break
		}
	}
	return c, nil
}

// RunFunc runs a scenario once with a seed, writing its results under
// outDir, and returns the path of the summary.json it wrote.
type RunFunc func(ctx context.Context, scenario string, seed int64, outDir string) (summaryPath string, err error)

// RepeatConfig configures Repeat.
type RepeatConfig struct {
	Run      RunFunc
	N        int    // runs, at least 1
	Scenario string // the scenario file
	Seed     int64
	// Out holds run-1 ... run-N (default: a new temporary directory).
	Out string
	// Log receives a line per finished run (default: none).
	Log io.Writer
}

// Repeat runs the scenario N times, each in its own directory, for a
// gate on the median, and returns the summaries' paths.
func Repeat(ctx context.Context, cfg RepeatConfig) ([]string, error) {
	if cfg.Run == nil || cfg.N < 1 {
		return nil, errors.New("gate: Repeat needs Run and N >= 1")
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	out := cfg.Out
	if out == "" {
		d, err := os.MkdirTemp("", "walletsim-gate-")
		if err != nil {
			return nil, err
		}
		out = d
	}
	var paths []string
	for i := 1; i <= cfg.N; i++ {
		dir := filepath.Join(out, fmt.Sprintf("run-%d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		p, err := cfg.Run(ctx, cfg.Scenario, cfg.Seed, dir)
		if err != nil {
			return nil, fmt.Errorf("run %d of %d of %s: %w", i, cfg.N, cfg.Scenario, err)
		}
		fmt.Fprintf(cfg.Log, "run %d of %d: %s\n", i, cfg.N, p)
		paths = append(paths, p)
	}
	return paths, nil
}

// WriteOutputs writes the report as JUnit XML, appends it as Markdown
// and writes it as JSON, each to its path (empty: not at all; "-": stdout).
func (r *Report) WriteOutputs(stdout io.Writer, junit, markdown, jsonPath string) error {
	for _, out := range []struct {
		path     string
		appendTo bool
		write    func(io.Writer) error
	}{
		{junit, false, r.WriteJUnit},
		{markdown, true, r.WriteMarkdown},
		{jsonPath, false, r.WriteJSON},
	} {
		if err := writeOutput(stdout, out.path, out.appendTo, out.write); err != nil {
			return err
		}
	}
	return nil
}

func writeOutput(stdout io.Writer, path string, appendTo bool, write func(io.Writer) error) error {
	switch path {
	case "":
		return nil
	case "-":
		return write(stdout)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	fh, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	if err := write(fh); err != nil {
		fh.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return fh.Close()
}
