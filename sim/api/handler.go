package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
)

// OpenAPI is the API's contract (OpenAPI 3.0), served at /openapi.json.
//
//go:embed openapi.json
var OpenAPI []byte

// PaymentResponse is the answer about one payment: the outcome of POST in
// sync mode, GET /v1/payments/{id}, and (status pending) the 202 answer.
// A decline carries code and message, like every error body.
type PaymentResponse struct {
	PaymentID    string `json:"payment_id"`
	Status       string `json:"status"`
	Kind         string `json:"kind"`
	Amount       int64  `json:"amount"`
	Currency     string `json:"currency"`
	WalletID     uint64 `json:"wallet_id,omitempty"`
	ToWalletID   uint64 `json:"to_wallet_id,omitempty"`
	BalanceAfter *int64 `json:"balance_after,omitempty"`
	Attempts     uint8  `json:"attempts,omitempty"`
	Code         string `json:"code,omitempty"`
	Message      string `json:"message,omitempty"`
}

// WalletResponse is GET /v1/wallets/{id}.
type WalletResponse struct {
	WalletID uint64 `json:"wallet_id"`
	Provider string `json:"provider"`
	Region   string `json:"region"`
	Class    string `json:"class"`
	Currency string `json:"currency"`
	Balance  int64  `json:"balance"`
}

// Handler is the API's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for ep := EndpointPayments; ep < NumEndpoints; ep++ {
		mux.HandleFunc("POST "+ep.Path(), func(w http.ResponseWriter, r *http.Request) { s.post(w, r, ep) })
		mux.HandleFunc(ep.Path(), methodNotAllowed("POST"))
	}
	mux.HandleFunc("GET /v1/wallets/{id}", s.getWallet)
	mux.HandleFunc("/v1/wallets/{id}", methodNotAllowed("GET"))
	mux.HandleFunc("GET /v1/payments/{id}", s.getPayment)
	mux.HandleFunc("/v1/payments/{id}", methodNotAllowed("GET"))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(OpenAPI)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, errf(http.StatusNotFound, CodeNotFound, "no such endpoint"))
	})
	return s.auth(mux)
}

