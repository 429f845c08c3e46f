package loadtest

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
)

// EndState is the end-state check of an attack on any payment API, after
// Jepsen's bank test: every account the traffic touched is read before
// and after, and its change must equal the sum of its acknowledged
// settled payments. A payment with no answer, a timeout, a 5xx or an
// unfinished pending answer is indeterminate: it may count either way,
// so an account's change is explained when some choice of its
// indeterminate payments makes up the difference. No balance may be
// negative, and the total over all accounts must change only by what
// came from outside (top-ups).
type EndState struct {
	OK              bool  `json:"ok"`
	AccountsChecked int   `json:"accounts_checked"`
	LostMinor       int64 `json:"lost_minor"`
	CreatedMinor    int64 `json:"created_minor"`
	// Settled and Indeterminate count payments; TotalChangeMinor is the
	// sum of every account's change, ExternalMinor what settled top-ups
	// brought in.
	Settled          int64 `json:"settled_payments"`
	Indeterminate    int64 `json:"indeterminate_payments"`
	TotalChangeMinor int64 `json:"total_change_minor"`
	ExternalMinor    int64 `json:"external_minor"`
	// Unexplained lists the accounts (and "(total)") whose money is not
	// explained, at most 100; UnexplainedAccounts counts all of them.
	Unexplained         []Unexplained `json:"unexplained"`
	UnexplainedAccounts int           `json:"unexplained_accounts"`
}

// Unexplained is one account whose balance the traffic does not explain.
type Unexplained struct {
	Account string `json:"account"`
	Before  int64  `json:"before"`
	After   int64  `json:"after"`
	// ChangeMinor is after - before; ExpectedMinor the sum of its settled
	// payments; UnexplainedMinor what no choice of its Indeterminate
	// payments accounts for (negative: money lost).
	ChangeMinor      int64  `json:"change_minor"`
	ExpectedMinor    int64  `json:"expected_minor"`
	Indeterminate    int    `json:"indeterminate_payments"`
	UnexplainedMinor int64  `json:"unexplained_minor"`
	Why              string `json:"why"`
}

// maxEnumerate: up to this many indeterminate payments on an account,
// every subset is tried; above, the change need only lie between the
// sums of their debits and of their credits (weaker, never wrong).
const maxEnumerate = 16

type acctState struct {
	before, known int64
	indet         []int64
	inflight      int
	version       uint64
	read          bool // before was read
	overflow      bool
}

// tracker follows every payment's effect on the accounts it touches.
type tracker struct {
	mu            sync.Mutex
	accts         map[string]*acctState
	order         []string
	next          int // round-robin position of the live check
	settled       int64
	indeterminate int64
	external      int64
	extIndet      []int64
	overflow      bool
	liveBad       map[string]Unexplained
}

func newTracker(before map[string]int64) *tracker {
	t := &tracker{accts: make(map[string]*acctState, len(before)), liveBad: map[string]Unexplained{}}
	for k, v := range before {
		t.accts[k] = &acctState{before: v, read: true}
		t.order = append(t.order, k)
	}
	sort.Strings(t.order)
	return t
}

func (t *tracker) acct(k string) *acctState {
	a := t.accts[k]
	if a == nil {
		// Not read before the attack (it should not happen: the accounts
		// come from the same stream); never judged.
		a = &acctState{}
		t.accts[k] = a
	}
	return a
}

func (t *tracker) begin(p *payment) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range []string{p.from, p.to} {
		if !isExternal(k) {
			a := t.acct(k)
			a.inflight++
			a.version++
		}
	}
}

func (t *tracker) end(p *payment, c Class) {
	t.mu.Lock()
	defer t.mu.Unlock()
	applied := c == Settled && p.form == Valid
	maybe := c == Indeterminate || c == Pending
	switch {
	case applied:
		t.settled++
	case maybe:
		t.indeterminate++
	}
	for i, k := range []string{p.from, p.to} {
		eff := p.amount
		if i == 0 {
			eff = -eff
		}
		if isExternal(k) {
			if i == 0 { // money in from outside
				switch {
				case applied:
					t.external, t.overflow = addChecked(t.external, p.amount, t.overflow)
				case maybe:
					t.extIndet = append(t.extIndet, p.amount)
				}
			}
			continue
		}
		a := t.acct(k)
		a.inflight--
		a.version++
		switch {
		case applied:
			a.known, a.overflow = addChecked(a.known, eff, a.overflow)
		case maybe:
			a.indet = append(a.indet, eff)
		}
	}
}

