package coverage

import (
	"fmt"
	"strings"

	"github.com/walletsim/walletsim/scenarios"
)

// Change loads the policies prev and next (files or built-in names) and
// returns the rules next touches (Touched), next's name, and a note naming
// them, for gate --policy-diff.
func Change(prev, next string) (ids []string, policy, note string, err error) {
	_, p, _, err := scenarios.LoadPolicy(prev)
	if err != nil {
		return nil, "", "", fmt.Errorf("--policy-diff OLD: %w", err)
	}
	table, n, _, err := scenarios.LoadPolicy(next)
	if err != nil {
		return nil, "", "", fmt.Errorf("--policy-diff NEW: %w", err)
	}
	ids = Touched(p, n, table)
	note = fmt.Sprintf("policy change %s -> %s touches %d rule(s): %s", p.Name, n.Name, len(ids), strings.Join(ids, ", "))
	return ids, n.Name, note, nil
}
