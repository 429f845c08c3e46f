// Package httpapi is walletsim's JSON HTTP API over the engine: scan
// payments, transfers, transit fares and top-ups go in as commands of a
// live epoch; their outcomes come back from the engine's events (and a
// projection of balances answers GET /v1/wallets/{id}). The contract is
// openapi.json, served at /openapi.json and checked by the tests.
package api

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/gen"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Config configures a Server.
type Config struct {
	// Scenario supplies the population (wallets 1..N, merchants) and the
	// seed; its traffic is not generated: requests are the traffic.
	Scenario *scenario.Compiled
	Policy   *route.Table
	// Bus points at an external cluster; empty Brokers starts an embedded
	// broker in memory (or in DataDir; from a million wallets, in a
	// temporary directory removed at Close).
	Bus        bus.Config
	DataDir    string
	BrokerAddr string
	Topics     bus.Topics
	Partitions int
	// Epoch is the wall-clock window one epoch of requests collects
	// (default 1ms): the floor of the engine's batching delay.
	Epoch time.Duration
	// Token, if set, is the bearer token every /v1 request must carry.
	Token string
	// Async makes 202 + payment ID the default answer (a request can ask
	// for either with Prefer: respond-async / respond-sync).
	Async bool
	// SyncTimeout bounds how long a synchronous request waits for its
	// outcome; after it the answer is 202 with the payment ID (default 10s).
	SyncTimeout time.Duration
	// MaxInFlight bounds payments accepted but not yet resolved; past it
	// requests get 503 overloaded (default 500,000).
	MaxInFlight int64
	// MaxBody caps a request body (default MaxBody).
	MaxBody int64
	// Retain is how many finished payments GET /v1/payments/{id} and
	// Idempotency-Key replays remember at least (default 1,000,000; up to
	// twice as many are kept). The event log keeps everything.
	Retain int
	// Fresh deletes the topics at start. Without it the server resumes
	// the log it finds (DataDir, or an external cluster), accepted
	// payments, outcomes and idempotency keys included (restore.go).
	Fresh bool
	Logf  func(format string, args ...any)
}

func (c *Config) setDefaults() {
	if c.Partitions == 0 {
		// Not the scenario's count: every epoch costs each partition a
		// few broker round trips and a mark to every other partition, so
		// for short live epochs one partition per core is the fastest.
		c.Partitions = min(max(runtime.GOMAXPROCS(0), 1), 8)
	}
	if c.Topics == (bus.Topics{}) {
		c.Topics = bus.DefaultTopics("")
	}
	if c.Epoch == 0 {
		c.Epoch = time.Millisecond
	}
	if c.SyncTimeout == 0 {
		c.SyncTimeout = 10 * time.Second
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 500_000
	}
	if c.MaxBody == 0 {
		c.MaxBody = MaxBody
	}
	if c.Retain == 0 {
		c.Retain = 1_000_000
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
}

// Validate reports what is wrong with the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Scenario == nil:
		return errors.New("httpapi: no scenario")
	case c.Policy == nil:
		return errors.New("httpapi: no policy")
	case c.Epoch < time.Millisecond:
		return fmt.Errorf("epoch %s: want at least 1ms", c.Epoch)
	case c.SyncTimeout < 0 || c.MaxInFlight < 0 || c.MaxBody < 0 || c.Retain < 0:
		return errors.New("httpapi: negative timeout or limit")
	}
	return nil
}

// Server is a running API: broker (if embedded), engine and handlers.
type Server struct {
	cfg     Config
	pop     *gen.Population
	src     *liveSource
	tr      *tracker
	idem    *idemStore
	bal     []atomic.Int64 // balance projection, by wallet ID
	eng     *engine.Engine
	brk     *embedded.Broker
	tmpDir  string // the embedded log's temporary directory (big populations)
	gogc    int    // the GC percent before Start, restored by release
	setGC   bool
	start   time.Time
	opened  atomic.Int64
	ready   chan struct{}
	readyMu sync.Once
	drain   atomic.Bool

	cancel   context.CancelFunc
	done     chan struct{} // producer and processors returned
	runErr   error
	accepted atomic.Int64
	restored int64 // payments a previous session accepted (restore.go)
	closeMu  sync.Mutex
	final    *Final
}