func isExternal(k string) bool {
	return len(k) >= len(ExternalPrefix) && k[:len(ExternalPrefix)] == ExternalPrefix
}

// addChecked adds without overflowing: an overflow sticks as a flag and
// the account is then reported, never judged on a wrapped number.
func addChecked(a, b int64, over bool) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return a, true
	}
	return s, over
}

// residual is diff minus the nearest sum of some of the indeterminate
// effects: 0 when they explain it.
func residual(diff int64, indet []int64) int64 {
	if len(indet) == 0 {
		return diff
	}
	if len(indet) <= maxEnumerate {
		best := diff
		for mask := 1; mask < 1<<len(indet); mask++ {
			var s int64
			over := false
			for i, v := range indet {
				if mask&(1<<i) != 0 {
					s, over = addChecked(s, v, over)
				}
			}
			if over {
				continue
			}
			r, o := addChecked(diff, -s, false)
			if !o && abs(r) < abs(best) {
				best = r
			}
			if best == 0 {
				return 0
			}
		}
		return best
	}
	var lo, hi int64
	over := false
	for _, v := range indet {
		if v < 0 {
			lo, over = addChecked(lo, v, over)
		} else {
			hi, over = addChecked(hi, v, over)
		}
	}
	switch {
	case over:
		return 0 // cannot judge; documented as the weak bound
	case diff < lo:
		return diff - lo
	case diff > hi:
		return diff - hi
	}
	return 0
}

func abs(v int64) int64 {
	if v < 0 {
		if v == math.MinInt64 {
			return math.MaxInt64
		}
		return -v
	}
	return v
}

// judge explains one account's change, or says why not.
func judge(k string, a *acctState, after int64) (Unexplained, bool) {
	u := Unexplained{Account: k, Before: a.before, After: after, ExpectedMinor: a.known, Indeterminate: len(a.indet)}
	var over bool
	u.ChangeMinor, over = addChecked(after, -a.before, false)
	switch {
	case over || a.overflow:
		u.Why = "amounts overflow int64: cannot be checked"
		return u, false
	case after < 0:
		u.Why = "negative balance"
		u.UnexplainedMinor = after
		return u, false
	}
	diff, over := addChecked(u.ChangeMinor, -a.known, false)
	if over {
		u.Why = "amounts overflow int64: cannot be checked"
		return u, false
	}
	if r := residual(diff, a.indet); r != 0 {
		u.UnexplainedMinor = r
		if r < 0 {
			u.Why = fmt.Sprintf("%d minor units lost: changed by %d, its settled payments say %d", -r, u.ChangeMinor, a.known)
		} else {
			u.Why = fmt.Sprintf("%d minor units created: changed by %d, its settled payments say %d", r, u.ChangeMinor, a.known)
		}
		if len(a.indet) > 0 {
			u.Why += fmt.Sprintf(", and no choice of its %d indeterminate payments explains it", len(a.indet))
		}
		return u, false
	}
	return u, true
}

// check is the end-state verdict from the balances after the attack.
func (t *tracker) check(after map[string]int64) *EndState {
	t.mu.Lock()
	defer t.mu.Unlock()
	es := &EndState{Settled: t.settled, Indeterminate: t.indeterminate, ExternalMinor: t.external, Unexplained: []Unexplained{}}
	var total int64
	over := t.overflow
	add := func(u Unexplained) {
		es.UnexplainedAccounts++
		if u.UnexplainedMinor < 0 {
			es.LostMinor, over = addChecked(es.LostMinor, -u.UnexplainedMinor, over)
		} else {
			es.CreatedMinor, over = addChecked(es.CreatedMinor, u.UnexplainedMinor, over)
		}
		if len(es.Unexplained) < 100 {
			es.Unexplained = append(es.Unexplained, u)
		}
	}
	for _, k := range t.order {
		a := t.accts[k]
		v, ok := after[k]
		if !a.read || !ok {
			continue
		}
		es.AccountsChecked++
		u, fine := judge(k, a, v)
		total, over = addChecked(total, u.ChangeMinor, over)
		if a.before < 0 && fine {
			u.Why, fine = "negative balance before the attack", false
		}
		if !fine {
			add(u)
		}
	}
	es.TotalChangeMinor = total
	// The total: only what came from outside may change it.
	if diff, o := addChecked(total, -t.external, over); !o {
		if r := residual(diff, t.extIndet); r != 0 && es.UnexplainedAccounts == 0 {
			add(Unexplained{Account: "(total)", ChangeMinor: total, ExpectedMinor: t.external, Indeterminate: len(t.extIndet),
				UnexplainedMinor: r, Why: "the total over all accounts is not conserved"})
		}
	} else {
		add(Unexplained{Account: "(total)", Why: "amounts overflow int64: cannot be checked"})
	}
	es.OK = es.UnexplainedAccounts == 0
	return es
}

