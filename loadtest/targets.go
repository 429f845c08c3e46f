package loadtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Form is a kind of deliberately invalid request, named by what is wrong.
type Form uint8

// Invalid forms, each with the status and code the API must answer.
const (
	Valid Form = iota
	MalformedJSON
	NegativeAmount
	UnknownWallet
	WrongCurrency
	UnknownField
	OversizedBody
	ReusedKey
	NumForms
)

var forms = [NumForms]struct {
	name   string
	status int
	code   string
}{
	{"valid", 0, ""},
	{"malformed_json", 400, "malformed_json"},
	{"negative_amount", 422, "invalid_amount"},
	{"unknown_wallet", 422, "wallet_unknown"},
	{"wrong_currency", 422, "currency_mismatch"},
	{"unknown_field", 400, "unknown_field"},
	{"oversized_body", 413, "body_too_large"},
	{"reused_key", 409, "idempotency_key_reused"},
}

func (f Form) String() string {
	if f < NumForms {
		return forms[f].name
	}
	return "form(" + strconv.Itoa(int(f)) + ")"
}

// Expect is the status and code the API must answer an invalid form with.
func (f Form) Expect() (status int, code string) { return forms[f].status, forms[f].code }

// parseForm reads a form name back (from a result's URL fragment).
func parseForm(s string) Form {
	for f := Form(0); f < NumForms; f++ {
		if forms[f].name == s {
			return f
		}
	}
	return NumForms
}

// oversize pads a body past the API's 16 KiB cap.
const oversize = 64 << 10

// Stream is the attack's request sequence: request k is the scenario's
// k-th generated payment, or (with probability InvalidShare, decided by
// the seed and k alone) an invalid request. A shard i/n takes the k with
// k mod n == i, so n shards together send exactly what one attack would.
type Stream struct {
	base    string
	token   string
	nonce   string
	share   float64
	seed    uint64
	shard   uint64
	shards  uint64
	g       *gen.Generator
	pop     *gen.Population
	epochs  uint32
	mu      sync.Mutex
	k       uint64 // next global index
	buf     []event.Command
	bufEp   uint32
	pos     int
	recent  [64]recentKey // keys of recent valid requests, for ReusedKey
	nRecent int
	// pending holds the valid requests sent and not yet answered, by key.
	pending   map[string]chan struct{}
	reuseWait time.Duration
	testAwait func(chan struct{}) // a test's stand-in for awaitAnswer's wait
	hdrJSON   http.Header
}

type recentKey struct {
	key  string
	path string // the endpoint (built-in) or URL (template)
	body []byte
	done chan struct{} // closed when the request has its answer
}

// StreamConfig configures a Stream.
type StreamConfig struct {
	Scenario *scenario.Compiled
	// Target is the API's base URL, e.g. http://127.0.0.1:8080.
	Target string
	Token  string
	// Nonce keeps this attack's idempotency keys apart from other attacks
	// on the same server.
	Nonce        string
	InvalidShare float64
	Shard        int
	Shards       int
	// ReuseWait bounds how long a reused key's request waits for its
	// original's answer (default 30s).
	ReuseWait time.Duration
}

// NewStream builds the request stream of a scenario.
func NewStream(c StreamConfig) (*Stream, error) {
	if c.Shards < 1 || c.Shard < 0 || c.Shard >= c.Shards {
		return nil, fmt.Errorf("shard %d/%d: want 0 <= i < n", c.Shard, c.Shards)
	}
	if !(c.InvalidShare >= 0 && c.InvalidShare <= 1) {
		return nil, fmt.Errorf("invalid share %v: want 0-1", c.InvalidShare)
	}
	g := gen.New(c.Scenario)
	if g.LastEpoch() < 1 {
		return nil, fmt.Errorf("scenario %s generates no payments", c.Scenario.Name)
	}
	s := &Stream{
		base: strings.TrimRight(c.Target, "/"), token: c.Token, nonce: c.Nonce, share: c.InvalidShare,
		seed: uint64(c.Scenario.Seed), shard: uint64(c.Shard), shards: uint64(c.Shards),
		g: g, pop: g.Pop, epochs: g.LastEpoch(), reuseWait: c.ReuseWait,
	}
	if s.reuseWait <= 0 {
		s.reuseWait = 30 * time.Second
	}
	s.hdrJSON = http.Header{"Content-Type": []string{"application/json"}}
	if c.Token != "" {
		s.hdrJSON.Set("Authorization", "Bearer "+c.Token)
	}
	return s, nil
}

