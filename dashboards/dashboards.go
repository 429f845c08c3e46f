// Package dashboards holds walletsim's Grafana dashboards (overview,
// interoperability, transit, reliability) as provisioning-ready JSON, built
// only on the metrics package's exported names. Its tests check that every
// panel's query names an exported metric and, with Prometheus installed,
// that every query returns data when Prometheus scrapes a real run.
package dashboards

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

// FS holds the dashboard files.
//
//go:embed *.json
var FS embed.FS

// Query is one panel target.
type Query struct {
	Dashboard string
	Panel     string
	RefID     string
	Expr      string
}

type panelJSON struct {
	Title   string      `json:"title"`
	Panels  []panelJSON `json:"panels"` // rows nest panels
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

type dashboardJSON struct {
	UID    string      `json:"uid"`
	Title  string      `json:"title"`
	Panels []panelJSON `json:"panels"`
}

// Queries returns every panel query of every dashboard, in file order.
func Queries() ([]Query, error) {
	files, err := fs.Glob(FS, "*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []Query
	for _, f := range files {
		b, err := FS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var d dashboardJSON
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		var walk func(ps []panelJSON)
		walk = func(ps []panelJSON) {
			for _, p := range ps {
				for _, t := range p.Targets {
					out = append(out, Query{Dashboard: f, Panel: p.Title, RefID: t.RefID, Expr: t.Expr})
				}
				walk(p.Panels)
			}
		}
		walk(d.Panels)
	}
	return out, nil
}

// Expand replaces the Grafana variables the dashboards use with what an
// "All" selection and a default interval give, so the query can be sent
// to Prometheus as is.
func Expand(expr string) string {
	return strings.NewReplacer(
		"$__rate_interval", "1m",
		"${policy}", ".*",
		"$policy", ".*",
	).Replace(expr)
}

var (
	strLit  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	braces  = regexp.MustCompile(`\{[^}]*\}`)
	ranges  = regexp.MustCompile(`\[[^\]]*\]`)
	clauses = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	ident   = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
)

// keywords are PromQL words that are not metric names.
var keywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "and": true, "or": true, "unless": true, "offset": true, "inf": true, "nan": true,
}

// MetricNames returns the metric names an expression selects: identifiers
// outside label matchers, grouping clauses and ranges that are not
// function calls or keywords.
func MetricNames(expr string) []string {
	s := strLit.ReplaceAllString(Expand(expr), `""`)
	s = braces.ReplaceAllString(s, " ")
	s = ranges.ReplaceAllString(s, " ")
	s = clauses.ReplaceAllString(s, " ")
	seen := map[string]bool{}
	var out []string
	for _, loc := range ident.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		rest := strings.TrimLeft(s[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || keywords[strings.ToLower(name)] {
			continue
		}
		if loc[0] > 0 && (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.') {
			continue // the exponent or suffix of a number (1e3)
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}
