// Command walletsim is an event-sourced wallet simulator and load tester for
// the mobile-wallet world of mainland China, Hong Kong and the Greater Bay
// Area. Each subcommand lives in its own file and registers itself on root.
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

var rootCmd = &cobra.Command{
	Use:           "walletsim",
	Short:         "Event-sourced wallet simulator and load tester on Kafka",
	SilenceUsage:  true,
	SilenceErrors: true,
}

var cpuProfile, memProfile string

func init() {
	// Flag parse errors are the caller's mistake: exit 2, not 1.
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.Usage(err) })
	pf := rootCmd.PersistentFlags()
	pf.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file (go tool pprof)")
	pf.StringVar(&memProfile, "memprofile", "", "write a heap profile to this file at exit")
	rootCmd.PersistentPreRunE = func(*cobra.Command, []string) error {
		if cpuProfile == "" {
			return nil
		}
		f, err := os.Create(cpuProfile)
		if err != nil {
			return cli.Usage(err)
		}
		return pprof.StartCPUProfile(f)
	}
}

func stopProfiles() {
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if memProfile != "" {
		if f, err := os.Create(memProfile); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
}

func main() {
	err := rootCmd.Execute()
	stopProfiles()
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
