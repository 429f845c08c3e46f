// Package cli holds what every walletsim subcommand shares: exit codes and
// the error types that carry them.
package cli

import (
	"errors"
	"fmt"
)

// Exit codes, the same for every subcommand. CI scripts depend on them.
const (
	ExitOK      = 0 // success; for gates, every check passed
	ExitFailure = 1 // a runtime failure, or a gate check that failed
	ExitUsage   = 2 // bad arguments, flags or input files
)

// UsageError marks an error caused by the caller's input: exit code 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef builds a UsageError.
func Usagef(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// Usage wraps err as a UsageError (nil stays nil).
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return &UsageError{Err: err}
}

// badInput is what the libraries' errors about the caller's input
// implement (run.InputError, engine.IdentityError, the trace importers'):
// exit 2 like a UsageError, without the libraries knowing exit codes.
type badInput interface{ BadInput() bool }

// ExitError carries an explicit exit code with an optional message; a nil
// Err means the command already printed what it had to say.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// Code maps an error to the process exit code.
func Code(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var bi badInput
	if errors.As(err, &bi) && bi.BadInput() {
		return ExitUsage
	}
	return ExitFailure
}
