package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walletsim/walletsim/internal/testbin"
)

// serveProc is a running `walletsim serve` and its base URL.
type serveProc struct {
	cmd    *exec.Cmd
	url    string
	out    *bytes.Buffer // everything printed after "ready"
	stderr *bytes.Buffer
	err    chan error
}

func startServe(t *testing.T, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(testbin.Path(t), append([]string{"serve", "--addr", "127.0.0.1:0", "--scale", "0.05"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, out: &bytes.Buffer{}, stderr: &stderr, err: make(chan error, 1)}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "walletsim serve: http://"); ok {
			p.url = "http://" + strings.Fields(rest)[0]
		}
		if line == "walletsim serve: ready" {
			break
		}
	}
	if p.url == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("serve did not get ready:\n%s", stderr.String())
	}
	go func() {
		_, _ = io.Copy(p.out, stdout)
		p.err <- cmd.Wait()
	}()
	return p
}

func (p *serveProc) call(t *testing.T, method, path string, body string, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, p.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestServeSurvivesSIGKILL: `walletsim serve --data DIR` accepts payments
// (202, async), is killed with SIGKILL, and is started again on the same
// DIR. Every accepted payment is answered by GET /v1/payments/{id} with
// its outcome, a repeated Idempotency-Key gets the original payment, the
// balances are the log's, and the drain audit at SIGTERM is clean. Before,
// serve deleted its topics at every start: the 202s were lost.
func TestServeSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs serve twice")
	}
	dir := t.TempDir()
	s1 := startServe(t, "--data", dir, "--async")
	type accepted struct {
		id, key string
		body    string
	}
	var acc []accepted
	for w := 1; w <= 30; w++ {
		st, m := s1.call(t, "GET", fmt.Sprintf("/v1/wallets/%d", w), "", nil)
		if st != 200 {
			t.Fatalf("GET wallet %d: %d %v", w, st, m)
		}
		body := fmt.Sprintf(`{"wallet_id":%d,"amount":%d,"currency":"%s"}`, w, 100+w, m["currency"])
		key := fmt.Sprintf("restart-%d", w)
		st, m = s1.call(t, "POST", "/v1/topups", body, map[string]string{"Idempotency-Key": key})
		// 202, or the outcome when it came while the payment was being
		// written (an async answer waits until the payment is in the log).
		if st != http.StatusAccepted && st != http.StatusOK {
			t.Fatalf("POST topup %d: %d %v", w, st, m)
		}
		acc = append(acc, accepted{id: m["payment_id"].(string), key: key, body: body})
	}
	if err := s1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s1.err

	s2 := startServe(t, "--data", dir)
	defer s2.cmd.Process.Kill()
	for _, a := range acc {
		var st int
		var m map[string]any
		for deadline := time.Now().Add(time.Minute); ; {
			st, m = s2.call(t, "GET", "/v1/payments/"+a.id, "", nil)
			if st != 200 || m["status"] != "pending" || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if st != 200 || m["status"] != "settled" {
			t.Fatalf("GET /v1/payments/%s after SIGKILL and restart: %d %v", a.id, st, m)
		}
		// The same key and body: the original payment, not a new one.
		st, m = s2.call(t, "POST", "/v1/topups", a.body, map[string]string{"Idempotency-Key": a.key})
		if m["payment_id"] != a.id || st != 200 {
			t.Fatalf("repeated Idempotency-Key %s after restart: %d %v, want payment %s", a.key, st, m, a.id)
		}
	}
	// New payments still go through after the restart.
	if st, m := s2.call(t, "POST", "/v1/topups", acc[0].body, nil); st != 200 || m["status"] != "settled" {
		t.Fatalf("a new payment after the restart: %d %v", st, m)
	}
	if err := s2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-s2.err; err != nil {
		t.Fatalf("serve after restart exited %v:\n%s", err, s2.out)
	}
	out := s2.out.String()
	if !strings.Contains(out, "invariants        OK") || !strings.Contains(out, "accepted          31 payments") {
		t.Fatalf("drain audit after restart:\n%s", out)
	}

	// A clean stop closed the log (its last epoch marked): a third start
	// reopens it and goes on.
	s3 := startServe(t, "--data", dir)
	defer s3.cmd.Process.Kill()
	if st, m := s3.call(t, "GET", "/v1/payments/"+acc[5].id, "", nil); st != 200 || m["status"] != "settled" {
		t.Fatalf("GET after a clean restart: %d %v", st, m)
	}
	if st, m := s3.call(t, "POST", "/v1/topups", acc[1].body, nil); st != 200 || m["status"] != "settled" {
		t.Fatalf("a new payment after a clean restart: %d %v", st, m)
	}
	s3.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-s3.err; err != nil || !strings.Contains(s3.out.String(), "accepted          32 payments") || !strings.Contains(s3.out.String(), "invariants        OK") {
		t.Fatalf("third session exited %v:\n%s", err, s3.out)
	}
}

// TestServeMetrics: serve --metrics-addr (used by the README and compose)
// exists and counts HTTP payment requests by status code.
func TestServeMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs serve")
	}
	s := startServe(t, "--metrics-addr", "127.0.0.1:0")
	defer s.cmd.Process.Kill()
	m := regexp.MustCompile(`metrics: serving (\S+)`).FindStringSubmatch(s.stderr.String())
	if m == nil {
		t.Fatalf("no metrics address in stderr:\n%s", s.stderr)
	}
	st, w := s.call(t, "GET", "/v1/wallets/1", "", nil)
	if st != 200 {
		t.Fatalf("GET wallet: %d %v", st, w)
	}
	body := fmt.Sprintf(`{"wallet_id":1,"amount":100,"currency":"%s"}`, w["currency"])
	if st, r := s.call(t, "POST", "/v1/topups", body, nil); st != 200 {
		t.Fatalf("POST topup: %d %v", st, r)
	}
	s.call(t, "POST", "/v1/topups", `{"wallet_id":1}`, nil) // 422
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`walletsim_http_requests_total{code="200"} 1`, `walletsim_http_requests_total{code="422"} 1`, `walletsim_http_request_duration_seconds_count 2`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(string(b), "http_"))
		}
	}
}