// Final is what Close found: the audit of the whole log.
type Final struct {
	Accepted int64        `json:"accepted"` // this session's and the restored
	Restored int64        `json:"restored"` // accepted by earlier sessions`
	Audit    audit.Report `json:"audit"`
}

// Start starts the broker (if embedded), creates fresh topics, opens the
// population's wallets (epoch 0) and starts the engine. Ready() closes
// once the wallets are open.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Scenario == nil {
		return nil, errors.New("httpapi: no scenario")
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, pop: gen.NewPopulation(cfg.Scenario), tr: newTracker(cfg.Retain), idem: newIdemStore(cfg.Retain), ready: make(chan struct{}), done: make(chan struct{}), start: time.Now()}
	s.bal = make([]atomic.Int64, len(s.pop.Wallets)+1)
	ok := false
	defer func() {
		if !ok {
			s.release()
		}
	}()
	// A million wallets or more: the opening alone is a million records,
	// so an embedded log goes to a temporary directory (as run's does)
	// and the GC collects at bigGOGC, not LessGC's 10x headroom, which is
	// for a small population's in-memory log: at 1.2M wallets the two
	// made 1.4 KB a wallet.
	dataDir := cfg.DataDir
	if big := len(s.pop.Wallets) >= bigPopulation; big {
		if len(cfg.Bus.Brokers) == 0 && dataDir == "" {
			tmp, err := os.MkdirTemp("", "walletsim-serve-")
			if err != nil {
				return nil, err
			}
			s.tmpDir, dataDir = tmp, tmp
		}
		if os.Getenv("GOGC") == "" {
			s.gogc, s.setGC = debug.SetGCPercent(bigGOGC), true
		}
	}
	if len(cfg.Bus.Brokers) == 0 {
		// In memory unless asked: serve's log is rebuilt on every start.
		b, err := embedded.Start(embedded.Config{Addr: cfg.BrokerAddr, DataDir: dataDir, Partitions: cfg.Partitions})
		if err != nil {
			return nil, err
		}
		s.brk = b
		s.cfg.Bus.Brokers = []string{b.Addr()}
	}
	clock := ledger.Clock{Start: s.start.UnixMilli(), Length: max(cfg.Epoch.Milliseconds(), 1)}
	resume := false
	if !cfg.Fresh {
		// The epoch clock is the log's: saga steps a restarted processor
		// redoes must be timed as they were.
		start, ok, err := logStart(ctx, s.cfg.Bus, cfg.Topics)
		if err != nil {
			return nil, fmt.Errorf("read the log's start: %w", err)
		}
		if ok {
			clock.Start, resume = start, true
		}
	}
	eng, err := engine.New(engine.Config{
		Bus: s.cfg.Bus, Topics: cfg.Topics, Partitions: cfg.Partitions, Routes: cfg.Policy,
		Seed: uint64(cfg.Scenario.Seed), Clock: clock, Logf: cfg.Logf, OnEvent: s.onEvent,
		Wallets: int64(len(s.pop.Wallets)),
	})
	if err != nil {
		return nil, err
	}
	s.eng = eng
	s.src = newLiveSource(s.pop, clock, cfg.Epoch, func() bool { return s.tr.outstanding.Load() > 0 }, func() int64 {
		m := int64(1 << 62)
		for _, d := range eng.DoneEpochs() {
			m = min(m, d)
		}
		return m
	})
	if err := eng.Setup(ctx, cfg.Fresh); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.src.stop = rctx.Done()
	from := uint32(0)
	if resume {
		// Finish what the previous session had in flight, reopen a log
		// it closed, then rebuild balances, payments and keys from it.
		if from, err = eng.Continue(ctx, func(ctx context.Context) error {
			_, err := eng.Process(ctx, nil)
			return err
		}); err != nil {
			cancel()
			return nil, fmt.Errorf("resume the log: %w", err)
		}
		if s.restored, err = s.restore(ctx); err != nil {
			cancel()
			return nil, err
		}
		s.src.resume = from
	}
	go s.run(rctx, cancel, from)
	ok = true
	return s, nil
}

