package scenarios

import (
	"io/fs"
	"strings"
	"testing"
)

// seedFiles adds every built-in file under dir (a glob in package
// scenarios) to the corpus, beside testdata/fuzz: what users start from.
func seedFiles(f *testing.F, pat string) {
	m, err := fs.Glob(FS, pat)
	if err != nil || len(m) == 0 {
		f.Fatalf("no built-in files match %s: %v", pat, err)
	}
	for _, p := range m {
		b, err := fs.ReadFile(FS, p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseScenario: no scenario file, however broken, panics the loader;
// an error names the file; an accepted one is fully compiled.
func FuzzParseScenario(f *testing.F) {
	seedFiles(f, "*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseScenario("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if c == nil || c.Scenario == nil || c.EpochMS <= 0 || len(c.Kinds) == 0 {
			t.Fatalf("accepted scenario is not compiled: %+v", c)
		}
	})
}

// FuzzParsePolicy is FuzzParseScenario for policy files.
func FuzzParsePolicy(f *testing.F) {
	seedFiles(f, "policies/*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		table, p, err := ParsePolicy("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if table == nil || p == nil {
			t.Fatal("accepted policy without a route table")
		}
	})
}
