package scenarios

import (
	"fmt"
	"strconv"

	"github.com/walletsim/walletsim/sim/scenario"
)

// Overrides are what a command line changes in a scenario after the file
// and the WALLETSIM_* variables: only the fields set (non-nil, Policy
// non-empty) apply, so the scenario keeps the rest.
type Overrides struct {
	Payments   *int64 // this many payments (positive), and no duration
	Seed       *int64 // the random seed
	Partitions *int   // partitions per topic, 1-1024
	Policy     string // a built-in name or a YAML file
}

// Validate names the first out-of-range override as its flag.
func (o Overrides) Validate() error {
	switch {
	case o.Payments != nil && *o.Payments <= 0:
		return fmt.Errorf("--payments: must be positive, got %d", *o.Payments)
	case o.Partitions != nil && (*o.Partitions < 1 || *o.Partitions > 1024):
		return fmt.Errorf("--partitions: want 1-1024, got %d", *o.Partitions)
	}
	return nil
}

// Apply sets the overrides on s (a scenario without a policy gets
// DefaultPolicy); s must be recompiled afterwards (Recompile).
func (o Overrides) Apply(s *scenario.Scenario) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Payments != nil {
		s.Payments, s.Duration = *o.Payments, ""
	}
	if o.Seed != nil {
		s.Seed = *o.Seed
	}
	if o.Partitions != nil {
		s.Partitions = *o.Partitions
	}
	if o.Policy != "" {
		s.Policy = o.Policy
	}
	if s.Policy == "" {
		s.Policy = DefaultPolicy
	}
	return nil
}

// Args are the overrides as `walletsim run` flags, for a child process.
func (o Overrides) Args() []string {
	var a []string
	if o.Payments != nil {
		a = append(a, "--payments", strconv.FormatInt(*o.Payments, 10))
	}
	if o.Seed != nil {
		a = append(a, "--seed", strconv.FormatInt(*o.Seed, 10))
	}
	if o.Partitions != nil {
		a = append(a, "--partitions", strconv.Itoa(*o.Partitions))
	}
	if o.Policy != "" {
		a = append(a, "--policy", o.Policy)
	}
	return a
}
