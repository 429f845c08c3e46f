// Package ledgerd is a small payment API that is not walletsim's: its
// own JSON shape, its own account store and initial balances. Tests
// drive it with walletsim's traffic through a template to show that the
// end-state check works on any API, and that it catches an API that
// loses money (DropCreditEvery).
package ledgerd

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config shapes the API's behaviour, faults included.
type Config struct {
	// Initial is the balance an account opens with, by key prefix
	// ("wallet-": 500000); an account opens on first use.
	Initial map[string]int64
	// DropCreditEvery: every n-th booked transfer debits the payer and
	// never credits the payee (a lost credit). 0: never.
	DropCreditEvery int
	// Async: transfers answer 202 queued and are booked after the second
	// GET of their status.
	Async bool
	// Delay is added to every answer; FailAll answers 500 to transfers.
	Delay   time.Duration
	FailAll bool
	// LoseAnswerEvery: every n-th new transfer is booked (odd ones) or
	// not (even ones), and its answer held for LoseAnswerFor, past the
	// client's timeout: the client cannot know which happened.
	LoseAnswerEvery int
	LoseAnswerFor   time.Duration
}

// Drop is a credit the API lost on purpose.
type Drop struct {
	Account string
	Amount  int64
}

// API is the server's state.
type API struct {
	cfg       Config
	mu        sync.Mutex
	balances  map[string]int64
	transfers map[string]*transfer // by reference
	byID      map[string]*transfer
	quotes    map[string]quote
	booked    int
	drops     []Drop
	lost      int
}

// Lost counts the transfers whose answers were held back.
func (a *API) Lost() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lost
}

type transfer struct {
	id, state, problem string
	debtor, creditor   string
	amount             int64
	polls              int
}

type quote struct {
	debtor, creditor string
	amount           int64
}

// New makes an empty API.
func New(cfg Config) *API {
	return &API{cfg: cfg, balances: map[string]int64{}, transfers: map[string]*transfer{}, byID: map[string]*transfer{}, quotes: map[string]quote{}}
}

// Drops are the credits lost so far.
func (a *API) Drops() []Drop {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Drop(nil), a.drops...)
}

func (a *API) open(acct string) int64 {
	if b, ok := a.balances[acct]; ok {
		return b
	}
	var b int64
	for p, v := range a.cfg.Initial {
		if strings.HasPrefix(acct, p) {
			b = v
		}
	}
	a.balances[acct] = b
	return b
}

type party struct {
	Account string `json:"account"`
}

type value struct {
	MinorUnits int64  `json:"minor_units"`
	Ccy        string `json:"ccy"`
}

type transferReq struct {
	Debtor    party  `json:"debtor"`
	Creditor  party  `json:"creditor"`
	Value     value  `json:"value"`
	Reference string `json:"reference"`
	Quote     string `json:"quote"`
}