// next returns the generator's next payment, cycling through its epochs
// (a long attack replays the scenario's traffic under fresh keys).
func (s *Stream) next() *event.Command {
	for s.pos >= len(s.buf) {
		s.bufEp = s.bufEp%s.epochs + 1
		s.buf, _ = s.g.Epoch(s.bufEp, s.buf[:0])
		s.pos = 0
	}
	c := &s.buf[s.pos]
	s.pos++
	return c
}

// Targeter is the vegeta Targeter of this stream; safe for vegeta's
// concurrent workers. Its work counts in latency, so it only appends bytes.
func (s *Stream) Targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		s.mu.Lock()
		k, c := s.nextIndexed()
		wait := s.target(t, k, c)
		s.mu.Unlock()
		s.awaitAnswer(wait)
		return nil
	}
}

// formFor decides, from the seed and k alone, whether request k is
// invalid and how; forms lists the forms the target can be sent (all, for
// walletsim's API).
func (s *Stream) formFor(k uint64, forms []Form) Form {
	if s.share == 0 || len(forms) == 0 {
		return Valid
	}
	r := rand.New(rand.NewPCG(s.seed^0x1a77ac4, k))
	if r.Float64() >= s.share {
		return Valid
	}
	form := forms[r.IntN(len(forms))]
	if form == ReusedKey && s.nRecent == 0 {
		form = MalformedJSON
		if !slices.Contains(forms, MalformedJSON) {
			form = Valid
		}
	}
	return form
}

// A reused key (ReusedKey) is that of one of the last valid requests
// sent, chosen by the seed alone, and the reusing request is sent only
// once that original has its answer: a key still in flight races its
// original, and the server could rightly refuse the original instead.
// The executor reports answers, and on the built-in path the client's
// transport does (answerHook); on the built-in path the wait counts in
// the reusing request's latency.

// answered records that the valid request with this key has its answer.
func (s *Stream) answered(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.pending[key]; ok {
		delete(s.pending, key)
		close(ch)
	}
}

// sentValid records a valid request about to be sent; the caller holds
// s.mu.
func (s *Stream) sentValid(r recentKey) {
	if s.pending == nil {
		s.pending = map[string]chan struct{}{}
	}
	r.done = make(chan struct{})
	if len(s.pending) < 1<<16 {
		s.pending[r.key] = r.done
	} else {
		close(r.done) // answers that never come must not grow pending without bound
	}
	s.recent[s.nRecent%len(s.recent)] = r
	s.nRecent++
}

// reusedSlot picks the recent valid request whose key request k reuses,
// by the seed's k alone.
func (s *Stream) reusedSlot(k uint64) int {
	return int((k / s.shards) % uint64(min(s.nRecent, len(s.recent))))
}

