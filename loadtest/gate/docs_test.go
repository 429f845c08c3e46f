package gate

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The CI examples in docs/ci must stay valid: YAML that parses, a thresholds
// file the gate loads, fields that a summary.json has.
func TestDocsCI(t *testing.T) {
	rules, err := LoadRules("../../docs/ci/gate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Evaluate(Config{
		Results:   []*Document{mustLoad(t, "testdata/summary.json")},
		Baselines: []*Document{mustLoad(t, "testdata/summary.json")},
		Rules:     rules,
	})
	if err != nil {
		t.Fatalf("docs/ci/gate.yaml does not fit a summary.json: %v", err)
	}
	if !rep.Pass {
		t.Errorf("docs/ci/gate.yaml fails a result against itself: %+v", rep.Checks)
	}

	var gh struct {
		Jobs map[string]struct {
			Env   map[string]string
			Steps []struct {
				Uses string
				Run  string
			}
		}
	}
	readYAML(t, "../../docs/ci/github-actions.yml", &gh)
	job, ok := gh.Jobs["gate"]
	if !ok {
		t.Fatal("github-actions.yml: no gate job")
	}
	var gateStep string
	for _, s := range job.Steps {
		if strings.Contains(s.Run, "walletsim gate ") {
			gateStep = s.Run
		}
	}
	for _, want := range []string{"--junit", `--markdown "$GITHUB_STEP_SUMMARY"`, "--baseline", "--thresholds"} {
		if !strings.Contains(gateStep, want) {
			t.Errorf("github-actions.yml gate step lacks %s:\n%s", want, gateStep)
		}
	}
	if job.Env["THRESHOLDS"] != "docs/ci/gate.yaml" {
		t.Errorf("github-actions.yml THRESHOLDS = %q", job.Env["THRESHOLDS"])
	}

	var gl map[string]struct {
		Script    []string
		Artifacts struct {
			Reports struct{ JUnit string }
		}
	}
	readYAML(t, "../../docs/ci/gitlab-ci.yml", &gl)
	j, ok := gl["perf-gate"]
	if !ok {
		t.Fatal("gitlab-ci.yml: no perf-gate job")
	}
	if j.Artifacts.Reports.JUnit != "gate-junit.xml" || !strings.Contains(strings.Join(j.Script, "\n"), "--junit gate-junit.xml") {
		t.Errorf("gitlab-ci.yml: JUnit report %q not written by the script", j.Artifacts.Reports.JUnit)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
