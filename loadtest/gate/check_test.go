package gate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/internal/cli"
)

func TestOptionsValidate(t *testing.T) {
	run := func(context.Context, string, int64, string) (string, error) { return "", nil }
	for _, tc := range []struct {
		name string
		o    Options
		want string // "" = valid
	}{
		{"a result", Options{Results: []string{"r.json"}}, ""},
		{"repeat", Options{Repeat: RepeatConfig{N: 3, Scenario: "s.yaml", Run: run}}, ""},
		{"nothing", Options{}, "give at least one RESULT"},
		{"negative repeat", Options{Repeat: RepeatConfig{N: -1}}, "--repeat -1"},
		{"scenario without repeat", Options{Results: []string{"r"}, Repeat: RepeatConfig{Scenario: "s"}}, "go with --repeat"},
		{"seed without repeat", Options{Results: []string{"r"}, Repeat: RepeatConfig{Seed: 7}}, "go with --repeat"},
		{"both", Options{Results: []string{"r"}, Repeat: RepeatConfig{N: 2, Scenario: "s", Run: run}}, "not both"},
		{"repeat without scenario", Options{Repeat: RepeatConfig{N: 2, Run: run}}, "needs --scenario"},
		{"repeat without engine", Options{Repeat: RepeatConfig{N: 2, Scenario: "s"}}, "run engine"},
		{"negative coverage", Options{Results: []string{"r"}, Coverage: CoverageOptions{K: -1}}, "--require-coverage -1"},
		{"diff without coverage", Options{Results: []string{"r"}, Coverage: CoverageOptions{PolicyDiff: []string{"a", "b"}}}, "go with --require-coverage"},
		{"coverage without rules", Options{Results: []string{"r"}, Coverage: CoverageOptions{K: 1}}, "needs --policy-diff"},
		{"three policies", Options{Results: []string{"r"}, Coverage: CoverageOptions{K: 1, PolicyDiff: []string{"a", "b", "c"}}}, "exactly two"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("valid options: %v", err)
				}
				return
			}
			var ue *cli.UsageError
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ue) {
				t.Fatalf("got %v, want a usage error containing %q", err, tc.want)
			}
		})
	}
}

// Run end to end on real files: a passing threshold, a failing one, and a
// missing field (bad input, not a failed check).
func TestRun(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "summary.json")
	if err := os.WriteFile(res, []byte(`{"latency_ms":{"p99":12},"invariants":{"ok":true}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, paths, err := Run(context.Background(), Options{Results: []string{res}, Thresholds: []string{"latency_ms.p99 < 25", "invariants.ok == true"}})
	if err != nil || !rep.Pass || len(paths) != 1 {
		t.Fatalf("passing gate: %v, %+v", err, rep)
	}
	rep, _, err = Run(context.Background(), Options{Results: []string{res}, Thresholds: []string{"latency_ms.p99 < 10"}})
	if err != nil || rep.Pass {
		t.Fatalf("failing threshold: err %v, pass %v", err, rep != nil && rep.Pass)
	}
	_, _, err = Run(context.Background(), Options{Results: []string{res}, Thresholds: []string{"latency_ms.p50 < 10"}})
	var ue *cli.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "p50") {
		t.Fatalf("missing field: got %v, want a usage error naming it", err)
	}
	_, _, err = Run(context.Background(), Options{Results: []string{res}})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "nothing to check") {
		t.Fatalf("no rules: got %v", err)
	}
}
