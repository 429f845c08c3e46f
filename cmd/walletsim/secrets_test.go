package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/walletsim/walletsim/internal/testbin"
)

// TestSASLPasswordStaysSecret runs against a broker that requires SCRAM,
// the password in WALLETSIM_SASL_PASSWORD and debug logging on, and looks
// for the password in everything the run leaves behind: stdout, stderr
// and every file of --out. A wrong password fails with exit 1 and a
// one-line error that does not repeat it either.
func TestSASLPasswordStaysSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the engine")
	}
	const secret = "s3cret-Pa55word-xyzzy"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "alice", secret))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	run := func(password string, out string) (code int, stdout, stderr string) {
		cmd := exec.Command(testbin.Path(t), "run", "quickstart", "--payments", "5000", "--partitions", "2", "--brokers", addr,
			"--sasl-mechanism", "scram-sha-512", "--sasl-user", "alice", "--out", out)
		cmd.Env = append(os.Environ(), "WALLETSIM_SASL_PASSWORD="+password, "WALLETSIM_DEBUG=1")
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, o.String(), e.String()
	}

	out := t.TempDir()
	code, stdout, stderr := run(secret, out)
	if code != 0 {
		t.Fatalf("run with SCRAM: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, secret) {
		t.Fatal("the password appears in the run's output")
	}
	n := 0
	err = filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the password appears in %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the run wrote no files to check")
	}

	wrong := "wrong-" + secret
	code, stdout, stderr = run(wrong, t.TempDir())
	if code != 1 {
		t.Fatalf("run with a wrong password: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, wrong) || strings.Contains(stdout+stderr, secret) {
		t.Fatalf("the failed run repeats the password:\n%s\n%s", stdout, stderr)
	}
}
