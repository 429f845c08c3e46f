package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/api"
	"github.com/walletsim/walletsim/sim/metrics"
)

// apiFlags configure the API server; attack reuses them for its
// in-process server.
type apiFlags struct {
	bus      busFlags
	cfg      api.Config // the flags bound to its fields
	scenario string
	policy   string
	scale    float64
}

func (f *apiFlags) register(fs *pflag.FlagSet, withScenario bool) {
	f.bus.register(fs)
	if withScenario {
		fs.StringVar(&f.scenario, "scenario", "quickstart", "scenario whose population (wallets, merchants) the API serves: built-in name or YAML file")
	}
	c := &f.cfg
	fs.StringVar(&f.policy, "policy", "", "interoperability policy: built-in name or YAML file (overrides the scenario)")
	fs.IntVar(&c.Partitions, "partitions", 0, "partitions per topic (default: one per core, at most 8; not the scenario's)")
	fs.Float64Var(&f.scale, "scale", 1, "multiply the population (consumers, wallets, merchants) by this factor")
	fs.DurationVar(&c.Epoch, "epoch", time.Millisecond, "wall-clock window of one epoch of requests (the engine's batching delay)")
	fs.BoolVar(&c.Async, "async", false, "answer 202 with the payment ID instead of waiting for the outcome (per request: Prefer: respond-sync)")
	fs.DurationVar(&c.SyncTimeout, "sync-timeout", 10*time.Second, "longest wait for an outcome before answering 202")
	fs.Int64Var(&c.MaxInFlight, "max-in-flight", 500_000, "payments accepted but unresolved before 503 overloaded")
	fs.IntVar(&c.Retain, "retain", 1_000_000, "finished payments and idempotency keys remembered (the log keeps everything)")
	fs.StringVar(&c.DataDir, "data", "", "embedded broker data dir (default: in memory; from a million wallets a temporary dir, removed at exit)")
	fs.StringVar(&c.BrokerAddr, "broker-addr", "127.0.0.1:0", "embedded broker listen address")
}

// config loads the scenario and policy and completes the server's Config.
func (f *apiFlags) config(name string) (api.Config, error) {
	cfg := f.cfg
	var err error
	if cfg.Scenario, cfg.Policy, err = api.LoadScenario(name, f.policy, f.scale, cfg.Partitions); err != nil {
		return cfg, cli.Usage(err)
	}
	if cfg.Bus, err = f.bus.config(); err != nil {
		return cfg, err
	}
	cfg.Topics = f.bus.topics()
	if cfg.Epoch < time.Millisecond {
		return cfg, cli.Usagef("--epoch %s: want at least 1ms", cfg.Epoch)
	}
	if cfg.Retain < 1 {
		return cfg, cli.Usagef("--retain %d: want at least 1", cfg.Retain)
	}
	if os.Getenv("WALLETSIM_DEBUG") != "" {
		cfg.Logf = func(format string, a ...any) { fmt.Fprintf(os.Stderr, "debug: "+format+"\n", a...) }
	}
	return cfg, nil
}

func newServeCmd() *cobra.Command {
	f := &apiFlags{}
	var addr string
	var fresh bool
	var metricsAddr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the JSON payment API over the engine",
		Long: `Serve answers a JSON HTTP API over the event-sourced engine: POST
/v1/payments, /v1/transfers, /v1/transit/fares and /v1/topups; GET
/v1/wallets/{id} and /v1/payments/{id}; /healthz, /readyz and /openapi.json.
Wallets and merchants are the scenario's population (IDs from 1). Requests
wait for their outcome (200 settled; 402, 403 or 422 declined, with a code)
unless --async (a 202 is answered once the payment is in the log). At start
it resumes the log it finds (--data, or --brokers) and rebuilds balances,
payments and idempotency keys from it, so a crash or a restart loses
nothing it accepted; --fresh deletes the topics first. On SIGINT or SIGTERM it
stops taking payments, resolves every accepted one, audits the log and
exits 0 when every invariant held, 1 otherwise. The bearer token comes from
--token or, better (it stays out of ps), WALLETSIM_TOKEN.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f, addr, fresh, metricsAddr) },
	}
	fs := cmd.Flags()
	fs.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address (loopback by default; binding elsewhere exposes the API)")
	fs.StringVar(&f.cfg.Token, "token", "", "bearer token required on /v1 (default: $WALLETSIM_TOKEN; none: no auth)")
	fs.StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics (HTTP payment requests by code, latency) at http://ADDR/metrics (host:port; port 0 picks one)")
	fs.BoolVar(&fresh, "fresh", false, "delete the topics at start instead of resuming their log (accepted payments, outcomes, idempotency keys)")
	f.register(fs, true)
	return cmd
}

func runServe(cmd *cobra.Command, f *apiFlags, addr string, fresh bool, metricsAddr string) error {
	if f.cfg.Token == "" {
		f.cfg.Token = os.Getenv("WALLETSIM_TOKEN")
	}
	cfg, err := f.config(f.scenario)
	if err != nil {
		return err
	}
	cfg.Fresh = fresh
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return cli.Usagef("--addr %s: %v", addr, err)
	}
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	m, msrv, err := serveMetrics(ctx, metricsAddr, metrics.RoleServe, cfg.Policy.Name, cmd.ErrOrStderr())
	if err != nil {
		ln.Close()
		return err
	}
	defer msrv.Close()
	api.LessGC()
	fin, err := api.Serve(ctx, cfg, ln, m.Middleware, out)
	if err != nil {
		return err
	}
	fin.WriteText(out)
	if !fin.Audit.OK() {
		return &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("invariants violated after serve")}
	}
	return nil
}
