package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/walletsim/walletsim/loadtest"
)

var (
	attackBinOnce sync.Once
	attackBin     string
	attackBinErr  error
)

// walletsimBin builds the binary once for the attack, serve and report
// tests: they check what a user runs, exit codes included.
func atkBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the walletsim binary and runs the engine")
	}
	attackBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "walletsim-attack-test-")
		if err != nil {
			attackBinErr = err
			return
		}
		attackBin = filepath.Join(dir, "walletsim")
		out, err := exec.Command("go", "build", "-o", attackBin, ".").CombinedOutput()
		if err != nil {
			attackBinErr = errors.New(string(out))
		}
	})
	if attackBinErr != nil {
		t.Fatal(attackBinErr)
	}
	return attackBin
}

func atkRun(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(atkBin(t), args...)
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

// decodeResults counts results.bin with vegeta's own decoder.
func atkDecode(t *testing.T, dir string) []vegeta.Result {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "results.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.DecoderFor(bufio.NewReader(f))
	if dec == nil {
		t.Fatalf("%s/results.bin: not in a vegeta encoding", dir)
	}
	var out []vegeta.Result
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatalf("results.bin record %d: %v", len(out), err)
		}
		out = append(out, r)
	}
}

func atkReport(t *testing.T, dir string) *loadtest.Report {
	t.Helper()
	r, err := loadtest.ReadReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// vegetaCLI runs `vegeta report` on results.bin when the vegeta v12.12.0
// CLI is installed; CI (WALLETSIM_VEGETA_TESTS=1) requires it.
func atkVegetaCLI(t *testing.T, dir string, want int) {
	t.Helper()
	bin, err := exec.LookPath("vegeta")
	if err != nil {
		if os.Getenv("WALLETSIM_VEGETA_TESTS") != "" {
			t.Fatal("WALLETSIM_VEGETA_TESTS is set but the vegeta CLI is not on PATH")
		}
		t.Log("vegeta CLI not on PATH: results.bin checked with the library only")
		return
	}
	out, err := exec.Command(bin, "report", "-type=json", filepath.Join(dir, "results.bin")).Output()
	if err != nil {
		t.Fatalf("vegeta report: %v", err)
	}
	var m struct {
		Requests int `json:"requests"`
	}
	if err := json.Unmarshal(out, &m); err != nil || m.Requests != want {
		t.Fatalf("vegeta report: %d requests (%v), want %d: %s", m.Requests, err, want, out)
	}
}

// TestAttackInProcess: an attack on the in-process API, with invalid
// requests mixed in, exits 0; results.bin holds every request in vegeta's
// encoding; every invalid form got its status and code; money is conserved.
func TestAttackInProcess(t *testing.T) {
	dir := t.TempDir()
	code, out := atkRun(t, "attack", "quickstart", "--scale", "0.05", "--rate", "200/s", "--duration", "3s",
		"--invalid-share", "0.2", "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	rep := atkReport(t, dir)
	res := atkDecode(t, dir)
	if int64(len(res)) != rep.Requests || rep.Requests < 500 {
		t.Fatalf("results.bin holds %d results, attack.json says %d requests (want about 600)", len(res), rep.Requests)
	}
	if rep.Invalid.Requests == 0 || rep.Invalid.Refused != rep.Invalid.Requests {
		t.Errorf("invalid requests: %+v", rep.Invalid)
	}
	for name, f := range rep.Invalid.ByForm {
		if f.Unexpected != 0 {
			t.Errorf("%s: %d answers other than %s", name, f.Unexpected, f.Expect)
		}
	}
	if rep.Valid.SuccessRatio < 0.99 {
		t.Errorf("valid success ratio %v", rep.Valid.SuccessRatio)
	}
	inv := rep.Invariants
	if inv == nil || !inv.OK || !inv.MoneyConserved || inv.UnresolvedCommands != 0 || inv.Accepted != rep.Valid.Requests {
		t.Errorf("invariants %+v (valid requests %d)", inv, rep.Valid.Requests)
	}
	if st, err := os.Stat(filepath.Join(dir, "attack.html")); err != nil || st.Size() == 0 {
		t.Errorf("attack.html: %v", err)
	}
	if !strings.Contains(out, "latency ms") || !strings.Contains(out, "invariants") {
		t.Errorf("terminal report lacks latency or invariants:\n%s", out)
	}
	atkVegetaCLI(t, dir, len(res))
}

// TestAttackShardsMerged: two shards of one 10 s attack on one running
// serve, merged by report, count every request of both.
func TestAttackShardsMerged(t *testing.T) {
	bin := atkBin(t)
	serve := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--scale", "0.05")
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	serve.Stderr = os.Stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer serve.Process.Kill()
	lines := bufio.NewScanner(stdout)
	var url string
	var rest bytes.Buffer
	for lines.Scan() {
		l := lines.Text()
		if u, ok := strings.CutPrefix(l, "walletsim serve: http://"); ok {
			url = "http://" + strings.Fields(u)[0]
		}
		if l == "walletsim serve: ready" {
			break
		}
	}
	if url == "" {
		t.Fatal("serve printed no address")
	}
	done := make(chan struct{})
	go func() { io.Copy(&rest, stdout); close(done) }()
	if resp, err := http.Get(url + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}

	dirs := []string{t.TempDir(), t.TempDir()}
	var wg sync.WaitGroup
	codes, outs := make([]int, 2), make([]string, 2)
	for i := range dirs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			codes[i], outs[i] = atkRun(t, "attack", "quickstart", "--target", url, "--scale", "0.05", "--shard", []string{"0/2", "1/2"}[i],
				"--rate", "100/s", "--duration", "10s", "--invalid-share", "0.05", "--out", dirs[i], "--quiet")
		}(i)
	}
	wg.Wait()
	total := 0
	for i := range dirs {
		if codes[i] != 0 {
			t.Fatalf("shard %d: exit %d\n%s", i, codes[i], outs[i])
		}
		n := len(atkDecode(t, dirs[i]))
		if r := atkReport(t, dirs[i]); r.Requests != int64(n) || n < 400 {
			t.Fatalf("shard %d: %d results, attack.json %d (want about 500)", i, n, r.Requests)
		}
		total += n
	}
	merged := t.TempDir()
	code, out := atkRun(t, "report", dirs[0], dirs[1], "--out", merged)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s", code, out)
	}
	rep := atkReport(t, merged)
	if rep.Requests != int64(total) || len(rep.Shards) != 2 {
		t.Fatalf("merged report counts %d requests of shards %v; the shards sent %d", rep.Requests, rep.Shards, total)
	}
	if rep.Valid.Requests+rep.Invalid.Requests != rep.Requests || rep.Invalid.Refused != rep.Invalid.Requests {
		t.Errorf("merged valid %+v invalid %+v", rep.Valid, rep.Invalid)
	}

	// serve drains on SIGINT, audits the log and exits 0.
	if err := serve.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := serve.Wait(); err != nil {
		t.Fatalf("serve after SIGINT: %v\n%s", err, rest.String())
	}
	if !strings.Contains(rest.String(), "invariants        OK") {
		t.Errorf("serve's audit:\n%s", rest.String())
	}
}