// auth checks the bearer token on /v1; health, readiness and the contract
// stay open so that probes and tools need no secret. The token is compared
// in constant time and never logged.
func (s *Server) auth(next http.Handler) http.Handler {
	if s.cfg.Token == "" {
		return next
	}
	want := []byte("Bearer " + s.cfg.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="walletsim"`)
			writeError(w, errf(http.StatusUnauthorized, CodeUnauthorized, "missing or wrong bearer token"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, errf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" not allowed; use "+allow))
	}
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if err := s.unavailable(); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// unavailable says why the server cannot take payments now, if it cannot.
func (s *Server) unavailable() *Error {
	if s.drain.Load() {
		return errf(http.StatusServiceUnavailable, CodeShuttingDown, "the server is shutting down")
	}
	select {
	case <-s.done:
		return errf(http.StatusServiceUnavailable, CodeShuttingDown, "the engine has stopped")
	case <-s.ready:
		return nil
	default:
		return errf(http.StatusServiceUnavailable, CodeNotReady, "wallets are still being opened")
	}
}

// maxKey bounds an Idempotency-Key (the IETF draft suggests UUIDs; 255
// leaves room for any client scheme).
const maxKey = 255

func (s *Server) post(w http.ResponseWriter, r *http.Request, ep Endpoint) {
	if err := s.unavailable(); err != nil {
		writeError(w, err)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			writeError(w, errf(http.StatusUnsupportedMediaType, CodeUnsupportedMedia, "Content-Type must be application/json"))
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, errf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "body larger than "+strconv.FormatInt(s.cfg.MaxBody, 10)+" bytes"))
			return
		}
		writeError(w, errf(http.StatusBadRequest, CodeMalformedJSON, "reading the body failed"))
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxKey || !printable(key) {
		writeError(w, errf(http.StatusBadRequest, CodeIdempotencyBadKey, "Idempotency-Key: want 1-255 printable ASCII characters"))
		return
	}
	req, apiErr := Decode(ep, body)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	cmd, apiErr := s.command(req)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	id, apiErr := s.accept(key, req, &cmd)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	if s.async(r) {
		if o, _, _ := s.tr.lookup(id); o.Status != StatusPending {
			s.respondPending(w, id) // an idempotent replay: the outcome
			return
		}
		// 202 promises the payment is accepted: it must be in the log,
		// so that it survives a crash of this server. The answer is the
		// payment as accepted (pending), whatever happened meanwhile.
		if err := s.src.waitDurable(r.Context(), id); err != nil {
			writeError(w, err)
			return
		}
		s.respondAccepted(w, id)
		return
	}
	s.respondOutcome(w, r.Context(), id)
}

func (s *Server) async(r *http.Request) bool {
	switch p := r.Header.Get("Prefer"); {
	case strings.Contains(p, "respond-async"):
		return true
	case strings.Contains(p, "respond-sync"):
		return false
	}
	return s.cfg.Async
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// command checks a request against the population and builds the
// engine's command, candidates included (the consumer's other wallets,
// which the engine falls back to as the generator's payments do).
func (s *Server) command(r Request) (event.Command, *Error) {
	c := event.Command{Type: event.CmdPay, Kind: r.Kind, Amount: r.Amount, Currency: r.Currency}
	payer, ok := s.pop.Wallet(r.Wallet)
	if !ok {
		return c, errf(http.StatusUnprocessableEntity, CodeWalletUnknown, "wallet "+strconv.FormatUint(r.Wallet, 10)+" does not exist")
	}
	var want sim.Currency
	switch r.Kind {
	case sim.ScanMPM, sim.ScanCPM:
		m, ok := s.pop.Merchant(r.Counterparty)
		if !ok {
			return c, errf(http.StatusUnprocessableEntity, CodeMerchantUnknown, "merchant "+strconv.FormatUint(r.Counterparty, 10)+" does not exist")
		}
		c.Counterparty, c.AccRegion, c.Acceptors, c.Static = r.Counterparty, m.Region, m.Codes, m.Static
		if r.Kind == sim.ScanCPM {
			c.Acceptors, c.Static = m.Scanners, false
		}
		want = m.Region.Home()
	case sim.Transit:
		c.Counterparty, c.AccRegion, c.Acceptors = r.Counterparty, sim.HK, 1<<r.Counterparty
		want = sim.HKD
	case sim.P2P, sim.RedPacket, sim.CrossTransfer:
		payee, ok := s.pop.Wallet(r.Counterparty)
		if !ok {
			return c, errf(http.StatusUnprocessableEntity, CodeWalletUnknown, "wallet "+strconv.FormatUint(r.Counterparty, 10)+" does not exist")
		}
		c.Counterparty, c.AccRegion, c.Acceptors = r.Counterparty, payee.Region, 1<<payee.Provider
		if payee.Provider != payer.Provider {
			// As the generator: the payee holder's wallet of the payer's
			// app, where a receiver-app route (the 2022 pilot) credits.
			c.PayeeSibling = s.pop.SiblingOf(r.Counterparty, payer.Provider)
		}
		want = sim.WalletCurrency(payee.Provider, payee.Region)
	case sim.TopUp:
		c.AccRegion = payer.Region
		want = sim.WalletCurrency(payer.Provider, payer.Region)
	}
	if r.Currency != want {
		return c, errf(http.StatusUnprocessableEntity, CodeCurrencyMismatch, "currency "+r.Currency.String()+": want "+want.String()+", "+whose(r.Kind))
	}
	c.Wallet = r.Wallet
	c.Candidates[0], c.NCandidates = r.Wallet, 1
	if r.Kind != sim.TopUp {
		for _, h := range s.pop.Holdings[payer.Consumer] {
			if h == 0 || c.NCandidates >= event.MaxCandidates {
				break
			}
			if uint64(h) != r.Wallet {
				c.Candidates[c.NCandidates] = uint64(h)
				c.NCandidates++
			}
		}
	}
	return c, nil
}

// whose names where the wanted currency comes from.
func whose(k sim.Kind) string {
	switch k {
	case sim.Transit:
		return "the currency of Hong Kong transit fares"
	case sim.TopUp:
		return "the wallet's currency"
	case sim.P2P, sim.RedPacket, sim.CrossTransfer:
		return "the payee wallet's currency (what it receives)"
	}
	return "the merchant's currency (the price)"
}

// accept hands a command to the engine, once per idempotency key.
func (s *Server) accept(key string, req Request, cmd *event.Command) (uint64, *Error) {
	if key != "" {
		h := idemHash(key)
		cmd.Idem = h // in the log: a restarted server rebuilds its keys
		sh := s.idem.shard(h)
		sh.mu.Lock()
		defer sh.mu.Unlock()
		if e, ok := sh.get(h); ok {
			if e.req != req {
				return 0, errf(http.StatusConflict, CodeIdempotencyReused, "Idempotency-Key already used with another request")
			}
			if _, _, known := s.tr.lookup(e.id); known {
				return e.id, nil
			}
			// The payment has aged out of the outcomes kept (Retain): the
			// key has expired with it, and the request is a new payment.
		}
		id, apiErr := s.enqueue(req, cmd)
		if apiErr == nil {
			sh.put(h, idemEntry{req: req, id: id}, s.idem.perGen)
		}
		return id, apiErr
	}
	return s.enqueue(req, cmd)
}

func (s *Server) enqueue(req Request, cmd *event.Command) (uint64, *Error) {
	if s.tr.outstanding.Load() >= s.cfg.MaxInFlight {
		return 0, errf(http.StatusServiceUnavailable, CodeOverloaded, "too many payments in flight; retry later")
	}
	o := Outcome{Kind: req.Kind, Amount: req.Amount, Currency: req.Currency, Payer: req.Wallet}
	if req.Kind.IsTransfer() {
		o.Payee = req.Counterparty
	}
	id, ok := s.src.add(*cmd, func(id uint64) {
		o.ID = id
		s.tr.register(o)
	})
	if !ok {
		return 0, errf(http.StatusServiceUnavailable, CodeShuttingDown, "the server is shutting down")
	}
	s.accepted.Add(1)
	return id, nil
}

func (s *Server) respondPending(w http.ResponseWriter, id uint64) {
	o, _, _ := s.tr.lookup(id)
	resp := paymentResponse(o)
	w.Header().Set("Location", "/v1/payments/"+resp.PaymentID)
	if o.Status != StatusPending {
		// An idempotent replay of a finished payment: its outcome.
		writeJSON(w, outcomeStatus(o), resp)
		return
	}
	writeJSON(w, http.StatusAccepted, resp)
}

// respondAccepted is the 202 for a payment just accepted and written.
func (s *Server) respondAccepted(w http.ResponseWriter, id uint64) {
	o, _, _ := s.tr.lookup(id)
	o.Status = StatusPending
	resp := paymentResponse(o)
	w.Header().Set("Location", "/v1/payments/"+resp.PaymentID)
	writeJSON(w, http.StatusAccepted, resp)
}

var timerPool = sync.Pool{New: func() any { t := time.NewTimer(time.Hour); t.Stop(); return t }}

func (s *Server) respondOutcome(w http.ResponseWriter, ctx context.Context, id uint64) {
	o, f, _ := s.tr.lookup(id)
	if f != nil {
		t := timerPool.Get().(*time.Timer)
		t.Reset(s.cfg.SyncTimeout)
		select {
		case <-f.done:
			o = s.tr.result(id)
		case <-t.C:
			// Accepted and not lost: the client polls /v1/payments/{id}.
			timerPool.Put(t)
			if err := s.src.waitDurable(ctx, id); err != nil {
				writeError(w, err)
				return
			}
			s.respondPending(w, id)
			return
		case <-ctx.Done():
			t.Stop()
			timerPool.Put(t)
			return
		}
		t.Stop()
		timerPool.Put(t)
	}
	writeJSON(w, outcomeStatus(o), paymentResponse(o))
}

func outcomeStatus(o Outcome) int {
	switch o.Status {
	case StatusSettled:
		return http.StatusOK
	case StatusDeclined:
		return DeclineStatus(o.Reason)
	}
	return http.StatusAccepted
}

func paymentResponse(o Outcome) PaymentResponse {
	r := PaymentResponse{
		PaymentID: strconv.FormatUint(o.ID, 10), Status: o.Status.String(), Kind: o.Kind.String(),
		Amount: o.Amount, Currency: o.Currency.String(), WalletID: o.Payer, ToWalletID: o.Payee,
	}
	if o.Status != StatusPending {
		b := o.BalanceAfter
		r.BalanceAfter, r.Attempts = &b, o.Attempts
	}
	if o.Status == StatusDeclined {
		r.Code, r.Message = o.Reason.String(), DeclineMessage(o.Reason)
	}
	return r
}

func (s *Server) getPayment(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	o, _, ok := s.tr.lookup(id)
	if err != nil || !ok {
		writeError(w, errf(http.StatusNotFound, CodePaymentNotFound, "no payment "+clip(r.PathValue("id"))))
		return
	}
	writeJSON(w, http.StatusOK, paymentResponse(o))
}

func (s *Server) getWallet(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	info, ok := s.pop.Wallet(id)
	if err != nil || !ok {
		writeError(w, errf(http.StatusNotFound, CodeWalletNotFound, "no wallet "+clip(r.PathValue("id"))))
		return
	}
	if err := s.unavailable(); err != nil && err.Code == CodeNotReady {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, WalletResponse{
		WalletID: id, Provider: info.Provider.String(), Region: info.Region.String(), Class: info.Class.String(),
		Currency: sim.WalletCurrency(info.Provider, info.Region).String(), Balance: s.bal[id].Load(),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"code":"internal","message":"encoding the answer failed"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, e *Error) { writeJSON(w, e.Status, e) }

// idemStore remembers which payment each Idempotency-Key started, and the
// request it carried, so a retry gets the same payment and a reuse for
// another request is refused. It keeps the most recent keys (at least
// Config.Retain of them) in two generations per shard, like the tracker.
type idemStore struct {
	sh     [shards]idemShard
	perGen int
}

type idemShard struct {
	mu     sync.Mutex
	m, old map[[16]byte]idemEntry
}

// idemHash is the key as the store and the log keep it: 128 bits of its
// SHA-256 (no key of 255 printable characters collides in practice, and
// the log never holds the key itself).
func idemHash(key string) [16]byte {
	sum := sha256.Sum256([]byte(key))
	var h [16]byte
	copy(h[:], sum[:16])
	return h
}

func (s *idemShard) get(key [16]byte) (idemEntry, bool) {
	if e, ok := s.m[key]; ok {
		return e, true
	}
	e, ok := s.old[key]
	return e, ok
}

func (s *idemShard) put(key [16]byte, e idemEntry, perGen int) {
	if len(s.m) >= perGen {
		s.old, s.m = s.m, make(map[[16]byte]idemEntry, perGen)
	}
	s.m[key] = e
}

type idemEntry struct {
	req Request
	id  uint64
}

func newIdemStore(retain int) *idemStore {
	s := &idemStore{perGen: max(retain/shards, 1)}
	for i := range s.sh {
		s.sh[i].m = map[[16]byte]idemEntry{}
	}
	return s
}

func (s *idemStore) shard(key [16]byte) *idemShard { return &s.sh[key[0]%shards] }
