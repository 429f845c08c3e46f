package api

import (
	"net/http"
	"testing"
)

// FuzzDecode feeds the request decoder arbitrary bodies for every
// endpoint: it must never panic, must answer a 4xx with a known code when
// it refuses, and what it accepts must be a request the engine can take.
// Seed corpus: testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"wallet_id":1,"merchant_id":1,"amount":1250,"currency":"CNY"}`,
		`{"wallet_id":1,"merchant_id":1,"amount":1250,"currency":"CNY","mode":"cpm"}`,
		`{"from_wallet_id":1,"to_wallet_id":2,"amount":5000,"currency":"CNY","kind":"red_packet"}`,
		`{"wallet_id":1,"operator":"mtr","amount":1100,"currency":"HKD"}`,
		`{"wallet_id":1,"amount":50000,"currency":"CNY"}`,
		`{"wallet_id":1,"amount":-1,"currency":"CNY"}`,
		`{"wallet_id":1,"amount":1e3,"currency":"CNY"}`,
		`{"wallet_id":1,`, `[]`, `null`, ``, `{"a":1}{"b":2}`,
	} {
		for ep := EndpointPayments; ep < NumEndpoints; ep++ {
			f.Add(uint8(ep), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, ep uint8, body []byte) {
		r, err := Decode(Endpoint(ep%uint8(NumEndpoints+1)), body)
		if err != nil {
			if err.Status < 400 || err.Status > 499 || err.Code == "" || err.Message == "" {
				t.Fatalf("refusal %+v: want a 4xx with a code and a message", err)
			}
			if err.Status != http.StatusNotFound && Endpoint(ep%uint8(NumEndpoints+1)) == EndpointNone {
				t.Fatalf("no endpoint, but %d", err.Status)
			}
			return
		}
		if r.Amount <= 0 || r.Amount > MaxAmount || !r.Currency.Valid() || r.Wallet == 0 || !r.Kind.IsPayment() {
			t.Fatalf("accepted an invalid request %+v from %q", r, body)
		}
		if r.Kind.IsTransfer() && (r.Counterparty == 0 || r.Counterparty == r.Wallet) {
			t.Fatalf("accepted a transfer without a distinct payee: %+v", r)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"wallet_id":123456,"merchant_id":789,"amount":1250,"currency":"CNY","mode":"cpm"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(EndpointPayments, body); err != nil {
			b.Fatal(err)
		}
	}
}
