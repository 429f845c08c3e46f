package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/trace"
)

// run --trace FILE replays a trace (package trace; `walletsim import
// paysim` writes them) instead of the scenario's generator. The scenario
// still names the policy, partitions and seed (route latencies); the
// trace brings the wallets, merchants and payments. --pace step gives each
// step its own epoch of the trace's step length (an hour for PaySim);
// --pace fast packs payments into full one-second epochs.

var runTrace struct {
	file string
	pace string
}

func init() {
	registerRunFlags(func(fs *pflag.FlagSet) {
		fs.StringVar(&runTrace.file, "trace", "", "replay this trace file instead of generating the scenario's traffic")
		fs.StringVar(&runTrace.pace, "pace", string(trace.PaceStep), "trace pacing: step (one epoch per step, e.g. a simulated hour) or fast (as fast as possible: full 1s epochs)")
	})
	runOptionHooks = append(runOptionHooks, traceOptions)
}

func traceOptions(cmd *cobra.Command, o *run.Options) error {
	fl := cmd.Flags()
	if !fl.Changed("trace") {
		if fl.Changed("pace") {
			return cli.Usagef("--pace needs --trace")
		}
		return nil
	}
	for _, f := range []string{"scale", "payments"} {
		if fl.Changed(f) {
			return cli.Usagef("--%s does not apply to --trace: the trace decides the wallets and payments", f)
		}
	}
	pace, err := trace.ParsePace(runTrace.pace)
	if err != nil {
		return cli.Usage(fmt.Errorf("--pace: %w", err))
	}
	t, err := trace.LoadFile(runTrace.file)
	if err != nil {
		return cli.Usage(err)
	}
	src, err := trace.NewSource(t, pace)
	if err != nil {
		return cli.Usage(err)
	}
	o.Source, o.Clock, o.Total = src, src.Clock(), src.Payments()
	return nil
}
