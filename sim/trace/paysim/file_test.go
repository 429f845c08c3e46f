package paysim

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ConvertFile writes the trace only when the import succeeds: a bad row
// under strict, or a missing input, leaves nothing at out.
func TestConvertFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "log.csv")
	log := header + "1,PAYMENT,9.5,C1,100,90.5,M1,0,0,0,0\n1,PAYMENT,x,C1,100,90.5,M1,0,0,0,0\n"
	if err := os.WriteFile(in, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "log.trace")
	var ie *InputError
	res, err := ConvertFile(in, out, convertOptions(), true)
	if !errors.As(err, &ie) || res == nil || res.Rejected != 1 {
		t.Fatalf("strict: %v, %+v; want an *InputError counting one bad row", err, res)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("strict import with a bad row wrote a trace")
	}
	if res, err = ConvertFile(in, out, convertOptions(), false); err != nil || res.Payments != 1 {
		t.Fatalf("lenient: %v, %+v", err, res)
	}
	if _, err := os.Stat(out); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	res.WriteErrors(&b, 0)
	if b.String() != "bad rows: 1 in all (the first 0 shown)\n" {
		t.Errorf("WriteErrors(0): %q", b.String())
	}
	if _, err := ConvertFile(filepath.Join(dir, "none.csv"), out, convertOptions(), false); !errors.As(err, &ie) {
		t.Errorf("missing input: %v, want an *InputError", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