// Handler serves:
//
//	POST /api/v2/quotes      {"debtor":{...},"creditor":{...},"value":{...}} -> 200 {"quote":{"id":"q-1"}}
//	POST /api/v2/transfers   {"debtor":{"account":..},"creditor":{..},"value":{"minor_units":..,"ccy":..},"reference":..}
//	                         or {"quote":"q-1","reference":..}
//	                         -> 201 {"transfer":{"id":..,"state":"booked"}}, 409 {"problem":{"type":"insufficient_funds"}},
//	                            202 {"transfer":{"id":..,"state":"queued"}} (Async)
//	GET  /api/v2/transfers/{id} -> 200 {"transfer":{"id":..,"state":"queued|booked|rejected","problem":..}}
//	GET  /api/v2/accounts/{name} -> 200 {"account":{"name":..,"available":{"minor_units":..}}}
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/quotes", func(w http.ResponseWriter, r *http.Request) {
		var q transferReq
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil || q.Value.MinorUnits <= 0 {
			reply(w, 400, map[string]any{"problem": map[string]string{"type": "bad_request"}})
			return
		}
		a.mu.Lock()
		id := "q-" + strconv.Itoa(len(a.quotes)+1)
		a.quotes[id] = quote{q.Debtor.Account, q.Creditor.Account, q.Value.MinorUnits}
		a.mu.Unlock()
		reply(w, 200, map[string]any{"quote": map[string]any{"id": id, "value": map[string]any{"minor_units": q.Value.MinorUnits}}})
	})
	mux.HandleFunc("POST /api/v2/transfers", func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Delay > 0 {
			time.Sleep(a.cfg.Delay)
		}
		if a.cfg.FailAll {
			reply(w, 500, map[string]any{"problem": map[string]string{"type": "internal"}})
			return
		}
		var q transferReq
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil || q.Reference == "" {
			reply(w, 400, map[string]any{"problem": map[string]string{"type": "bad_request"}})
			return
		}
		a.mu.Lock()
		held := false
		defer func() {
			if !held {
				a.mu.Unlock()
			}
		}()
		if q.Quote != "" {
			qt, ok := a.quotes[q.Quote]
			if !ok {
				reply(w, 422, map[string]any{"problem": map[string]string{"type": "unknown_quote"}})
				return
			}
			q.Debtor.Account, q.Creditor.Account, q.Value.MinorUnits = qt.debtor, qt.creditor, qt.amount
		}
		if q.Value.MinorUnits <= 0 || q.Debtor.Account == "" || q.Creditor.Account == "" {
			reply(w, 422, map[string]any{"problem": map[string]string{"type": "invalid"}})
			return
		}
		if t, ok := a.transfers[q.Reference]; ok { // idempotent replay
			a.answer(w, t, true)
			return
		}
		t := &transfer{id: "t-" + strconv.Itoa(len(a.byID)+1), debtor: q.Debtor.Account, creditor: q.Creditor.Account, amount: q.Value.MinorUnits}
		a.transfers[q.Reference], a.byID[t.id] = t, t
		if n := a.cfg.LoseAnswerEvery; n > 0 && len(a.byID)%n == 0 {
			if (len(a.byID)/n)%2 == 1 {
				a.book(t)
			} else {
				t.state = "lost"
			}
			a.lost++
			held = true
			a.mu.Unlock()
			time.Sleep(a.cfg.LoseAnswerFor)
			reply(w, 504, map[string]any{"problem": map[string]string{"type": "timeout"}})
			return
		}
		if a.cfg.Async {
			t.state = "queued"
		} else {
			a.book(t)
		}
		a.answer(w, t, true)
	})
	mux.HandleFunc("GET /api/v2/transfers/{id}", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		t, ok := a.byID[r.PathValue("id")]
		if !ok {
			reply(w, 404, map[string]any{"problem": map[string]string{"type": "not_found"}})
			return
		}
		if t.state == "queued" {
			if t.polls++; t.polls >= 2 {
				a.book(t)
			}
		}
		a.answer(w, t, false)
	})
	mux.HandleFunc("GET /api/v2/accounts/{name}", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		n := r.PathValue("name")
		reply(w, 200, map[string]any{"account": map[string]any{"name": n, "available": map[string]any{"minor_units": a.open(n)}}})
	})
	return mux
}

// book applies a transfer (the lock held).
func (a *API) book(t *transfer) {
	external := strings.HasPrefix(t.debtor, "external-")
	if !external && a.open(t.debtor) < t.amount {
		t.state, t.problem = "rejected", "insufficient_funds"
		return
	}
	a.open(t.creditor)
	if !external {
		a.balances[t.debtor] -= t.amount
	}
	a.booked++
	if n := a.cfg.DropCreditEvery; n > 0 && a.booked%n == 0 {
		a.drops = append(a.drops, Drop{t.creditor, t.amount})
	} else {
		a.balances[t.creditor] += t.amount
	}
	t.state = "booked"
}

func (a *API) answer(w http.ResponseWriter, t *transfer, created bool) {
	body := map[string]any{"id": t.id, "state": t.state}
	status := 200
	switch t.state {
	case "booked":
		if created {
			status = 201
		}
	case "queued":
		status = 202
		if !created {
			status = 200
		}
	case "rejected":
		body["problem"] = t.problem
		if created {
			reply(w, 409, map[string]any{"problem": map[string]string{"type": t.problem}})
			return
		}
	}
	reply(w, status, map[string]any{"transfer": body})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
