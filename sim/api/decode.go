package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/walletsim/walletsim/sim"
)

// Endpoint is one of the POST endpoints that start a payment.
type Endpoint uint8

// Endpoints.
const (
	EndpointNone      Endpoint = iota
	EndpointPayments           // POST /v1/payments: a scan payment (MPM or CPM)
	EndpointTransfers          // POST /v1/transfers: P2P, red packet, cross-provider
	EndpointTransit            // POST /v1/transit/fares
	EndpointTopups             // POST /v1/topups
	NumEndpoints
)

var endpointPaths = [NumEndpoints]string{"", "/v1/payments", "/v1/transfers", "/v1/transit/fares", "/v1/topups"}

// Path is the endpoint's URL path.
func (e Endpoint) Path() string {
	if e < NumEndpoints {
		return endpointPaths[e]
	}
	return ""
}

// MaxAmount bounds an amount in minor units: the engine's own bound
// (event.Command.Validate), so nothing the API accepts is dead-lettered.
const MaxAmount = 1 << 48

// MaxBody is the default cap on a request body. The largest valid body is
// under 300 bytes; 16 KiB leaves room for whitespace and nothing else.
const MaxBody = 16 << 10

// PaymentRequest is the body of POST /v1/payments. Amounts are integers in
// minor units (fen, cents), never decimals: money is never a float.
type PaymentRequest struct {
	WalletID   uint64 `json:"wallet_id"`
	MerchantID uint64 `json:"merchant_id"`
	Amount     int64  `json:"amount"`
	Currency   string `json:"currency"`
	// Mode is "mpm" (the consumer scans the merchant's code, the default)
	// or "cpm" (the merchant scans the consumer's code).
	Mode string `json:"mode,omitempty"`
}

// TransferRequest is the body of POST /v1/transfers.
type TransferRequest struct {
	FromWalletID uint64 `json:"from_wallet_id"`
	ToWalletID   uint64 `json:"to_wallet_id"`
	Amount       int64  `json:"amount"`
	// Currency is what the payee receives: the payee wallet's currency.
	Currency string `json:"currency"`
	// Kind is "p2p" (default), "red_packet" or "cross_transfer".
	Kind string `json:"kind,omitempty"`
}

