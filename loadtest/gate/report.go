package gate

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

const none = "-"

// row is a check as the table and Markdown show it.
func (c Check) row() (metric, baseline, now, change, limit, verdict string) {
	metric, baseline, now, change, limit = c.Metric, none, FormatValue(c.Now), none, c.Limit
	if c.Kind == KindBaseline {
		baseline, change = FormatValue(c.Baseline), c.Change
	}
	verdict = "pass"
	if !c.Pass {
		verdict = "FAIL"
	}
	return
}

func (r *Report) headline() string {
	if r.Pass {
		return fmt.Sprintf("all %d checks passed", len(r.Checks))
	}
	return fmt.Sprintf("%d of %d checks failed", r.Failed(), len(r.Checks))
}

func (r *Report) verdict() string {
	if r.Pass {
		return "PASS"
	}
	return "FAIL"
}

func runs(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return fmt.Sprintf("%s (median of %d runs)", strings.Join(names, ", "), len(names))
}

// WriteTable writes the checks as an aligned text table (metric, baseline,
// now, change, limit, verdict), then the failures and warnings.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tBASELINE\tNOW\tCHANGE\tLIMIT\tVERDICT")
	for _, c := range r.Checks {
		m, b, n, ch, l, v := c.row()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m, b, n, ch, l, v)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("\n" + r.verdict() + ": " + r.headline() + "\n")
	for _, c := range r.Checks {
		if !c.Pass {
			fmt.Fprintf(&b, "  failed: %s\n", c.Message)
		}
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes a heading, a GitHub-flavoured table and the
// warnings, for a CI step summary ($GITHUB_STEP_SUMMARY) or a merge request
// comment.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	mark := "✅"
	if !r.Pass {
		mark = "❌"
	}
	fmt.Fprintf(&b, "### %s walletsim gate: %s\n\n", mark, r.headline())
	fmt.Fprintf(&b, "Result: %s", mdCode(runs(r.Results)))
	if len(r.Baselines) > 0 {
		fmt.Fprintf(&b, " · Baseline: %s", mdCode(runs(r.Baselines)))
	}
	b.WriteString("\n\n| metric | baseline | now | change | limit | verdict |\n")
	b.WriteString("| --- | ---: | ---: | ---: | --- | --- |\n")
	for _, c := range r.Checks {
		m, base, n, ch, l, v := c.row()
		if c.Pass {
			v = "✅ pass"
		} else {
			v = "❌ **FAIL**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", mdCode(m), mdCell(base), mdCell(n), mdCell(ch), mdCode(l), v)
	}
	if fails := r.Failed(); fails > 0 {
		b.WriteString("\n**Failures**\n\n")
		for _, c := range r.Checks {
			if !c.Pass {
				fmt.Fprintf(&b, "- %s\n", mdCell(c.Message))
			}
		}
	}
	if len(r.Warnings) > 0 {
		b.WriteString("\n**Warnings**\n\n")
		for _, wn := range r.Warnings {
			fmt.Fprintf(&b, "- %s\n", mdCell(wn))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell escapes what would break a table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

func mdCode(s string) string {
	if s == none || s == "" {
		return none
	}
	s = mdCell(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// JUnit XML, the subset CI systems read (GitHub test reporters, GitLab,
// Jenkins): one testsuite, one testcase per check, <failure> on a failed
// check.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Cases     []junitCase `xml:"testcase"`
	SystemErr string      `xml:"system-err,omitempty"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML.
func (r *Report) WriteJUnit(w io.Writer) error {
	s := junitSuite{
		Name:     "walletsim gate",
		Tests:    len(r.Checks),
		Failures: r.Failed(),
		Time:     "0",
	}
	for _, c := range r.Checks {
		m, b, n, ch, l, _ := c.row()
		detail := fmt.Sprintf("metric=%s baseline=%s now=%s change=%s limit=%s", m, b, n, ch, l)
		tc := junitCase{Name: c.Name, Classname: "walletsim.gate." + string(c.Kind), Time: "0", SystemOut: detail}
		if !c.Pass {
			tc.Failure = &junitFailure{Message: c.Message, Type: string(c.Kind), Text: detail}
		}
		s.Cases = append(s.Cases, tc)
	}
	if len(r.Warnings) > 0 {
		s.SystemErr = "warning: " + strings.Join(r.Warnings, "\nwarning: ")
	}
	out := junitSuites{Name: "walletsim gate", Tests: s.Tests, Failures: s.Failures, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// WriteJSON writes the report as indented JSON. Infinite values, which JSON
// cannot hold, are written as strings.
func (r *Report) WriteJSON(w io.Writer) error {
	cp := *r
	cp.Checks = make([]Check, len(r.Checks))
	for i, c := range r.Checks {
		c.Now, c.Baseline = jsonSafe(c.Now), jsonSafe(c.Baseline)
		if c.ChangePct != nil && (math.IsInf(*c.ChangePct, 0) || math.IsNaN(*c.ChangePct)) {
			c.ChangePct = nil
		}
		cp.Checks[i] = c
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(cp)
}

func jsonSafe(v any) any {
	if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return fmt.Sprint(f)
	}
	return v
}
