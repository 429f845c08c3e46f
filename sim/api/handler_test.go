package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
)

// fixtures picks wallets and merchants of the test population.
type fixtures struct {
	cn, cn2, hk uint64 // wallets: two mainland, one Hong Kong
	cnMerchant  uint64
}

func pick(t *testing.T) fixtures {
	t.Helper()
	pop := testAPI.Population()
	var f fixtures
	for i, w := range pop.Wallets {
		id := uint64(i + 1)
		switch {
		case w.Region == sim.CN && w.Provider == sim.Alipay && f.cn == 0:
			f.cn = id
		case w.Region == sim.CN && w.Provider == sim.Alipay && f.cn2 == 0:
			f.cn2 = id
		case w.Region == sim.HK && f.hk == 0:
			f.hk = id
		}
	}
	for i, m := range pop.Merchants {
		if m.Region == sim.CN && f.cnMerchant == 0 {
			f.cnMerchant = uint64(i + 1)
		}
	}
	if f.cn == 0 || f.cn2 == 0 || f.hk == 0 || f.cnMerchant == 0 {
		t.Fatalf("test population lacks a fixture: %+v", f)
	}
	return f
}

func js(format string, a ...any) []byte { return []byte(fmt.Sprintf(format, a...)) }

// TestInvalidRequests sends every invalid form the API must refuse and
// checks its status and code, then that none of them was accepted. The
// answers are kept as a golden file so a changed message shows in review.
func TestInvalidRequests(t *testing.T) {
	needServer(t)
	f := pick(t)
	big := append(append([]byte(`{"wallet_id":1,"amount":100,"currency":"CNY","pad":"`), bytes.Repeat([]byte("x"), 2<<20)...), `"}`...)
	// The reused key first gets a valid request of its own.
	st, _, raw := call(t, "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":100,"currency":"CNY"}`, f.cn), map[string]string{"Idempotency-Key": "reused-key-1"})
	if st != http.StatusOK {
		t.Fatalf("first use of the key: %d %s", st, raw)
	}
	accepted := testAPI.Accepted()
	cases := []struct {
		name   string
		method string
		path   string
		body   []byte
		hdr    map[string]string
		status int
		code   string
	}{
		{"malformed JSON", "POST", "/v1/payments", []byte(`{"wallet_id":1,`), nil, 400, CodeMalformedJSON},
		{"not an object", "POST", "/v1/payments", []byte(`[1,2]`), nil, 400, CodeMalformedJSON},
		{"empty body", "POST", "/v1/topups", []byte(``), nil, 400, CodeMalformedJSON},
		{"trailing data", "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":1,"currency":"CNY"} {}`, f.cn), nil, 400, CodeMalformedJSON},
		{"unknown field", "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":1,"currency":"CNY","tip":1}`, f.cn), nil, 400, CodeUnknownField},
		{"missing currency", "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":1}`, f.cn), nil, 400, CodeMissingField},
		{"missing wallet", "POST", "/v1/payments", js(`{"merchant_id":%d,"amount":1,"currency":"CNY"}`, f.cnMerchant), nil, 400, CodeMissingField},
		{"string wallet id", "POST", "/v1/topups", []byte(`{"wallet_id":"1","amount":1,"currency":"CNY"}`), nil, 400, CodeMalformedJSON},
		{"negative amount", "POST", "/v1/payments", js(`{"wallet_id":%d,"merchant_id":%d,"amount":-100,"currency":"CNY"}`, f.cn, f.cnMerchant), nil, 422, CodeInvalidAmount},
		{"zero amount", "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":0,"currency":"CNY"}`, f.cn), nil, 422, CodeInvalidAmount},
		{"decimal amount", "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":12.5,"currency":"CNY"}`, f.cn), nil, 422, CodeInvalidAmount},
		{"huge amount", "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":281474976710657,"currency":"CNY"}`, f.cn), nil, 422, CodeInvalidAmount},
		{"amount past int64", "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":99999999999999999999,"currency":"CNY"}`, f.cn), nil, 422, CodeInvalidAmount},
		{"unknown currency", "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":100,"currency":"EUR"}`, f.cn), nil, 422, CodeInvalidCurrency},
		{"lowercase currency", "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":100,"currency":"cny"}`, f.cn), nil, 422, CodeInvalidCurrency},
		{"wrong currency", "POST", "/v1/payments", js(`{"wallet_id":%d,"merchant_id":%d,"amount":100,"currency":"HKD"}`, f.cn, f.cnMerchant), nil, 422, CodeCurrencyMismatch},
		{"wrong fare currency", "POST", "/v1/transit/fares", js(`{"wallet_id":%d,"operator":"mtr","amount":100,"currency":"CNY"}`, f.hk), nil, 422, CodeCurrencyMismatch},
		{"unknown wallet", "POST", "/v1/payments", js(`{"wallet_id":99999999,"merchant_id":%d,"amount":100,"currency":"CNY"}`, f.cnMerchant), nil, 422, CodeWalletUnknown},
		{"unknown payee", "POST", "/v1/transfers", js(`{"from_wallet_id":%d,"to_wallet_id":99999999,"amount":100,"currency":"CNY"}`, f.cn), nil, 422, CodeWalletUnknown},
		{"unknown merchant", "POST", "/v1/payments", js(`{"wallet_id":%d,"merchant_id":99999999,"amount":100,"currency":"CNY"}`, f.cn), nil, 422, CodeMerchantUnknown},
		{"unknown operator", "POST", "/v1/transit/fares", js(`{"wallet_id":%d,"operator":"tube","amount":100,"currency":"HKD"}`, f.hk), nil, 422, CodeOperatorUnknown},
		{"bad mode", "POST", "/v1/payments", js(`{"wallet_id":%d,"merchant_id":%d,"amount":100,"currency":"CNY","mode":"nfc"}`, f.cn, f.cnMerchant), nil, 422, CodeInvalidKind},
		{"bad transfer kind", "POST", "/v1/transfers", js(`{"from_wallet_id":%d,"to_wallet_id":%d,"amount":100,"currency":"CNY","kind":"gift"}`, f.cn, f.cn2), nil, 422, CodeInvalidKind},
		{"transfer to itself", "POST", "/v1/transfers", js(`{"from_wallet_id":%d,"to_wallet_id":%d,"amount":100,"currency":"CNY"}`, f.cn, f.cn), nil, 422, CodeSameWallet},
		{"2 MB body", "POST", "/v1/topups", big, nil, 413, CodeBodyTooLarge},
		{"reused idempotency key, other body", "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":200,"currency":"CNY"}`, f.cn), map[string]string{"Idempotency-Key": "reused-key-1"}, 409, CodeIdempotencyReused},
		{"reused idempotency key, other endpoint", "POST", "/v1/payments", js(`{"wallet_id":%d,"merchant_id":%d,"amount":100,"currency":"CNY"}`, f.cn, f.cnMerchant), map[string]string{"Idempotency-Key": "reused-key-1"}, 409, CodeIdempotencyReused},
		{"idempotency key too long", "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":1,"currency":"CNY"}`, f.cn), map[string]string{"Idempotency-Key": strings.Repeat("k", 300)}, 400, CodeIdempotencyBadKey},
		{"form body", "POST", "/v1/topups", []byte(`wallet_id=1`), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, CodeUnsupportedMedia},
		{"GET on a POST endpoint", "GET", "/v1/payments", nil, nil, 405, CodeMethodNotAllowed},
		{"DELETE a wallet", "DELETE", "/v1/wallets/1", nil, nil, 405, CodeMethodNotAllowed},
		{"no such path", "GET", "/v2/payments", nil, nil, 404, CodeNotFound},
		{"unknown wallet GET", "GET", "/v1/wallets/99999999", nil, nil, 404, CodeWalletNotFound},
		{"non-numeric wallet GET", "GET", "/v1/wallets/abc", nil, nil, 404, CodeWalletNotFound},
		{"unknown payment GET", "GET", "/v1/payments/12345", nil, nil, 404, CodePaymentNotFound},
	}
	var golden bytes.Buffer
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, m, raw := call(t, c.method, c.path, c.body, c.hdr)
			if st != c.status || m["code"] != c.code {
				t.Fatalf("got %d %s, want %d %s", st, raw, c.status, c.code)
			}
			if msg, _ := m["message"].(string); msg == "" || len(m) != 2 {
				t.Errorf("error body %s: want exactly code and a message", raw)
			}
			fmt.Fprintf(&golden, "%s: %d %s", c.name, st, raw)
		})
	}
	if got := testAPI.Accepted(); got != accepted {
		t.Errorf("invalid requests were accepted: %d payments before, %d after", accepted, got)
	}
	checkGolden(t, "invalid.txt", scrubIDs(golden.Bytes(), f))
}

