package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
)

// Profiles are a root command's --cpuprofile and --memprofile.
type Profiles struct{ cpu, mem string }

// AddProfiles registers --cpuprofile and --memprofile on root: the CPU
// profile runs from before the subcommand until Stop, the heap profile is
// written at Stop.
func AddProfiles(root *cobra.Command) *Profiles {
	p := &Profiles{}
	pf := root.PersistentFlags()
	pf.StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile to this file (go tool pprof)")
	pf.StringVar(&p.mem, "memprofile", "", "write a heap profile to this file at exit")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if p.cpu == "" {
			return nil
		}
		f, err := os.Create(p.cpu)
		if err != nil {
			return Usage(err)
		}
		return pprof.StartCPUProfile(f)
	}
	return p
}

// Stop ends the CPU profile and writes the heap profile.
func (p *Profiles) Stop() {
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

// Exit is the exit code of err, a command's result, after printing it on
// stderr as "NAME: err" (unless it is an ExitError with nothing to say).
// cobra's own unknown commands, flags and argument counts are usage
// errors (exit 2).
func Exit(stderr io.Writer, name string, err error) int {
	code := Code(err)
	if err == nil {
		return code
	}
	if code == ExitFailure && isCobraUsage(err) {
		code = ExitUsage
	}
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Err != nil {
		fmt.Fprintln(stderr, name+":", err)
	}
	return code
}

func isCobraUsage(err error) bool {
	s := err.Error()
	return strings.HasPrefix(s, "unknown command") || strings.Contains(s, "arg(s)") ||
		strings.HasPrefix(s, "unknown flag") || strings.HasPrefix(s, "required flag")
}
