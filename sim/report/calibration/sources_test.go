package calibration

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
)

// The built-in file parses, and every row and number the code reads is
// there.
func TestBuiltinSourcesHaveWhatTheCodeReads(t *testing.T) {
	src, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for id, names := range needs {
		for _, n := range names {
			if _, ok := src.num(id, n); !ok {
				what := "value"
				if n != "" {
					what = "values." + n
				}
				t.Errorf("sources.yaml: row %s has no %s, which the calibration report reads", id, what)
			}
		}
	}
}

func TestParseSourcesErrors(t *testing.T) {
	const good = "rows:\n  - {id: fees.mdr, figure: 0.6%, unit: share, date: '2017', region: CN, source: https://x.example/, mark: V}\n"
	if _, err := ParseSources("t.yaml", []byte(good)); err != nil {
		t.Fatalf("a good file: %v", err)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "rows:\n  - {id: fees.mdr, figure: x, unit: u, mark: V, surce: https://x/}\n", "field surce not found"},
		{"unknown top key", "rows: []\nextra: 1\n", "field extra not found"},
		{"duplicate id", "rows:\n  - {id: fees.mdr, figure: x, unit: u, mark: V}\n  - {id: fees.mdr, figure: y, unit: u, mark: V}\n", "rows[1] (fees.mdr): id: duplicate of rows[0]"},
		{"bad mark", "rows:\n  - {id: fees.mdr, figure: x, unit: u, mark: X}\n", `rows[0] (fees.mdr): mark: "X" is not V, D, U or A`},
		{"missing mark", "rows:\n  - {id: fees.mdr, figure: x, unit: u}\n", "mark: missing"},
		{"bad id", "rows:\n  - {id: Fees_MDR, figure: x, unit: u, mark: V}\n", `id: "Fees_MDR" is not section.topic`},
		{"missing id", "rows:\n  - {figure: x, unit: u, mark: V}\n", "rows[0]: id: missing"},
		{"missing figure", "rows:\n  - {id: fees.mdr, unit: u, mark: V}\n", "figure: missing"},
		{"bad url", "rows:\n  - {id: fees.mdr, figure: x, unit: u, mark: V, source: www.x.com}\n", "not an http(s) URL"},
		{"no rows", "rows: []\n", "no rows"},
		{"empty", "", "empty file"},
		{"wrong type", "rows:\n  - {id: fees.mdr, figure: x, unit: u, mark: V, value: lots}\n", "cannot unmarshal"},
		{"two documents", good + "---\n" + good, "more than one YAML document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSources("t.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "t.yaml: ") {
				t.Fatalf("error %v, want one naming t.yaml and containing %q", err, tc.want)
			}
		})
	}
}

func FuzzParseSources(f *testing.F) {
	f.Add(scenarios.SourcesYAML)
	f.Add([]byte("rows:\n  - {id: fees.mdr, figure: x, unit: u, mark: V}\n"))
	f.Add([]byte("rows: [{id: a.b, values: {x: 1}}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSources("fuzz", b)
		if err != nil {
			return
		}
		// whatever parses is valid and finds its own rows
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed but invalid: %v", err)
		}
		for _, id := range s.IDs() {
			if _, ok := s.Row(id); !ok {
				t.Fatalf("row %s not found", id)
			}
		}
	})
}

// repoRoot is the module root, two levels above sim/report/calibration.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s", root)
	}
	return root
}

// Every cal:<id> citation anywhere in the repo (code, scenarios,
// policies, docs, README) names a row of sources.yaml, and the citations
// of users' files point into the repo, never at ../shared.
func TestEveryCitationResolves(t *testing.T) {
	src, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	root := repoRoot(t)
	cited := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == ".git" || n == "testdata" || n == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".go", ".yaml", ".yml", ".md", ".sh", ".tmpl", ".json":
		default:
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		for i, line := range strings.Split(string(b), "\n") {
			for _, m := range CitePattern.FindAllStringSubmatch(line, -1) {
				if strings.HasSuffix(rel, "_test.go") && strings.Contains(line, "cal:no.") {
					continue // a deliberately missing row
				}
				cited++
				if _, ok := src.Row(m[1]); !ok {
					t.Errorf("%s:%d: cal:%s is not a row of scenarios/calibration/sources.yaml", rel, i+1, m[1])
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cited < 50 {
		t.Errorf("only %d cal: citations in the repo: the scenarios and policies should cite their rows", cited)
	}
	for _, dir := range []string{"README.md", "scenarios", "docs"} {
		_ = filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			b, _ := os.ReadFile(p)
			if strings.Contains(string(b), "shared/") {
				rel, _ := filepath.Rel(root, p)
				t.Errorf("%s mentions shared/: users have no ../shared; cite cal:<id> rows instead", rel)
			}
			return nil
		})
	}
}

// A scenario's departures name rows that exist.
func TestDeparturesNameRows(t *testing.T) {
	src, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range scenarios.Builtins("") {
		sc, _, err := scenarios.LoadScenario(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range sc.Departs {
			if _, ok := src.Row(strings.TrimPrefix(d.Row, "cal:")); !ok {
				t.Errorf("%s departs from %s, which is not a row", name, d.Row)
			}
		}
	}
}

var updateDocs = flag.Bool("update-docs", false, "rewrite the row tables of docs/calibration.md from sources.yaml")

// docs/calibration.md lists every row of sources.yaml, as the file says
// (go test -update-docs rewrites the part between the markers).
func TestDocsListEveryRow(t *testing.T) {
	src, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(repoRoot(t), "docs", "calibration.md")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- rows:begin (generated from scenarios/calibration/sources.yaml: go test ./sim/report/calibration -update-docs) -->\n", "<!-- rows:end -->"
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s: no row markers", p)
	}
	var sb strings.Builder
	src.WriteMarkdown(&sb)
	want := sb.String() + "\n"
	if got := doc[i+len(begin) : j]; got != want {
		if *updateDocs {
			if err := os.WriteFile(p, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s is out of date with sources.yaml (go test ./sim/report/calibration -run TestDocsListEveryRow -update-docs)", p)
	}
	for _, id := range src.IDs() {
		if !strings.Contains(doc, "`"+id+"`") {
			t.Errorf("docs/calibration.md does not show row %s", id)
		}
	}
}
