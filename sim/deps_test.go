package sim_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The model must stay runnable without a broker or a network: a decision
// that needs Kafka or HTTP belongs in an adapter.
func TestModelImportsNoAdapters(t *testing.T) {
	model := []string{"sim", "sim/scenario", "sim/gen", "sim/event", "sim/route", "sim/ledger", "sim/audit"}
	banned := []string{"github.com/segmentio/kafka-go", "github.com/twmb/franz-go", "github.com/ThreeDotsLabs/watermill", "net/http"}
	for _, p := range model {
		out, err := exec.Command("go", "list", "-deps", "github.com/walletsim/walletsim/"+p).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", p, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range banned {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s imports %s (through the dependency graph); the model knows nothing of Kafka or HTTP", p, dep)
				}
			}
		}
	}
}
