// The plumbing the subcommands share: the Kafka flags, the scenario
// overrides, the run identity, the manifest and the metrics server.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/internal/manifest"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/metrics"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// busFlags are the Kafka connection flags every Kafka-facing command
// takes, bound to a bus.Config (the brokers list and the prefix aside).
type busFlags struct {
	c       bus.Config
	brokers string
	prefix  string
}

func (b *busFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&b.brokers, "brokers", "", "Kafka bootstrap servers host:port,... (default: an embedded broker)")
	fs.StringVar(&b.prefix, "topic-prefix", "walletsim", "prefix of the engine's topic names")
	fs.StringVar(&b.c.SASLMechanism, "sasl-mechanism", "", "SASL mechanism: plain, scram-sha-256 or scram-sha-512 (password from WALLETSIM_SASL_PASSWORD)")
	fs.StringVar(&b.c.SASLUser, "sasl-user", "", "SASL user")
	fs.BoolVar(&b.c.TLS, "tls", false, "connect with TLS")
	fs.StringVar(&b.c.TLSCAFile, "tls-ca", "", "CA certificate file for TLS")
	fs.BoolVar(&b.c.TLSInsecure, "tls-insecure", false, "skip TLS certificate verification (test clusters only)")
	fs.IntVar(&b.c.ReplicationFactor, "replication-factor", 0, "replicas of the topics this command creates (default 3, capped at the cluster's broker count: 1 on the embedded broker)")
	fs.IntVar(&b.c.MinInsyncReplicas, "min-insync-replicas", 0, "min.insync.replicas of the topics this command creates (default 2, capped at the replication factor: 1 on the embedded broker)")
	fs.DurationVar(&b.c.Retention, "retention", 0, "retention.ms of the commands, transfers, events and checkpoints topics this command creates (default: forever, retention.ms=-1)")
}

// registerExternal registers the flags for a command that reads an
// existing log (external): its --brokers is required, and says so.
func (b *busFlags) registerExternal(fs *pflag.FlagSet) {
	b.register(fs)
	fs.Lookup("brokers").Usage = "Kafka bootstrap servers host:port,... (required: the cluster that holds the log; an embedded broker would be empty)"
}

// config builds the connection; the password only ever comes from the
// environment, never a flag, so it stays out of shell history and ps.
func (b *busFlags) config() (bus.Config, error) {
	c := b.c
	c.Brokers, c.SASLPassword = bus.ParseBrokers(b.brokers), os.Getenv("WALLETSIM_SASL_PASSWORD")
	if len(c.Brokers) == 0 {
		if err := c.ValidateTopics(); err != nil {
			return c, cli.Usage(fmt.Errorf("--replication-factor/--min-insync-replicas/--retention: %w", err))
		}
		return c, nil
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return c, cli.Usage(err)
	}
	return c, nil
}

// external is config for commands that read an existing log: they need a
// standing cluster, since an embedded broker would be empty.
func (b *busFlags) external(cmd *cobra.Command) (bus.Config, error) {
	c, err := b.config()
	if err != nil {
		return c, err
	}
	return c, needBrokers(c, cmd)
}

func (b *busFlags) topics() bus.Topics { return bus.DefaultTopics(b.prefix) }

