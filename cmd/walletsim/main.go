// Command walletsim is an event-sourced wallet simulator and load tester for
// the mobile-wallet world of mainland China, Hong Kong and the Greater Bay
// Area. Each subcommand lives in its own file; newRootCmd assembles them.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
	"github.com/walletsim/walletsim/internal/cli"
)

// profiles are the root's --cpuprofile and --memprofile.
type profiles struct{ cpu, mem string }

// newRootCmd builds the whole command tree, fresh each call, so tests
// build their own and nothing is left over from an earlier Execute.
func newRootCmd() (*cobra.Command, *profiles) {
	root := &cobra.Command{
		Use:           "walletsim",
		Short:         "Event-sourced wallet simulator and load tester on Kafka",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	prof := &profiles{}
	// Flag parse errors are the caller's mistake: exit 2, not 1.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.Usage(err) })
	pf := root.PersistentFlags()
	pf.StringVar(&prof.cpu, "cpuprofile", "", "write a CPU profile to this file (go tool pprof)")
	pf.StringVar(&prof.mem, "memprofile", "", "write a heap profile to this file at exit")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if prof.cpu == "" {
			return nil
		}
		f, err := os.Create(prof.cpu)
		if err != nil {
			return cli.Usage(err)
		}
		return pprof.StartCPUProfile(f)
	}
	root.AddCommand(
		newAttackCmd(), newBenchCmd(), newBrokerCmd(), newCalibrateCmd(), newChaosCmd(), newCompareCmd(),
		newDeadLettersCmd(), newDiffCmd(), newEventsCmd(), newGateCmd(runOnce), newImportCmd(), newReplayCmd(),
		newReportCmd(), newRunCmd(), newServeCmd(), newVerifyCmd(), newWorkerCmd(),
	)
	return root, prof
}

func (p *profiles) stop() {
	if p.cpu != "" {
		pprof.StopCPUProfile()
	}
	if p.mem != "" {
		if f, err := os.Create(p.mem); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
}

func main() {
	root, prof := newRootCmd()
	err := root.Execute()
	prof.stop()
	code := cli.Code(err)
	if err != nil {
		// cobra reports unknown commands and bad arg counts as plain errors.
		if code == cli.ExitFailure && isCobraUsage(err) {
			code = cli.ExitUsage
		}
		var ee *cli.ExitError
		if !errors.As(err, &ee) || ee.Err != nil {
			fmt.Fprintln(os.Stderr, "walletsim:", err)
		}
	}
	os.Exit(code)
}

func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.Contains(s, "arg(s)") ||
		strings.HasPrefix(s, "unknown flag") || strings.HasPrefix(s, "required flag")
}