// FareRequest is the body of POST /v1/transit/fares.
type FareRequest struct {
	WalletID uint64 `json:"wallet_id"`
	Operator string `json:"operator"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// TopupRequest is the body of POST /v1/topups.
type TopupRequest struct {
	WalletID uint64 `json:"wallet_id"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Request is any decoded POST body, in the engine's vocabulary. Nothing
// here has been checked against the population yet (wallets, merchants).
type Request struct {
	Endpoint     Endpoint
	Kind         sim.Kind
	Wallet       uint64 // the payer (the wallet topped up)
	Counterparty uint64 // merchant, payee wallet or operator
	Amount       int64
	Currency     sim.Currency
}

// Decode parses and checks a POST body for an endpoint: well-formed JSON,
// one object, no unknown field, required fields present, amount and
// currency valid. It never panics, whatever the bytes (FuzzDecode).
func Decode(ep Endpoint, body []byte) (Request, *Error) {
	r := Request{Endpoint: ep}
	var cur string
	switch ep {
	case EndpointPayments:
		var p PaymentRequest
		if err := strict(body, &p); err != nil {
			return r, err
		}
		switch p.Mode {
		case "", "mpm":
			r.Kind = sim.ScanMPM
		case "cpm":
			r.Kind = sim.ScanCPM
		default:
			return r, errf(http.StatusUnprocessableEntity, CodeInvalidKind, fmt.Sprintf("mode %q: want mpm or cpm", clip(p.Mode)))
		}
		if p.WalletID == 0 || p.MerchantID == 0 {
			return r, missing("wallet_id and merchant_id")
		}
		r.Wallet, r.Counterparty, r.Amount, cur = p.WalletID, p.MerchantID, p.Amount, p.Currency
	case EndpointTransfers:
		var t TransferRequest
		if err := strict(body, &t); err != nil {
			return r, err
		}
		switch t.Kind {
		case "", "p2p":
			r.Kind = sim.P2P
		case "red_packet":
			r.Kind = sim.RedPacket
		case "cross_transfer":
			r.Kind = sim.CrossTransfer
		default:
			return r, errf(http.StatusUnprocessableEntity, CodeInvalidKind, fmt.Sprintf("kind %q: want p2p, red_packet or cross_transfer", clip(t.Kind)))
		}
		if t.FromWalletID == 0 || t.ToWalletID == 0 {
			return r, missing("from_wallet_id and to_wallet_id")
		}
		if t.FromWalletID == t.ToWalletID {
			return r, errf(http.StatusUnprocessableEntity, CodeSameWallet, "from_wallet_id and to_wallet_id are the same wallet")
		}
		r.Wallet, r.Counterparty, r.Amount, cur = t.FromWalletID, t.ToWalletID, t.Amount, t.Currency
	case EndpointTransit:
		var f FareRequest
		if err := strict(body, &f); err != nil {
			return r, err
		}
		if f.WalletID == 0 || f.Operator == "" {
			return r, missing("wallet_id and operator")
		}
		o, err := sim.ParseOperator(f.Operator)
		if err != nil {
			return r, errf(http.StatusUnprocessableEntity, CodeOperatorUnknown, fmt.Sprintf("operator %q is not a transit operator", clip(f.Operator)))
		}
		r.Kind, r.Wallet, r.Counterparty, r.Amount, cur = sim.Transit, f.WalletID, uint64(o), f.Amount, f.Currency
	case EndpointTopups:
		var t TopupRequest
		if err := strict(body, &t); err != nil {
			return r, err
		}
		if t.WalletID == 0 {
			return r, missing("wallet_id")
		}
		r.Kind, r.Wallet, r.Amount, cur = sim.TopUp, t.WalletID, t.Amount, t.Currency
	default:
		return r, errf(http.StatusNotFound, CodeNotFound, "no such endpoint")
	}
	if r.Amount <= 0 || r.Amount > MaxAmount {
		return r, errf(http.StatusUnprocessableEntity, CodeInvalidAmount, fmt.Sprintf("amount %d: want a positive integer of minor units up to %d", r.Amount, int64(MaxAmount)))
	}
	if cur == "" {
		return r, missing("currency")
	}
	c, err := sim.ParseCurrency(cur)
	if err != nil || cur != c.String() {
		return r, errf(http.StatusUnprocessableEntity, CodeInvalidCurrency, fmt.Sprintf("currency %q: want CNY, HKD, MOP or USD", clip(cur)))
	}
	r.Currency = c
	return r, nil
}

// strict decodes exactly one JSON object into v, refusing unknown fields
// and trailing data: a typo in a field name is an error, not a default.
func strict(body []byte, v any) *Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errf(http.StatusBadRequest, CodeMalformedJSON, "trailing data after the JSON object")
	}
	return nil
}

func jsonError(err error) *Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return errf(http.StatusBadRequest, CodeMalformedJSON, "want a JSON object, got "+te.Value)
		}
		if te.Field == "amount" {
			return errf(http.StatusUnprocessableEntity, CodeInvalidAmount, "amount: want an integer of minor units (fen, cents), not "+te.Value)
		}
		return errf(http.StatusBadRequest, CodeMalformedJSON, fmt.Sprintf("field %s: want %s, got %s", clip(te.Field), te.Type, te.Value))
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return errf(http.StatusBadRequest, CodeUnknownField, "unknown field "+clip(strings.TrimPrefix(msg, "json: unknown field ")))
	}
	if errors.Is(err, io.EOF) {
		return errf(http.StatusBadRequest, CodeMalformedJSON, "empty body: want a JSON object")
	}
	return errf(http.StatusBadRequest, CodeMalformedJSON, "not a JSON object: "+clip(err.Error()))
}

func missing(fields string) *Error {
	return errf(http.StatusBadRequest, CodeMissingField, fields+" required")
}

// clip bounds what a client sent before it is echoed in a message.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
