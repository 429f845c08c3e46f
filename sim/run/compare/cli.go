package compare

import (
	"context"
	"fmt"
	"io"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/run"
)

// LoadPolicies loads every policy (a built-in name or a YAML file) before
// anything runs: a typo in the last one must not cost the runs before it.
// A policy named twice is an error.
func LoadPolicies(names []string) ([]Policy, error) {
	var pols []Policy
	seen := map[string]string{}
	for _, p := range names {
		table, pol, psrc, err := scenarios.LoadPolicy(p)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[pol.Name]; dup {
			return nil, fmt.Errorf("--policy %s: policy %q is already compared (from %s)", p, pol.Name, prev)
		}
		seen[pol.Name] = psrc.Path
		pols = append(pols, Policy{Name: pol.Name, Source: psrc.Path, Table: table})
	}
	return pols, nil
}

// Progress is an Options.OnRun that prints a line per finished run of n.
func Progress(w io.Writer, n int) func(int, Policy, *run.Result) {
	return func(i int, p Policy, res *run.Result) {
		sum := res.Summary
		fmt.Fprintf(w, "policy %d/%d %s: %d payments in %.2fs, acceptance %.2f%%, invariants ok %v\n",
			i+1, n, p.Name, sum.Payments.Attempted, sum.DurationS, 100*sum.Interop.AcceptanceRate, sum.Invariants.OK())
	}
}

// RunAll is `walletsim compare`: Run, or with seeds > 0 RunPaired over
// that many seeds from the scenario's (SeedsFrom; a bad count is a
// *run.InputError), then with attribution the two policies' Attribute,
// checked against the comparison and kept in it.
func RunAll(ctx context.Context, o Options, seeds int, attribution bool) (*Comparison, error) {
	switch {
	case seeds < 0 || seeds == 1:
		return nil, &run.InputError{Err: fmt.Errorf("--seeds %d: a paired comparison needs at least 2 seeds", seeds)}
	case attribution && len(o.Policies) != 2:
		return nil, &run.InputError{Err: fmt.Errorf("--attribution compares exactly two policies, got %d", len(o.Policies))}
	}
	var (
		c   *Comparison
		err error
	)
	if seeds > 0 {
		list, serr := SeedsFrom(o.Scenario.Seed, seeds)
		if serr != nil {
			return nil, &run.InputError{Err: serr}
		}
		c, err = RunPaired(ctx, o, list)
	} else {
		c, err = Run(ctx, o)
	}
	if err != nil || !attribution {
		return c, err
	}
	attr, err := Attribute(o.Scenario, o.Policies[0], o.Policies[1])
	if err != nil {
		return nil, err
	}
	if err := attr.Check(c); err != nil {
		return nil, err
	}
	c.Attribution = attr
	return c, nil
}

// Write prints the comparison's table, then its paired table and its
// attribution when it has them, and with out writes attribution.json,
// compare.json and compare.html there, naming each file it wrote.
func (c *Comparison) Write(w io.Writer, out string) error {
	if err := c.WriteTable(w); err != nil {
		return err
	}
	if c.Paired != nil {
		fmt.Fprintln(w)
		if err := c.Paired.WritePairedTable(w); err != nil {
			return err
		}
	}
	if a := c.Attribution; a != nil {
		fmt.Fprintln(w)
		if err := a.WriteTable(w); err != nil {
			return err
		}
		if out != "" {
			p, err := a.WriteJSON(out)
			if err != nil {
				return err
			}
			fmt.Fprintln(w, "wrote", p)
		}
	}
	if out == "" {
		return nil
	}
	p, err := c.WriteJSON(out)
	if err != nil {
		return err
	}
	h, err := c.WriteHTML(out)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "wrote", p)
	fmt.Fprintln(w, "wrote", h)
	return nil
}