func (s *Server) run(ctx context.Context, cancel context.CancelFunc, from uint32) {
	defer close(s.done)
	prodErr := make(chan error, 1)
	go func() {
		_, err := s.eng.Produce(ctx, s.src, from)
		if err != nil {
			cancel()
		}
		prodErr <- err
	}()
	_, err := s.eng.Process(ctx, nil)
	if err != nil {
		cancel() // the producer would wait for processors that are gone
	}
	perr := <-prodErr
	if err == nil {
		err = perr
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		s.cfg.Logf("engine stopped: %v", err)
	}
	s.runErr = err
}

// onEvent keeps the balance projection and resolves waiting requests. It
// runs on the processors' goroutines, so it only takes short locks.
func (s *Server) onEvent(e *event.Event) {
	if e.Wallet < uint64(len(s.bal)) {
		s.bal[e.Wallet].Store(e.BalanceAfter)
	}
	if e.Type == event.WalletOpened {
		if s.opened.Add(1) == int64(len(s.pop.Wallets)) {
			s.readyMu.Do(func() { close(s.ready) })
		}
		return
	}
	if e.Command >= IDBase && e.Command < gen.OpenIDBase {
		s.tr.observe(e)
	}
}

// Ready is closed once every wallet of the population is open.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Done is closed when the engine stops (after Close, or on a failure).
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is why the engine stopped early, if it did.
func (s *Server) Err() error {
	select {
	case <-s.done:
		return s.runErr
	default:
		return nil
	}
}

// Accepted is the number of payments accepted so far.
func (s *Server) Accepted() int64 { return s.accepted.Load() }

// Wallets is the population size: wallet IDs are 1..Wallets().
func (s *Server) Wallets() int { return len(s.pop.Wallets) }

// Population is the population the server holds.
func (s *Server) Population() *gen.Population { return s.pop }

// Brokers are the bootstrap servers the engine uses.
func (s *Server) Brokers() []string { return s.cfg.Bus.Brokers }

// Close stops accepting payments, lets every accepted one reach its
// outcome, stops the engine, and audits the log: conservation of money and
// every other invariant, over everything the server ever accepted. Stop
// the HTTP server first so that no handler is still adding commands.
func (s *Server) Close(ctx context.Context) (*Final, error) {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.final != nil {
		return s.final, nil
	}
	defer s.release()
	s.drain.Store(true)
	s.src.close()
	select {
	case <-s.done:
	case <-ctx.Done():
		s.cancel()
		<-s.done
		return nil, fmt.Errorf("drain: %w", ctx.Err())
	}
	if s.runErr != nil {
		return nil, s.runErr
	}
	_, rep, err := engine.VerifyPolicy(ctx, s.cfg.Bus, s.cfg.Topics, s.cfg.Policy, nil)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	s.final = &Final{Accepted: s.restored + s.accepted.Load(), Restored: s.restored, Audit: rep}
	return s.final, nil
}

func (s *Server) release() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
		s.cancel = nil
	}
	if s.eng != nil {
		s.eng.Close()
		s.eng = nil
	}
	if s.brk != nil {
		s.brk.Close()
		s.brk = nil
	}
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
		s.tmpDir = ""
	}
	if s.setGC {
		debug.SetGCPercent(s.gogc)
		s.setGC = false
	}
}

// bigPopulation is the wallet count from which Start keeps an embedded
// log on disk and collects garbage at bigGOGC (the books and the
// population are pointer-free arrays: a collection costs little).
var bigPopulation = 1_000_000 // a var: the test lowers it

const bigGOGC = 25
