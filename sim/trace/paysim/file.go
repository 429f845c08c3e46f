package paysim

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// InputError is an input ConvertFile will not turn into a trace: a file
// that does not open, or bad rows under Strict.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// BadInput marks it as the caller's mistake (the CLI exits 2).
func (e *InputError) BadInput() bool { return true }

// ConvertFile converts the PaySim log at in into the trace file out. It
// writes beside out and renames when done, so a failed import never
// leaves a half trace where a replay would find it. With strict, any bad
// row is an *InputError and no trace is written; a file with no usable
// rows is a *RowError. The result, when there is one, counts the bad rows
// even on error.
func ConvertFile(in, out string, o Options, strict bool) (*Result, error) {
	f, err := os.Open(in)
	if err != nil {
		return nil, &InputError{err}
	}
	defer f.Close()
	o.Input = filepath.Base(in)
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".tmp-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	res, err := Convert(f, in, tmp, o)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}
	if strict && res.Rejected > 0 {
		return res, &InputError{fmt.Errorf("%s: %d bad rows (--strict): no trace written", in, res.Rejected)}
	}
	return res, os.Rename(tmp.Name(), out)
}

// WriteErrors prints the first max bad rows, and how many there were in
// all when that is more.
func (r *Result) WriteErrors(w io.Writer, max int) {
	for i, re := range r.Errors {
		if i == max {
			break
		}
		fmt.Fprintln(w, "bad row:", re)
	}
	if shown := min(len(r.Errors), max); r.Rejected > int64(shown) {
		fmt.Fprintf(w, "bad rows: %d in all (the first %d shown)\n", r.Rejected, shown)
	}
}
