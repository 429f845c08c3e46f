package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/internal/testbin"
)

// docFiles are where users read walletsim command lines: the README, the
// docs (markdown and CI examples) and the compose stack.
func docFiles(t *testing.T) []string {
	t.Helper()
	root := filepath.Join("..", "..")
	files := []string{filepath.Join(root, "README.md")}
	for _, dir := range []string{"docs", "compose"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch filepath.Ext(p) {
			case ".md", ".yml", ".yaml":
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

var (
	invocation = regexp.MustCompile(`walletsim ([a-z][a-z-]*)((?:[^|;&` + "`" + `]|&[^&])*)`)
	flagRef    = regexp.MustCompile(`(?:^|[\s"'\[(])--([a-z][a-z0-9-]*)`)
)

// nested are the commands whose flags belong to a subcommand.
var nested = map[string]bool{"events": true}

// docInvocations returns, per subcommand, the flags a file passes it on
// a command line ("walletsim run quickstart --payments 1000"), with
// shell continuation lines joined. Prose that names walletsim without a
// subcommand the binary has is ignored by the caller.
func docInvocations(text string) map[string][]string {
	text = strings.ReplaceAll(text, "\\\n", " ")
	out := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		for _, m := range invocation.FindAllStringSubmatch(line, -1) {
			sub := m[1]
			// A command with subcommands (events tail): the pair.
			if rest := strings.Fields(m[2]); len(rest) > 0 && nested[sub] {
				sub += " " + rest[0]
			}
			for _, f := range flagRef.FindAllStringSubmatch(m[2], -1) {
				out[sub] = append(out[sub], f[1])
			}
			if _, ok := out[sub]; !ok {
				out[sub] = nil
			}
		}
	}
	return out
}

// TestDocumentedFlagsExist reads every `walletsim <command> ... --flag`
// in README.md, docs/ and compose/ and fails when `walletsim <command>
// --help` lacks the flag: compose's serve service once exited with
// "unknown flag: --metrics-addr" that the README also promised.
func TestDocumentedFlagsExist(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := testbin.Path(t)
	help := map[string]string{}
	helpOf := func(sub string) (string, bool) {
		if h, ok := help[sub]; ok {
			return h, h != ""
		}
		out, err := exec.Command(bin, append(strings.Fields(sub), "--help")...).CombinedOutput()
		h := string(out)
		if err != nil || !strings.Contains(h, "walletsim "+sub) {
			h = "" // not a subcommand: prose ("walletsim creates the topics")
		}
		help[sub] = h
		return h, h != ""
	}
	checked := 0
	for _, file := range docFiles(t) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for sub, flags := range docInvocations(string(b)) {
			h, ok := helpOf(sub)
			if !ok {
				continue
			}
			for _, f := range flags {
				checked++
				if f == "help" || regexp.MustCompile(`--`+regexp.QuoteMeta(f)+`[\s=]`).MatchString(h) {
					continue
				}
				t.Errorf("%s: walletsim %s --%s: the command has no such flag", file, sub, f)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d documented flags found: the parser is not reading the docs", checked)
	}
}

func TestDocInvocations(t *testing.T) {
	got := docInvocations("run `walletsim run quickstart --payments 10 --out d | tee x --bogus` and\n" +
		"./walletsim worker q --brokers a \\\n    --metrics-addr b &\nwalletsim creates the topics --not-a-flag-of-anything")
	if strings.Join(got["run"], ",") != "payments,out" || strings.Join(got["worker"], ",") != "brokers,metrics-addr" {
		t.Fatalf("parsed %v", got)
	}
}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)#\s]+)(?:#[^)]*)?\)`)
	goPackage = regexp.MustCompile(`github\.com/walletsim/walletsim((?:/[a-z0-9_]+)*)`)
	repoPath  = regexp.MustCompile("`((?:cmd|sim|docs|loadtest|internal|scenarios|compose|dashboards)/[A-Za-z0-9_./-]+)`")
)

// TestDocsNameFilesThatExist: every relative link, repository path in
// backticks and walletsim Go package a doc names exists. docs/gate.md
// named the gate package at its path before the re-layout.
func TestDocsNameFilesThatExist(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, file := range docFiles(t) {
		if filepath.Ext(file) != ".md" {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			if strings.Contains(m[1], "://") || strings.HasPrefix(m[1], "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(file), m[1])); err != nil {
				t.Errorf("%s: link to %s: %v", file, m[1], err)
			}
		}
		for _, m := range goPackage.FindAllStringSubmatch(text, -1) {
			if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
				t.Errorf("%s: Go package github.com/walletsim/walletsim%s does not exist", file, m[1])
			}
		}
		for _, m := range repoPath.FindAllStringSubmatch(text, -1) {
			p := strings.TrimSuffix(m[1], "/")
			if strings.ContainsAny(p, "*") {
				continue
			}
			if _, err := os.Stat(filepath.Join(root, p)); err != nil {
				t.Errorf("%s: names %s, which does not exist", file, m[1])
			}
		}
	}
}
