package loadtest

import (
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/walletsim/walletsim/internal/ledgerd"
)

// initial balances of ledgerd's accounts: wallets can pay, merchants and
// operators start empty.
var ledgerdInitial = map[string]int64{"wallet-": 300_000}

type anyRun struct {
	rep *Report
	api *ledgerd.API
	dir string
}

// attackLedgerd drives a fresh ledgerd with walletsim's quickstart traffic
// through a template from testdata/templates.
func attackLedgerd(t *testing.T, cfg ledgerd.Config, tpl string, rate float64, du time.Duration, abort ...string) anyRun {
	t.Helper()
	if cfg.Initial == nil {
		cfg.Initial = ledgerdInitial
	}
	api := ledgerd.New(cfg)
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	tt, err := LoadTemplate(filepath.Join("testdata/templates", tpl))
	if err != nil {
		t.Fatal(err)
	}
	th, err := ParseThresholds("abort", abort)
	if err != nil {
		t.Fatal(err)
	}
	shape, err := ProfileShape("constant", rate, du, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rep, err := Attack(t.Context(), Config{Scenario: quickstart(t), Target: srv.URL, Shape: shape, Template: tt, AbortOn: th, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	return anyRun{rep, api, dir}
}

func countResults(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	if err := readResults(filepath.Join(dir, "results.bin"), func(*vegeta.Result) { n++ }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAnyAPIEndState: ledgerd (its own JSON, its own store and balances)
// driven at 1,000 requests/s for 10 s through a template: every answer is
// read, and every account's change is explained by its settled payments.
func TestAnyAPIEndState(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s attack")
	}
	r := attackLedgerd(t, ledgerd.Config{}, "ledgerd.yaml", 1000, 10*time.Second)
	rep, es := r.rep, r.rep.EndState
	if rep.Planned != 10_000 {
		t.Fatalf("planned %d, want 10,000", rep.Planned)
	}
	if n := countResults(t, r.dir); int64(n) != rep.Requests {
		t.Fatalf("results.bin holds %d, attack.json %d", n, rep.Requests)
	}
	if es == nil || !es.OK || es.UnexplainedAccounts != 0 || es.LostMinor != 0 || es.CreatedMinor != 0 {
		t.Fatalf("end state %+v", es)
	}
	if es.AccountsChecked < 100 || es.Settled != rep.Valid.Settled || es.Settled < rep.Valid.Requests/2 {
		t.Fatalf("end state checked %d accounts, %d settled; report %+v", es.AccountsChecked, es.Settled, rep.Valid)
	}
	if rep.Valid.Failed != 0 || rep.Declines["insufficient_funds"] != rep.Valid.Declined {
		t.Errorf("valid %+v declines %v errors %v", rep.Valid, rep.Declines, rep.Errors)
	}
	if es.ExternalMinor == 0 {
		t.Errorf("no top-up money came in: %+v", es)
	}
}

// TestAnyAPILostCredit: a ledgerd that never credits one booked transfer
// in 500 fails the check, naming each account it shorted and by how much.
func TestAnyAPILostCredit(t *testing.T) {
	r := attackLedgerd(t, ledgerd.Config{DropCreditEvery: 500}, "ledgerd.yaml", 1000, 3*time.Second)
	es := r.rep.EndState
	drops := r.api.Drops()
	if len(drops) == 0 {
		t.Fatalf("ledgerd dropped nothing (%d settled)", r.rep.Valid.Settled)
	}
	want := map[string]int64{}
	var total int64
	for _, d := range drops {
		want[d.Account] -= d.Amount
		total += d.Amount
	}
	if es == nil || es.OK || es.LostMinor != total || es.CreatedMinor != 0 || es.UnexplainedAccounts != len(want) {
		t.Fatalf("end state %+v; ledgerd dropped %v (%d minor units)", es, drops, total)
	}
	for _, u := range es.Unexplained {
		if want[u.Account] == 0 || u.UnexplainedMinor != want[u.Account] || u.ChangeMinor-u.ExpectedMinor != u.UnexplainedMinor {
			t.Errorf("unexplained %+v; ledgerd dropped %d from it", u, -want[u.Account])
		}
	}
}

// TestAnyAPIChainedQuote: quote, then pay with the quote's ID read from
// the first answer ({{.Steps.quote.body.quote.id}}); the end state holds.
func TestAnyAPIChainedQuote(t *testing.T) {
	r := attackLedgerd(t, ledgerd.Config{}, "ledgerd-quote.yaml", 200, 2*time.Second)
	rep, es := r.rep, r.rep.EndState
	if rep.Requests != 2*rep.Valid.Requests || rep.Valid.Failed != 0 || rep.Valid.Settled == 0 {
		t.Fatalf("%d requests for %d payments (%+v), errors %v", rep.Requests, rep.Valid.Requests, rep.Valid, rep.Errors)
	}
	if es == nil || !es.OK || es.Settled != rep.Valid.Settled {
		t.Fatalf("end state %+v", es)
	}
}

// TestAnyAPIPollUntilSettled: an async API (202 queued) polled until each
// transfer is booked or rejected; no payment is left pending.
func TestAnyAPIPollUntilSettled(t *testing.T) {
	r := attackLedgerd(t, ledgerd.Config{Async: true}, "ledgerd-async.yaml", 200, 2*time.Second)
	rep, es := r.rep, r.rep.EndState
	if rep.Valid.Settled == 0 || rep.Valid.Accepted != 0 || rep.Valid.Failed != 0 {
		t.Fatalf("valid %+v errors %v", rep.Valid, rep.Errors)
	}
	// A transfer, then at least two polls (queued, then booked).
	if rep.Requests < 3*rep.Valid.Requests {
		t.Fatalf("%d requests for %d payments: the polls did not run", rep.Requests, rep.Valid.Requests)
	}
	if es == nil || !es.OK || es.Indeterminate != 0 {
		t.Fatalf("end state %+v", es)
	}
}

// Each abort threshold stops a long attack early, names itself, and the
// results so far are written.
func TestAbortOnLatency(t *testing.T) {
	r := attackLedgerd(t, ledgerd.Config{Delay: 60 * time.Millisecond}, "ledgerd.yaml", 100, time.Minute, "p99 > 50ms over 2s")
	checkFired(t, r, "p99 > 50ms over 2s")
	if r.rep.Fired.Value <= 50 {
		t.Errorf("fired at p99 %v ms", r.rep.Fired.Value)
	}
}

func TestAbortOnErrors(t *testing.T) {
	r := attackLedgerd(t, ledgerd.Config{FailAll: true}, "ledgerd.yaml", 100, time.Minute, "p99 > 10s", "errors > 5% over 2s")
	checkFired(t, r, "errors > 5% over 2s")
	// A 500 may have moved money: every payment is indeterminate.
	if es := r.rep.EndState; es == nil || !es.OK || es.Indeterminate != r.rep.Valid.Requests {
		t.Errorf("end state %+v", es)
	}
}

func TestAbortOnUnexplained(t *testing.T) {
	r := attackLedgerd(t, ledgerd.Config{DropCreditEvery: 50}, "ledgerd.yaml", 200, time.Minute, "unexplained > 0")
	checkFired(t, r, "unexplained > 0")
	if es := r.rep.EndState; es == nil || es.OK {
		t.Errorf("end state %+v", es)
	}
}

func checkFired(t *testing.T, r anyRun, want string) {
	t.Helper()
	f := r.rep.Fired
	if f == nil || f.Threshold != want || !f.StoppedEarly {
		t.Fatalf("fired %+v, want %q", f, want)
	}
	if r.rep.Requests >= r.rep.Planned {
		t.Errorf("%d of %d planned requests sent: it did not stop early", r.rep.Requests, r.rep.Planned)
	}
	if n := countResults(t, r.dir); int64(n) != r.rep.Requests || n == 0 {
		t.Errorf("results.bin holds %d, attack.json %d", n, r.rep.Requests)
	}
}

// TestAnyAPIIndeterminate: answers lost past the client's timeout, some
// for transfers booked and some for transfers not: each may count either
// way (Jepsen's indeterminate operations), and the end state is explained.
// Counting them as failed, or as settled, would not explain it.
func TestAnyAPIIndeterminate(t *testing.T) {
	api := ledgerd.New(ledgerd.Config{Initial: ledgerdInitial, LoseAnswerEvery: 40, LoseAnswerFor: time.Second})
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	tt, err := LoadTemplate("testdata/templates/ledgerd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	shape, _ := ProfileShape("constant", 200, 2*time.Second, 1)
	rep, err := Attack(t.Context(), Config{Scenario: quickstart(t), Target: srv.URL, Shape: shape, Template: tt, Timeout: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	es := rep.EndState
	// A loaded machine may time out more answers than ledgerd held: those
	// are indeterminate too, and the check must still hold.
	if api.Lost() < 4 || es == nil || es.Indeterminate < int64(api.Lost()) {
		t.Fatalf("ledgerd held %d answers; end state %+v", api.Lost(), es)
	}
	if !es.OK {
		t.Fatalf("end state %+v", es)
	}
}

// TestResidual: an account's change is explained when some subset of its
// indeterminate payments makes up the difference.
func TestResidual(t *testing.T) {
	many := make([]int64, 40)
	for i := range many {
		many[i] = int64(i + 1)
	}
	for _, c := range []struct {
		diff  int64
		indet []int64
		want  int64
	}{
		{0, nil, 0},
		{-5, nil, -5},
		{7, []int64{3, 4, -2}, 0},
		{5, []int64{3, 4, -2}, 0},  // 3 + 4 - 2
		{6, []int64{3, 4, -2}, -1}, // 7 is nearest
		{-3, []int64{3, 4}, -3},    // none may be negative
		{100, many, 0},             // interval bound: 0..820
		{900, many, 80},
		{-1, many, -1},
	} {
		if got := residual(c.diff, c.indet); got != c.want {
			t.Errorf("residual(%d, %v) = %d, want %d", c.diff, c.indet, got, c.want)
		}
	}
	if _, over := addChecked(1<<62, 1<<62, false); !over {
		t.Error("overflow not caught")
	}
}
