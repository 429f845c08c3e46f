package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/run"
)

// run --workers external: this process only produces the scenario's
// commands, waits for `walletsim worker` processes (any number, on any
// machines, in one consumer group) to checkpoint every partition done,
// then audits the log like any run.

var runWorkersMode string

func init() {
	registerRunFlags(func(fs *pflag.FlagSet) {
		fs.StringVar(&runWorkersMode, "workers", "local", "where the processors run: local (in this process) or external (`walletsim worker` processes; needs --brokers)")
	})
	runOptionHooks = append(runOptionHooks, runWorkersOptions)
}

func runWorkersOptions(cmd *cobra.Command, o *run.Options) error {
	switch runWorkersMode {
	case "local", "":
		return nil
	case "external":
	default:
		return cli.Usagef("--workers: want local or external, got %q", runWorkersMode)
	}
	if len(o.Bus.Brokers) == 0 {
		return cli.Usagef("--workers external needs --brokers host:port: workers in other processes cannot reach this process's embedded broker")
	}
	o.ExternalWorkers = true
	// The workers may already be reading these topics (they create them
	// when they start first). Deleting them under a consumer group would
	// pull the log from under running processors, so with external workers
	// a run keeps existing topics unless --fresh is given explicitly.
	if !cmd.Flags().Changed("fresh") {
		o.Fresh = false
	}
	if o.Progress != nil {
		fmt.Fprintln(o.Progress, "run: producing only; `walletsim worker` processes run the processors")
	}
	return nil
}
