package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/sim/run"
)

// run --coverage prints which policy rules and routes the run exercised
// (summary.json's policy_coverage holds it either way).
var runCoverage bool

func init() {
	registerRunFlags(func(fs *pflag.FlagSet) {
		fs.BoolVar(&runCoverage, "coverage", false, "print how often each policy rule and route fired, and the rules that never did")
	})
	runResultHooks = append(runResultHooks, func(cmd *cobra.Command, _ string, res *run.Result) error {
		if !runCoverage || res.Summary.PolicyCoverage == nil {
			return nil
		}
		return res.Summary.PolicyCoverage.WriteTable(cmd.OutOrStdout())
	})
}