func needBrokers(c bus.Config, cmd *cobra.Command) error {
	if len(c.Brokers) == 0 {
		return cli.Usagef("%s needs --brokers host:port (the embedded broker lives only as long as the command that started it; run `walletsim broker` for a standing one)", cmd.CommandPath())
	}
	return nil
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// serveMetrics is --metrics-addr: walletsim's Prometheus metrics at addr
// (no addr, no metrics: nil, and a nil server that closes as nothing).
func serveMetrics(ctx context.Context, addr, role, policy string, stderr io.Writer) (*metrics.Metrics, *metrics.Server, error) {
	if addr == "" {
		return nil, nil, nil
	}
	m, srv, err := metrics.Listen(ctx, addr, metrics.Options{Role: role, Policy: policy, Version: manifest.Version})
	if err != nil {
		return nil, nil, cli.Usage(err)
	}
	fmt.Fprintf(stderr, "metrics: serving %s\n", srv.URL())
	return m, srv, nil
}

// existingLog is external plus the check of the log's recorded identity
// (engine.CheckLog) that verify and replay make; it names the run.
func (b *busFlags) existingLog(cmd *cobra.Command) (bus.Config, error) {
	c, err := b.external(cmd)
	if err != nil {
		return c, err
	}
	have, ok, err := engine.CheckLog(cmd.Context(), c, b.topics(), manifest.BuildVersion())
	if ok {
		fmt.Fprintln(cmd.ErrOrStderr(), "run identity:", have)
	}
	return c, err
}

// printReport prints v as indented JSON, or as text.
func printReport(w io.Writer, asJSON bool, v any, text func(io.Writer)) {
	if !asJSON {
		text(w)
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// scenarioFlags are the overrides every command that runs a scenario
// takes. Each command adds the ones that make sense for it; resolve applies
// only those the user set, so the scenario file and WALLETSIM_* variables
// keep the rest.
type scenarioFlags struct {
	payments   int64
	seed       int64
	partitions int
	policy     string
	// alwaysPayments: the command's --payments has a default that applies
	// even when the flag is not given (bench measures a fixed size).
	alwaysPayments bool
}

func (f *scenarioFlags) addPayments(fs *pflag.FlagSet, def int64, usage string) {
	fs.Int64Var(&f.payments, "payments", def, usage)
	f.alwaysPayments = def > 0
}

func (f *scenarioFlags) addSeed(fs *pflag.FlagSet) {
	fs.Int64Var(&f.seed, "seed", 0, "random seed (overrides the scenario)")
}

func (f *scenarioFlags) addPartitions(fs *pflag.FlagSet) {
	fs.IntVar(&f.partitions, "partitions", 0, "partitions per topic (overrides the scenario)")
}

func (f *scenarioFlags) addPolicy(fs *pflag.FlagSet) {
	fs.StringVar(&f.policy, "policy", "", "interoperability policy: built-in name or YAML file (overrides the scenario)")
}

// overrides are the flags the user set (and --payments when the command
// gives it a default), the rest left to the scenario.
func (f *scenarioFlags) overrides(cmd *cobra.Command) scenarios.Overrides {
	changed := func(flag string) bool { return cmd.Flags().Lookup(flag) != nil && cmd.Flags().Changed(flag) }
	o := scenarios.Overrides{Policy: f.policy}
	if changed("payments") || f.alwaysPayments {
		o.Payments = &f.payments
	}
	if changed("seed") {
		o.Seed = &f.seed
	}
	if changed("partitions") {
		o.Partitions = &f.partitions
	}
	return o
}

// args are the overrides as a child `walletsim run`'s flags.
func (f *scenarioFlags) args(cmd *cobra.Command) []string { return f.overrides(cmd).Args() }

// resolve reads the scenario (WALLETSIM_* applied), applies the flags the
// user set, then the hooks, and validates the result. Every input error
// is a usage error (exit 2).
func (f *scenarioFlags) resolve(cmd *cobra.Command, name string, hooks ...func(*scenario.Scenario) error) (*scenario.Compiled, scenarios.File, error) {
	s, src, err := scenarios.ReadScenario(name)
	if err != nil {
		return nil, src, cli.Usage(err)
	}
	if err := f.overrides(cmd).Apply(s); err != nil {
		return nil, src, cli.Usage(err)
	}
	for _, h := range hooks {
		if err := h(s); err != nil {
			return nil, src, err
		}
	}
	sc, err := scenarios.Recompile(src, s)
	if err != nil {
		return nil, src, cli.Usage(err)
	}
	return sc, src, nil
}

// scaleHook is --scale PRESET (when on): 1k, 100k, 1M or 10M wallets
// with consumers and merchants in proportion, and 20k, 1M, 5M or 20M
// payments unless --payments says otherwise (scenario.Scale).
func scaleHook(cmd *cobra.Command, preset string, on bool) func(*scenario.Scenario) error {
	return func(s *scenario.Scenario) error {
		if !on {
			return nil
		}
		p, err := scenario.ParsePreset(preset)
		if err != nil {
			return cli.Usage(fmt.Errorf("--scale: %w", err))
		}
		if err := scenario.Scale(s, p, cmd.Flags().Changed("payments")); err != nil {
			return cli.Usage(fmt.Errorf("--scale %s: %w", p.Name, err))
		}
		return nil
	}
}

// loadPolicy loads a policy file or built-in name as a usage error on
// failure.
func loadPolicy(name string) (*route.Table, *route.Policy, error) {
	table, pol, _, err := scenarios.LoadPolicy(name)
	if err != nil {
		return nil, nil, cli.Usage(err)
	}
	return table, pol, nil
}