// liveCheck reads up to n accounts with no payment in flight and judges
// them as the end-state check would; an account is judged only when no
// payment touched it while it was read. It returns how many accounts
// have been found unexplained so far ('unexplained > 0').
func (t *tracker) liveCheck(ctx context.Context, n int, read func(context.Context, string) (int64, error)) int {
	type snap struct {
		k       string
		version uint64
	}
	t.mu.Lock()
	var picks []snap
	for tries := 0; tries < len(t.order) && len(picks) < n; tries++ {
		k := t.order[t.next%len(t.order)]
		t.next++
		if a := t.accts[k]; a.inflight == 0 && a.version > 0 {
			picks = append(picks, snap{k, a.version})
		}
	}
	t.mu.Unlock()
	for _, p := range picks {
		v, err := read(ctx, p.k)
		if err != nil {
			continue // the end-state check will report it
		}
		t.mu.Lock()
		a := t.accts[p.k]
		if a.inflight == 0 && a.version == p.version {
			if u, ok := judge(p.k, a, v); !ok {
				t.liveBad[p.k] = u
			} else {
				delete(t.liveBad, p.k)
			}
		}
		t.mu.Unlock()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.liveBad)
}

// streamAccounts walks n payments of a fresh copy of the stream and
// returns the accounts they touch (not the external ones).
func streamAccounts(c StreamConfig, n uint64) ([]string, error) {
	s, err := NewStream(c)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for i := uint64(0); i < n; i++ {
		_, cmd := s.nextIndexed()
		from, to := Accounts(cmd)
		for _, k := range []string{from, to} {
			if !isExternal(k) && !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// balanceReader reads accounts' balances through a template's balance:.
type balanceReader struct {
	b      *Balance
	client *http.Client
	target string
	token  string
	reads  atomic.Int64
}

// read reads one balance, trying a GET (idempotent) up to three times
// when there is no answer or a 5xx.
func (r *balanceReader) read(ctx context.Context, account string) (int64, error) {
	var err error
	for try := 0; try < 3; try++ {
		var n int64
		var retry bool
		if n, retry, err = r.readOnce(ctx, account); err == nil || !retry || ctx.Err() != nil {
			return n, err
		}
	}
	return 0, err
}

func (r *balanceReader) readOnce(ctx context.Context, account string) (int64, bool, error) {
	v := Vars{Target: r.target, Token: r.token, Account: account}
	req, err := r.b.Request.Render(&v)
	if err != nil {
		return 0, false, fmt.Errorf("balance of %s: %w", account, err)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, req.URL, nil)
	if err != nil {
		return 0, false, fmt.Errorf("balance of %s: %w", account, err)
	}
	hr.Header = req.Header
	r.reads.Add(1)
	resp, err := r.client.Do(hr)
	if err != nil {
		return 0, true, fmt.Errorf("balance of %s: %w", account, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStepBody))
	if err != nil {
		return 0, true, fmt.Errorf("balance of %s: %w", account, err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, resp.StatusCode >= 500, fmt.Errorf("balance of %s: GET %s answered %s: %s", account, req.URL, resp.Status, clipString(string(body), 200))
	}
	doc, err := decodeJSON(body)
	if err != nil {
		return 0, false, fmt.Errorf("balance of %s: GET %s: not JSON: %v", account, req.URL, err)
	}
	n, err := r.b.Value.Int(doc)
	if err != nil {
		return 0, false, fmt.Errorf("balance of %s: %w", account, err)
	}
	return n, false, nil
}

// readAll reads every account, a few at a time.
func (r *balanceReader) readAll(ctx context.Context, accounts []string) (map[string]int64, error) {
	out := make(map[string]int64, len(accounts))
	var mu sync.Mutex
	var first error
	work := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				v, err := r.read(ctx, k)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				out[k] = v
				mu.Unlock()
			}
		}()
	}
	for _, k := range accounts {
		mu.Lock()
		failed := first != nil
		mu.Unlock()
		if failed {
			break
		}
		work <- k
	}
	close(work)
	wg.Wait()
	return out, first
}
