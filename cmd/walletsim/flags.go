package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/bus"
	"golang.org/x/term"
)

// busFlags are the Kafka connection flags every Kafka-facing command takes.
type busFlags struct {
	brokers     string
	prefix      string
	saslMech    string
	saslUser    string
	tls         bool
	tlsCA       string
	tlsInsecure bool
	replicas    int
	minISR      int
	retention   time.Duration
}

func (b *busFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&b.brokers, "brokers", "", "Kafka bootstrap servers host:port,... (default: an embedded broker)")
	fs.StringVar(&b.prefix, "topic-prefix", "walletsim", "prefix of the engine's topic names")
	fs.StringVar(&b.saslMech, "sasl-mechanism", "", "SASL mechanism: plain, scram-sha-256 or scram-sha-512 (password from WALLETSIM_SASL_PASSWORD)")
	fs.StringVar(&b.saslUser, "sasl-user", "", "SASL user")
	fs.BoolVar(&b.tls, "tls", false, "connect with TLS")
	fs.StringVar(&b.tlsCA, "tls-ca", "", "CA certificate file for TLS")
	fs.BoolVar(&b.tlsInsecure, "tls-insecure", false, "skip TLS certificate verification (test clusters only)")
	fs.IntVar(&b.replicas, "replication-factor", 0, "replicas of the topics this command creates (default 3, capped at the cluster's broker count: 1 on the embedded broker)")
	fs.IntVar(&b.minISR, "min-insync-replicas", 0, "min.insync.replicas of the topics this command creates (default 2, capped at the replication factor: 1 on the embedded broker)")
	fs.DurationVar(&b.retention, "retention", 0, "retention.ms of the commands, transfers, events and checkpoints topics this command creates (default: forever, retention.ms=-1)")
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
	c := bus.Config{
		Brokers: bus.ParseBrokers(b.brokers), SASLMechanism: b.saslMech, SASLUser: b.saslUser,
		SASLPassword: os.Getenv("WALLETSIM_SASL_PASSWORD"), TLS: b.tls, TLSCAFile: b.tlsCA, TLSInsecure: b.tlsInsecure,
		ReplicationFactor: b.replicas, MinInsyncReplicas: b.minISR, Retention: b.retention,
	}
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

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