// TestAttackUsage: bad arguments exit 2 before anything starts.
func TestAttackUsage(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"bad rate", []string{"attack", "quickstart", "--rate", "fast"}},
		{"zero rate", []string{"attack", "quickstart", "--rate", "0/s"}},
		{"bad shard", []string{"attack", "quickstart", "--shard", "2/2"}},
		{"bad profile", []string{"attack", "quickstart", "--profile", "square"}},
		{"bad invalid share", []string{"attack", "quickstart", "--invalid-share", "1.5"}},
		{"noop with target", []string{"attack", "quickstart", "--noop", "--target", "http://127.0.0.1:1"}},
		{"no scenario", []string{"attack", "no-such-scenario"}},
		{"report without results", []string{"report", os.TempDir() + "/walletsim-no-such-dir"}},
		{"serve bad epoch", []string{"serve", "--epoch", "10us"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if code, out := atkRun(t, c.args...); code != 2 {
				t.Errorf("exit %d, want 2:\n%s", code, out)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"2000/s", 2000, true}, {"2000", 2000, true}, {"500/100ms", 5000, true}, {"120/m", 2, true},
		{"1/1s", 1, true}, {"0/s", 0, false}, {"-5/s", 0, false}, {"x/s", 0, false}, {"5/fortnight", 0, false},
	} {
		got, err := loadtest.ParseRate(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseRate(%q) = %v, %v", c.in, got, err)
		}
	}
	_ = time.Second
}

// TestAttackScenarioSection: rate, duration, invalid share and shape come
// from the scenario's attack section when no flag overrides them.
func TestAttackScenarioSection(t *testing.T) {
	dir := t.TempDir()
	code, out := atkRun(t, "attack", "../../loadtest/testdata/spike-1111.yaml", "--scale", "0.05", "--out", dir, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	rep := atkReport(t, dir)
	// 3 s at 100/s with 1 s at 4x: 600 requests planned.
	if rep.Profile != "scenario" || rep.Planned != 600 || rep.Invalid.Requests == 0 || rep.Invalid.Refused != rep.Invalid.Requests {
		t.Errorf("profile %s, planned %d, invalid %+v", rep.Profile, rep.Planned, rep.Invalid)
	}
}