// scrubIDs replaces the fixture IDs, which depend on the population, so
// the golden file survives a change of scenario.
func scrubIDs(b []byte, f fixtures) []byte {
	s := string(b)
	for _, r := range []struct {
		id   uint64
		name string
	}{{f.cn, "CN1"}, {f.cn2, "CN2"}, {f.hk, "HK1"}, {f.cnMerchant, "M1"}} {
		s = strings.ReplaceAll(s, "wallet "+strconv.FormatUint(r.id, 10)+" ", "wallet <"+r.name+"> ")
	}
	return []byte(s)
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the answers (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", p, got, want)
	}
}

// TestPayments settles one request of each endpoint and checks that the
// balance the answer reports is the one GET /v1/wallets shows.
func TestPayments(t *testing.T) {
	needServer(t)
	f := pick(t)
	_, before, _ := call(t, "GET", fmt.Sprintf("/v1/wallets/%d", f.cn2), nil, nil)
	bal := int64(before["balance"].(float64))
	st, m, raw := call(t, "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":12345,"currency":"CNY"}`, f.cn2), nil)
	if st != 200 || m["status"] != "settled" || int64(m["balance_after"].(float64)) != bal+12345 {
		t.Fatalf("top-up: %d %s (balance before %d)", st, raw, bal)
	}
	_, after, _ := call(t, "GET", fmt.Sprintf("/v1/wallets/%d", f.cn2), nil, nil)
	if int64(after["balance"].(float64)) != bal+12345 {
		t.Errorf("GET wallet after a top-up of 12345 on %d: %v", bal, after["balance"])
	}
	cases := []struct {
		name, path string
		body       []byte
	}{
		{"scan", "/v1/payments", js(`{"wallet_id":%d,"merchant_id":%d,"amount":100,"currency":"CNY"}`, f.cn2, f.cnMerchant)},
		{"scan cpm", "/v1/payments", js(`{"wallet_id":%d,"merchant_id":%d,"amount":100,"currency":"CNY","mode":"cpm"}`, f.cn2, f.cnMerchant)},
		{"transfer", "/v1/transfers", js(`{"from_wallet_id":%d,"to_wallet_id":%d,"amount":100,"currency":"CNY"}`, f.cn2, f.cn)},
		{"red packet", "/v1/transfers", js(`{"from_wallet_id":%d,"to_wallet_id":%d,"amount":100,"currency":"CNY","kind":"red_packet"}`, f.cn2, f.cn)},
		{"fare", "/v1/transit/fares", js(`{"wallet_id":%d,"operator":"mtr","amount":1100,"currency":"HKD"}`, f.hk)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, m, raw := call(t, "POST", c.path, c.body, nil)
			switch {
			case st == 200 && m["status"] == "settled":
			case (st == 402 || st == 403 || st == 422) && m["status"] == "declined" && m["code"] != "":
			default:
				t.Fatalf("%d %s: want settled or a decline with a code", st, raw)
			}
			id, _ := m["payment_id"].(string)
			st2, m2, raw2 := call(t, "GET", "/v1/payments/"+id, nil, nil)
			if st2 != 200 || m2["status"] != m["status"] || m2["code"] != m["code"] {
				t.Errorf("GET /v1/payments/%s: %d %s, POST said %s", id, st2, raw2, raw)
			}
		})
	}
}

// TestDeclines checks the status a decline reason maps to, through the
// engine: an amount no wallet holds is declined for want of funds.
func TestDeclines(t *testing.T) {
	needServer(t)
	f := pick(t)
	st, m, raw := call(t, "POST", "/v1/transfers", js(`{"from_wallet_id":%d,"to_wallet_id":%d,"amount":100000000000,"currency":"CNY"}`, f.cn, f.cn2), nil)
	if st/100 != 4 || m["status"] != "declined" || DeclineStatus(mustReason(t, m["code"])) != st {
		t.Fatalf("transfer beyond every balance: %d %s", st, raw)
	}
	for _, c := range []struct {
		r    sim.Reason
		want int
	}{
		{sim.InsufficientFunds, 402}, {sim.LimitExceeded, 403}, {sim.RouteLimitExceeded, 403}, {sim.BalanceCapExceeded, 403},
		{sim.RouteUnavailable, 422}, {sim.NoAcceptedWallet, 422}, {sim.FXUnavailable, 422}, {sim.WalletUnknown, 422},
		{sim.CurrencyMismatch, 422}, {sim.InvalidAmount, 422},
	} {
		if got := DeclineStatus(c.r); got != c.want {
			t.Errorf("DeclineStatus(%s) = %d, want %d", c.r, got, c.want)
		}
		if DeclineMessage(c.r) == "declined" {
			t.Errorf("%s has no message", c.r)
		}
	}
}

func mustReason(t *testing.T, code any) sim.Reason {
	s, _ := code.(string)
	r, err := sim.ParseReason(s)
	if err != nil {
		t.Fatalf("decline code %q: %v", s, err)
	}
	return r
}

// TestIdempotency: the same key and body get the same payment and the
// same answer, whether the first request waited or not.
func TestIdempotency(t *testing.T) {
	needServer(t)
	f := pick(t)
	body := js(`{"wallet_id":%d,"merchant_id":%d,"amount":321,"currency":"CNY"}`, f.cn, f.cnMerchant)
	key := map[string]string{"Idempotency-Key": "same-key-same-body"}
	accepted := testAPI.Accepted()
	st1, _, raw1 := call(t, "POST", "/v1/payments", body, key)
	st2, _, raw2 := call(t, "POST", "/v1/payments", body, key)
	// The same request, spelled differently, is the same request.
	spaced := js(`{ "currency":"CNY", "amount":321, "merchant_id":%d, "wallet_id":%d }`, f.cnMerchant, f.cn)
	st3, _, raw3 := call(t, "POST", "/v1/payments", spaced, key)
	if st1 != st2 || !bytes.Equal(raw1, raw2) || st3 != st1 || !bytes.Equal(raw3, raw1) {
		t.Fatalf("same key, same request, different answers:\n%d %s\n%d %s\n%d %s", st1, raw1, st2, raw2, st3, raw3)
	}
	if got := testAPI.Accepted() - accepted; got != 1 {
		t.Errorf("three requests with one key accepted %d payments, want 1", got)
	}
}

// TestAsync: Prefer: respond-async answers 202 at once with the payment
// ID; the outcome follows at /v1/payments/{id}.
func TestAsync(t *testing.T) {
	needServer(t)
	f := pick(t)
	st, m, raw := call(t, "POST", "/v1/topups", js(`{"wallet_id":%d,"amount":500,"currency":"CNY"}`, f.cn), map[string]string{"Prefer": "respond-async"})
	if st != 202 || m["status"] != "pending" || m["payment_id"] == "" {
		t.Fatalf("async: %d %s", st, raw)
	}
	id := m["payment_id"].(string)
	// Poll until the engine resolves it; the sync answer is the same.
	for i := 0; ; i++ {
		st, m, raw = call(t, "GET", "/v1/payments/"+id, nil, nil)
		if st != 200 {
			t.Fatalf("GET %s: %d %s", id, st, raw)
		}
		if m["status"] != "pending" {
			break
		}
		if i > 10000 {
			t.Fatalf("payment %s still pending", id)
		}
	}
	if m["status"] != "settled" {
		t.Errorf("top-up of 5.00: %s", raw)
	}
}

// TestAuth: with a token, /v1 needs it and probes do not.
func TestAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own server")
	}
	srv, hs := startTestServer(t, func(c *Config) { c.Token = "s3cret-token" })
	defer func() {
		hs.Close()
		if _, err := srv.Close(t.Context()); err != nil {
			t.Error(err)
		}
	}()
	get := func(path, auth string) int {
		req, _ := http.NewRequest("GET", hs.URL+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		path, auth string
		want       int
	}{
		{"/v1/wallets/1", "", 401},
		{"/v1/wallets/1", "Bearer wrong", 401},
		{"/v1/wallets/1", "s3cret-token", 401},
		{"/v1/wallets/1", "Bearer s3cret-token", 200},
		{"/healthz", "", 200},
		{"/readyz", "", 200},
		{"/openapi.json", "", 200},
	} {
		if got := get(c.path, c.auth); got != c.want {
			t.Errorf("GET %s with %q: %d, want %d", c.path, c.auth, got, c.want)
		}
	}
}

// TestHealth: liveness and readiness answer as documented.
func TestHealth(t *testing.T) {
	needServer(t)
	for _, p := range []string{"/healthz", "/readyz"} {
		st, m, raw := call(t, "GET", p, nil, nil)
		if st != 200 || m["status"] == "" {
			t.Errorf("%s: %d %s", p, st, raw)
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(OpenAPI, &doc); err != nil || doc["openapi"] != "3.0.3" {
		t.Fatalf("openapi.json: %v", err)
	}
}

// TestRetention: finished outcomes and idempotency keys are kept in two
// generations, so the newest are always found and memory stays bounded.
func TestRetention(t *testing.T) {
	tr := newTracker(shards * 2) // two per shard and generation
	var ids []uint64
	for i := uint64(1); i <= shards*10; i++ {
		id := IDBase + i
		tr.register(Outcome{ID: id})
		tr.observe(&event.Event{Type: event.ToppedUp, Command: id, Wallet: 1})
		ids = append(ids, id)
	}
	if tr.outstanding.Load() != 0 {
		t.Errorf("outstanding %d after every outcome", tr.outstanding.Load())
	}
	found := 0
	for _, id := range ids {
		if o, _, ok := tr.lookup(id); ok && o.Status == StatusSettled {
			found++
		}
	}
	if found < shards*2 || found > shards*4 {
		t.Errorf("kept %d outcomes, want between %d and %d", found, shards*2, shards*4)
	}
	if _, _, ok := tr.lookup(ids[len(ids)-1]); !ok {
		t.Error("the newest outcome was dropped")
	}
	st := newIdemStore(shards)
	sh := st.shard(idemHash("k"))
	for i := 0; i < 5; i++ {
		sh.put(idemHash(strconv.Itoa(i)), idemEntry{id: uint64(i)}, st.perGen)
	}
	if _, ok := sh.get(idemHash("4")); !ok {
		t.Error("the newest key was dropped")
	}
	if _, ok := sh.get(idemHash("0")); ok {
		t.Error("an old key outlived two generations")
	}
}
