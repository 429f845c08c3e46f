package calibration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/walletsim/walletsim/scenarios"
)

// Marks of a source row.
const (
	MarkVerified   = "V" // a source states it
	MarkDerived    = "D" // derived from sourced numbers
	MarkUnverified = "U" // a weak source, or none found
	MarkAssumed    = "A" // an assumption
)

// SourceRow is one row of scenarios/calibration/sources.yaml: a fact, the
// number(s) the code reads and where it comes from.
type SourceRow struct {
	ID     string             `yaml:"id" json:"id"`
	Figure string             `yaml:"figure" json:"figure"`
	Value  *float64           `yaml:"value,omitempty" json:"value,omitempty"`
	Values map[string]float64 `yaml:"values,omitempty" json:"values,omitempty"`
	Unit   string             `yaml:"unit" json:"unit"`
	Date   string             `yaml:"date" json:"date"`
	Region string             `yaml:"region" json:"region"`
	Source string             `yaml:"source" json:"source"`
	Mark   string             `yaml:"mark" json:"mark"`
	Note   string             `yaml:"note,omitempty" json:"note,omitempty"`
}

// Cite is how files cite the row: cal:<id>.
func (r *SourceRow) Cite() string { return "cal:" + r.ID }

// Sources is the parsed file, rows in file order.
type Sources struct {
	Rows []SourceRow `yaml:"rows"`
	byID map[string]int
}

// idPattern is section.topic in kebab case: fees.mdr, assume.netsunion-fee.
var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]*\.[a-z0-9]+(-[a-z0-9]+)*$`)

// CitePattern finds cal:<id> citations in any text.
var CitePattern = regexp.MustCompile(`cal:([a-z][a-z0-9]*\.[a-z0-9]+(?:-[a-z0-9]+)*)`)

// ParseSources decodes a sources file strictly (an unknown key is an
// error, as a typo would silently drop a figure) and validates it. name
// labels errors.
func ParseSources(name string, b []byte) (*Sources, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var s Sources
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file: want a rows: list", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: more than one YAML document", name)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &s, nil
}

// Validate checks every row: a well-formed ID used once, a figure, a mark
// of V, D, U or A, a URL (or nothing) as the source. All problems are
// reported together, each naming its row.
func (s *Sources) Validate() error {
	var errs []string
	if len(s.Rows) == 0 {
		errs = append(errs, "no rows")
	}
	s.byID = make(map[string]int, len(s.Rows))
	for i := range s.Rows {
		r := &s.Rows[i]
		where := fmt.Sprintf("rows[%d]", i)
		if r.ID != "" {
			where += " (" + r.ID + ")"
		}
		bad := func(f string, a ...any) { errs = append(errs, where+": "+fmt.Sprintf(f, a...)) }
		switch {
		case r.ID == "":
			bad("id: missing")
		case !idPattern.MatchString(r.ID):
			bad("id: %q is not section.topic in kebab case (e.g. fees.mdr)", r.ID)
		default:
			if j, dup := s.byID[r.ID]; dup {
				bad("id: duplicate of rows[%d]", j)
			} else {
				s.byID[r.ID] = i
			}
		}
		if strings.TrimSpace(r.Figure) == "" {
			bad("figure: missing")
		}
		switch r.Mark {
		case MarkVerified, MarkDerived, MarkUnverified, MarkAssumed:
		case "":
			bad("mark: missing (want V, D, U or A)")
		default:
			bad("mark: %q is not V, D, U or A", r.Mark)
		}
		if r.Source != "" && !strings.HasPrefix(r.Source, "http://") && !strings.HasPrefix(r.Source, "https://") {
			bad("source: %q is not an http(s) URL", r.Source)
		}
		if r.Unit == "" {
			bad("unit: missing")
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// Row finds a row by ID.
func (s *Sources) Row(id string) (*SourceRow, bool) {
	if s.byID == nil {
		_ = s.Validate()
	}
	i, ok := s.byID[id]
	if !ok {
		return nil, false
	}
	return &s.Rows[i], true
}

// IDs lists the row IDs, sorted.
func (s *Sources) IDs() []string {
	out := make([]string, 0, len(s.Rows))
	for _, r := range s.Rows {
		out = append(out, r.ID)
	}
	sort.Strings(out)
	return out
}

// num is a named number of row id ("" = its value). The built-in file is
// validated by the tests (TestBuiltinSourcesHaveWhatTheCodeReads), so a
// missing number here is a defect in the file, reported as ok=false.
func (s *Sources) num(id, name string) (float64, bool) {
	r, ok := s.Row(id)
	if !ok {
		return 0, false
	}
	if name == "" {
		if r.Value == nil {
			return 0, false
		}
		return *r.Value, true
	}
	v, ok := r.Values[name]
	return v, ok
}

var builtin struct {
	once sync.Once
	s    *Sources
	err  error
}

// Builtin is the embedded scenarios/calibration/sources.yaml.
func Builtin() (*Sources, error) {
	builtin.once.Do(func() {
		builtin.s, builtin.err = ParseSources("scenarios/calibration/sources.yaml", scenarios.SourcesYAML)
	})
	return builtin.s, builtin.err
}

// sectionTitles head the rows of docs/calibration.md by ID prefix.
var sectionTitles = map[string]string{
	"market": "Market shares, users, volumes", "interop": "QR standards and interoperability",
	"fees": "Fees", "limits": "Limits", "transit": "Hong Kong transit", "fx": "Exchange rate",
	"crossborder": "Cross-border", "peak": "Peak loads", "carbon": "Low-carbon",
	"defaults": "The defaults walletsim uses", "assume": "Assumptions",
}

// WriteMarkdown renders the rows as the tables of docs/calibration.md,
// one per section in file order (TestDocsListEveryRow keeps the page in
// step with the file).
func (s *Sources) WriteMarkdown(w io.Writer) {
	section := ""
	for _, r := range s.Rows {
		sec, _, _ := strings.Cut(r.ID, ".")
		if sec != section {
			section = sec
			title := sectionTitles[sec]
			if title == "" {
				title = sec
			}
			fmt.Fprintf(w, "\n### %s\n\n| ID | Fact | Numbers read | Unit | Date | Region | Mark | Source |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n", title)
		}
		var nums []string
		if r.Value != nil {
			nums = append(nums, fmt.Sprintf("%g", *r.Value))
		}
		keys := make([]string, 0, len(r.Values))
		for k := range r.Values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			nums = append(nums, fmt.Sprintf("%s %g", k, r.Values[k]))
		}
		fact := r.Figure
		if r.Note != "" {
			fact += " (" + r.Note + ")"
		}
		link := ""
		if r.Source != "" {
			link = "[link](" + r.Source + ")"
		}
		esc := func(v string) string { return strings.ReplaceAll(v, "|", "\\|") }
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %s | %s |\n", r.ID, esc(fact), esc(strings.Join(nums, ", ")), esc(r.Unit), esc(r.Date), esc(r.Region), r.Mark, link)
	}
}
