package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/run/compare"
)

// compareExtra are compare's --seeds (paired comparison with intervals)
// and --attribution (who gains) flags.
type compareExtra struct {
	seeds       int
	attribution bool
	attr        *compare.Attribution
}

func (x *compareExtra) register(fs *pflag.FlagSet) {
	fs.IntVar(&x.seeds, "seeds", 0, "run every policy on `N` seeds (the scenario's seed and the next N-1) and report each metric's difference from the first policy with a 95% interval")
	fs.BoolVar(&x.attribution, "attribution", false, "for two policies: attribute every payment whose outcome differs to the rules that decided it (attribution.json, a section of compare.html)")
}

func (x *compareExtra) validate(cmd *cobra.Command, policies int) error {
	if cmd.Flags().Changed("seeds") && x.seeds < 2 {
		return cli.Usagef("--seeds %d: a paired comparison needs at least 2 seeds", x.seeds)
	}
	if x.attribution && policies != 2 {
		return cli.Usagef("--attribution compares exactly two policies, got %d", policies)
	}
	return nil
}

func (x *compareExtra) run(ctx context.Context, cmd *cobra.Command, opts compare.Options) (*compare.Comparison, error) {
	var (
		c   *compare.Comparison
		err error
	)
	if x.seeds > 0 {
		seeds, serr := compare.SeedsFrom(opts.Scenario.Seed, x.seeds)
		if serr != nil {
			return nil, cli.Usage(serr)
		}
		c, err = compare.RunPaired(ctx, opts, seeds)
	} else {
		c, err = compare.Run(ctx, opts)
	}
	if err != nil || !x.attribution {
		return c, err
	}
	x.attr, err = compare.Attribute(opts.Scenario, opts.Policies[0], opts.Policies[1])
	if err != nil {
		return nil, err
	}
	if err := x.attr.Check(c); err != nil {
		return nil, err
	}
	c.Attribution = x.attr
	return c, nil
}

func (x *compareExtra) write(cmd *cobra.Command, c *compare.Comparison, out string) error {
	w := cmd.OutOrStdout()
	if c.Paired != nil {
		fmt.Fprintln(w)
		if err := c.Paired.WritePairedTable(w); err != nil {
			return err
		}
	}
	if x.attr != nil {
		fmt.Fprintln(w)
		if err := x.attr.WriteTable(w); err != nil {
			return err
		}
		if out != "" {
			p, err := x.attr.WriteJSON(out)
			if err != nil {
				return err
			}
			fmt.Fprintln(w, "wrote", p)
		}
	}
	return nil
}