// awaitAnswer waits, outside s.mu, until a reused key's original has its
// answer, at most ReuseWait.
func (s *Stream) awaitAnswer(done chan struct{}) {
	if done == nil {
		return
	}
	if s.testAwait != nil {
		s.testAwait(done)
		return
	}
	t := time.NewTimer(s.reuseWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// allForms are the invalid forms walletsim's API knows, in Form order.
var allForms = func() []Form {
	var out []Form
	for f := Valid + 1; f < NumForms; f++ {
		out = append(out, f)
	}
	return out
}()

// unknownWallet is a wallet ID the population does not have.
func (s *Stream) unknownWallet(k uint64) int { return len(s.pop.Wallets) + 1 + int(k%1000) }

// nextIndexed is the next payment of this shard and its global index;
// the caller holds s.mu.
func (s *Stream) nextIndexed() (uint64, *event.Command) {
	// Every shard walks the same generator and skips the others'
	// payments, so the global sequence is the same in each.
	for {
		c := s.next()
		k := s.k
		s.k++
		if k%s.shards == s.shard {
			return k, c
		}
	}
}

// target builds request k; a reused key's request must wait for the
// channel returned.
func (s *Stream) target(t *vegeta.Target, k uint64, c *event.Command) (wait chan struct{}) {
	form := s.formFor(k, allForms)
	path, body := requestFor(c)
	key := s.nonce + "-" + strconv.FormatUint(k, 10)
	switch form {
	case MalformedJSON:
		body = body[:len(body)/2]
	case NegativeAmount:
		body = replaceAmount(body, -c.Amount)
	case UnknownWallet:
		body = bytes.Replace(body, []byte(`wallet_id":`+strconv.FormatUint(c.Wallet, 10)), []byte(`wallet_id":`+strconv.Itoa(s.unknownWallet(k))), 1)
	case WrongCurrency:
		other := "HKD"
		if c.Currency == sim.HKD {
			other = "CNY"
		}
		body = bytes.Replace(body, []byte(`"currency":"`+c.Currency.String()+`"`), []byte(`"currency":"`+other+`"`), 1)
	case UnknownField:
		body = append(body[:len(body)-1], `,"tip":100}`...)
	case OversizedBody:
		padded := make([]byte, 0, oversize+len(body))
		padded = append(padded, '{')
		padded = append(padded, bytes.Repeat([]byte(" "), oversize)...)
		body = append(padded, body[1:]...)
	case ReusedKey:
		// A key an earlier valid request used, with this (other) body.
		r := s.recent[s.reusedSlot(k)]
		key, wait = r.key, r.done
		if r.path == path && bytes.Equal(r.body, body) {
			body = replaceAmount(body, c.Amount+1)
		}
	case Valid:
		s.sentValid(recentKey{key: key, path: path, body: body})
	}
	t.Method = http.MethodPost
	t.URL = s.base + path + "#" + form.String()
	t.Body = body
	t.Header = s.hdrJSON.Clone()
	t.Header.Set("Idempotency-Key", key)
	return wait
}

// requestFor turns a generated payment into the API request that asks for
// it.
func requestFor(c *event.Command) (path string, body []byte) {
	b := make([]byte, 0, 128)
	u := func(k string, v uint64) { b = strconv.AppendUint(append(append(b, '"'), k...), v, 10) }
	switch c.Kind {
	case sim.ScanMPM, sim.ScanCPM:
		path = "/v1/payments"
		b = append(b, '{')
		u(`wallet_id":`, c.Wallet)
		b = append(b, ',')
		u(`merchant_id":`, c.Counterparty)
		mode := "mpm"
		if c.Kind == sim.ScanCPM {
			mode = "cpm"
		}
		b = append(b, `,"mode":"`+mode+`"`...)
	case sim.P2P, sim.RedPacket, sim.CrossTransfer:
		path = "/v1/transfers"
		b = append(b, '{')
		u(`from_wallet_id":`, c.Wallet)
		b = append(b, ',')
		u(`to_wallet_id":`, c.Counterparty)
		b = append(b, `,"kind":"`+c.Kind.String()+`"`...)
	case sim.Transit:
		path = "/v1/transit/fares"
		b = append(b, '{')
		u(`wallet_id":`, c.Wallet)
		b = append(b, `,"operator":"`+sim.Operator(c.Counterparty).String()+`"`...)
	default:
		path = "/v1/topups"
		b = append(b, '{')
		u(`wallet_id":`, c.Wallet)
	}
	b = strconv.AppendInt(append(b, `,"amount":`...), c.Amount, 10)
	b = append(b, `,"currency":"`+c.Currency.String()+`"}`...)
	return path, b
}

func replaceAmount(body []byte, amount int64) []byte {
	i := bytes.Index(body, []byte(`"amount":`))
	if i < 0 {
		return body
	}
	j := i + len(`"amount":`)
	e := j
	for e < len(body) && (body[e] == '-' || body[e] >= '0' && body[e] <= '9') {
		e++
	}
	out := append([]byte(nil), body[:j]...)
	out = strconv.AppendInt(out, amount, 10)
	return append(out, body[e:]...)
}
