package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompareCLI builds the binary and checks what a user sees: exit 2
// naming the file and key for a bad policy (before any run starts), and a
// small comparison that writes both files.
func TestCompareCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the walletsim binary")
	}
	bin := filepath.Join(t.TempDir(), "walletsim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bad, err := filepath.Abs(filepath.Join("..", "..", "sim", "route", "testdata", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = t.TempDir()
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, o.String(), e.String()
		case errors.As(err, &ee):
			return ee.ExitCode(), o.String(), e.String()
		}
		t.Fatal(err)
		return 0, "", ""
	}
	usage := []struct {
		name string
		args []string
		want []string // all must appear on stderr
	}{
		{"unknown wallet", []string{"compare", "quickstart", "--policy", "walled-garden", "--policy", filepath.Join(bad, "unknown-payer.yaml")},
			[]string{"unknown-payer.yaml", `rules[3].payers`, `"paypal"`}},
		{"negative fee", []string{"compare", "quickstart", "--policy", filepath.Join(bad, "negative-mdr.yaml"), "--policy", "unified-qr"},
			[]string{"negative-mdr.yaml", "rules[1].mdr_bps", "-60"}},
		{"negative switch fee", []string{"compare", "quickstart", "--policy", "unified-qr", "--policy", filepath.Join(bad, "negative-switch-fee.yaml")},
			[]string{"negative-switch-fee.yaml", "routes.netsunion.switch_fee_cbps"}},
		{"route with no hops", []string{"compare", "quickstart", "--policy", "unified-qr", "--policy", filepath.Join(bad, "no-hops.yaml")},
			[]string{"no-hops.yaml", "routes.on_us.hops"}},
		{"run too", []string{"run", "quickstart", "--quiet", "--policy", filepath.Join(bad, "no-hops.yaml")},
			[]string{"no-hops.yaml", "routes.on_us.hops"}},
		{"one policy", []string{"compare", "quickstart", "--policy", "unified-qr"}, []string{"at least two --policy"}},
		{"same policy twice", []string{"compare", "quickstart", "--policy", "unified-qr", "--policy", "unified-qr"}, []string{`"unified-qr" is already compared`}},
		{"no such policy", []string{"compare", "quickstart", "--policy", "unified-qr", "--policy", "walled-gardens"}, []string{"walled-gardens", "built-ins:"}},
		{"bad payments", []string{"compare", "quickstart", "--policy", "unified-qr", "--policy", "walled-garden", "--payments", "0"}, []string{"--payments"}},
		{"bad scale", []string{"compare", "quickstart", "--policy", "unified-qr", "--policy", "walled-garden", "--scale", "huge"}, []string{`--scale: unknown scale "huge"`}},
	}
	for _, tc := range usage {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tc.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not name %q: %s", w, stderr)
				}
			}
			if strings.Contains(stdout, "payments under each policy") {
				t.Error("a run started despite bad input")
			}
		})
	}
	t.Run("compare --scale resizes every run", func(t *testing.T) {
		out := t.TempDir()
		code, stdout, stderr := run(t, "compare", "quickstart", "--policy", "walled-garden", "--policy", "unified-qr",
			"--scale", "small", "--partitions", "2", "--out", out, "--quiet")
		if code != 0 {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, "compare.json"))
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Results []struct {
				Payments struct {
					Attempted int64 `json:"attempted"`
				} `json:"payments"`
			} `json:"results"`
		}
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		// The small preset's 20,000 payments (quickstart alone has 200,000).
		if len(c.Results) != 2 || c.Results[0].Payments.Attempted != 20_000 || c.Results[1].Payments.Attempted != 20_000 {
			t.Fatalf("compare --scale small: %+v", c.Results)
		}
	})
	t.Run("compare writes both files", func(t *testing.T) {
		out := t.TempDir()
		code, stdout, stderr := run(t, "compare", "scenarios/quickstart.yaml", "--policy", "walled-garden", "--policy", "unified-qr",
			"--payments", "4000", "--seed", "3", "--partitions", "2", "--out", out, "--quiet")
		if code != 0 {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		for _, w := range []string{"acceptance rate", "walled-garden", "unified-qr", "compare.json", "compare.html"} {
			if !strings.Contains(stdout, w) {
				t.Errorf("stdout lacks %q:\n%s", w, stdout)
			}
		}
		b, err := os.ReadFile(filepath.Join(out, "compare.json"))
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Policies []string `json:"policies"`
			Results  []struct {
				Policy  string `json:"policy"`
				Interop struct {
					AcceptanceRate float64 `json:"acceptance_rate"`
				} `json:"interop"`
				Invariants struct {
					MoneyConserved bool `json:"money_conserved"`
				} `json:"invariants"`
			} `json:"results"`
		}
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		if len(c.Results) != 2 || c.Results[0].Policy != "walled-garden" || c.Results[1].Policy != "unified-qr" {
			t.Fatalf("compare.json policies %v", c.Policies)
		}
		if !(c.Results[1].Interop.AcceptanceRate > c.Results[0].Interop.AcceptanceRate) || !c.Results[0].Invariants.MoneyConserved || !c.Results[1].Invariants.MoneyConserved {
			t.Fatalf("compare.json: %+v", c.Results)
		}
		if _, err := os.Stat(filepath.Join(out, "compare.html")); err != nil {
			t.Fatal(err)
		}
	})
}
