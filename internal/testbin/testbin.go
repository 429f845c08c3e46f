// Package testbin builds the walletsim binary once per test process, for
// tests that must see what a user sees: exit codes, stdout, stderr.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once sync.Once
	path string
	err  error
	out  []byte
)

// Path returns the path of a freshly built walletsim binary.
func Path(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		dir, e := os.MkdirTemp("", "walletsim-bin-")
		if e != nil {
			err = e
			return
		}
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		path = filepath.Join(dir, "walletsim")
		cmd := exec.Command("go", "build", "-o", path, "./cmd/walletsim")
		cmd.Dir = root
		out, err = cmd.CombinedOutput()
	})
	if err != nil {
		t.Fatalf("build walletsim: %v\n%s", err, out)
	}
	return path
}
