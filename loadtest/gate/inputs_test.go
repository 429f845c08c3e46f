package gate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepeat(t *testing.T) {
	dir := t.TempDir()
	var dirs []string
	run := func(_ context.Context, sc string, seed int64, out string) (string, error) {
		if sc != "s.yaml" || seed != 7 {
			t.Errorf("run %q seed %d", sc, seed)
		}
		dirs = append(dirs, out)
		p := filepath.Join(out, "summary.json")
		return p, os.WriteFile(p, []byte(`{}`), 0o644)
	}
	var log strings.Builder
	paths, err := Repeat(context.Background(), RepeatConfig{Run: run, N: 3, Scenario: "s.yaml", Seed: 7, Out: dir, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 || filepath.Base(dirs[2]) != "run-3" || dirs[0] == dirs[1] || !strings.Contains(log.String(), "run 3 of 3: ") {
		t.Errorf("paths %q, dirs %q, log %q", paths, dirs, log.String())
	}
	boom := errors.New("broker down")
	_, err = Repeat(context.Background(), RepeatConfig{Run: func(context.Context, string, int64, string) (string, error) { return "", boom }, N: 2, Scenario: "s.yaml", Out: dir})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "run 1 of 2 of s.yaml") {
		t.Errorf("failing run: %v", err)
	}
	if _, err := Repeat(context.Background(), RepeatConfig{Run: run}); err == nil {
		t.Error("N 0 accepted")
	}
}

func TestBuildRulesAndSameDigest(t *testing.T) {
	r, err := BuildRules("", []string{"latency_ms.p99 < 25"}, []string{"throughput.payments_per_s=-10%"})
	if err != nil || len(r.Thresholds) != 1 || len(r.Tolerances) != 1 {
		t.Fatalf("%+v, %v", r, err)
	}
	for _, bad := range [][2][]string{{{"p99 <"}, nil}, {nil, {"throughput.payments_per_s"}}} {
		if _, err := BuildRules("", bad[0], bad[1]); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	doc := func(name, digest string) *Document {
		d, err := ParseDocument(name, []byte(`{"events": {"digest": "`+digest+`"}}`))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	c, err := SameDigest([]*Document{doc("a", "sha256:1")}, []*Document{doc("b", "sha256:1")})
	if err != nil || !c.Pass {
		t.Errorf("same digests: %+v, %v", c, err)
	}
	c, err = SameDigest([]*Document{doc("a", "sha256:1")}, []*Document{doc("b", "sha256:2")})
	if err != nil || c.Pass || !strings.Contains(c.Message, "the events changed") {
		t.Errorf("different digests: %+v, %v", c, err)
	}
	if _, err := SameDigest(nil, []*Document{doc("b", "x")}); err == nil {
		t.Error("no result accepted")
	}
}
