package main

import (
	"os/exec"
	"regexp"
	"testing"

	"github.com/walletsim/walletsim/internal/testbin"
)

// TestBrokersRequiredInHelp: the commands that read an existing log fail
// without --brokers (exit 2), so their help must not promise "default: an
// embedded broker".
func TestBrokersRequiredInHelp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	line := regexp.MustCompile(`--brokers string[^\n]*`)
	for _, sub := range [][]string{{"verify"}, {"replay"}, {"events", "tail"}, {"deadletters"}} {
		out, _ := exec.Command(testbin.Path(t), append(sub, "--help")...).CombinedOutput()
		l := line.FindString(string(out))
		if !regexp.MustCompile(`required`).MatchString(l) || regexp.MustCompile(`default: an embedded`).MatchString(l) {
			t.Errorf("walletsim %v --help: %q, want --brokers marked required", sub, l)
		}
	}
}
