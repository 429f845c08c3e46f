// Package kafkabus is walletsim's edge to Kafka, on segmentio/kafka-go:
// connection settings (SASL, TLS), topic administration, a writer tuned for
// an event store, and batched partition reads. Everything above it speaks
// Kafka only through this package, so the same code runs against the
// embedded broker, Apache Kafka and Redpanda.
package bus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// Config is how to reach a Kafka cluster.
type Config struct {
	Brokers  []string
	ClientID string
	// SASL: mechanism "", "plain", "scram-sha-256" or "scram-sha-512".
	SASLMechanism string
	SASLUser      string
	SASLPassword  string `json:"-"` // never logged or written to results
	// TLS: enabled by TLS or by a CA file.
	TLS         bool
	TLSCAFile   string
	TLSInsecure bool
	// Topics this process creates. ReplicationFactor 0 is
	// DefaultReplicationFactor and MinInsyncReplicas 0 is
	// DefaultMinInsyncReplicas, both capped at the cluster's broker count
	// (1 and 1 on the embedded broker). Retention 0 keeps records forever
	// (retention.ms=-1): commands, transfers and events are the source of
	// truth and checkpoints point into them, so time-based deletion would
	// lose money's history (a cluster's default is 7 days).
	ReplicationFactor int
	MinInsyncReplicas int
	Retention         time.Duration
}

// SetDefaults fills what was left empty.
func (c *Config) SetDefaults() {
	if c.ClientID == "" {
		c.ClientID = "walletsim"
	}
}

// Validate reports what is wrong, naming the setting.
func (c *Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("brokers: none given")
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fmt.Errorf("brokers: %q is not host:port", b)
		}
	}
	switch strings.ToLower(c.SASLMechanism) {
	case "", "plain", "scram-sha-256", "scram-sha-512":
	default:
		return fmt.Errorf("sasl mechanism %q: want plain, scram-sha-256 or scram-sha-512", c.SASLMechanism)
	}
	if c.SASLMechanism != "" && c.SASLUser == "" {
		return errors.New("sasl: a mechanism needs a user")
	}
	if c.TLSCAFile != "" {
		if _, err := os.Stat(c.TLSCAFile); err != nil {
			return fmt.Errorf("tls ca file: %w", err)
		}
	}
	return c.ValidateTopics()
}

// ValidateTopics checks the settings of the topics this process creates.
func (c *Config) ValidateTopics() error {
	switch {
	case c.ReplicationFactor < 0 || c.ReplicationFactor > 32767:
		return fmt.Errorf("replication factor %d: want 1 or more (0: the default)", c.ReplicationFactor)
	case c.MinInsyncReplicas < 0:
		return fmt.Errorf("min insync replicas %d: want 1 or more (0: the default)", c.MinInsyncReplicas)
	case c.ReplicationFactor > 0 && c.MinInsyncReplicas > c.ReplicationFactor:
		return fmt.Errorf("min insync replicas %d exceeds the replication factor %d: no write could succeed", c.MinInsyncReplicas, c.ReplicationFactor)
	case c.Retention < 0:
		return fmt.Errorf("retention %s: want a positive duration (0: keep forever)", c.Retention)
	case c.Retention > 0 && c.Retention < time.Millisecond:
		return fmt.Errorf("retention %s: under a millisecond", c.Retention)
	}
	return nil
}

// ParseBrokers splits a comma-separated broker list.
func ParseBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

func (c *Config) mechanism() (sasl.Mechanism, error) {
	switch strings.ToLower(c.SASLMechanism) {
	case "":
		return nil, nil
	case "plain":
		return plain.Mechanism{Username: c.SASLUser, Password: c.SASLPassword}, nil
	case "scram-sha-256":
		return scram.Mechanism(scram.SHA256, c.SASLUser, c.SASLPassword)
	case "scram-sha-512":
		return scram.Mechanism(scram.SHA512, c.SASLUser, c.SASLPassword)
	}
	return nil, fmt.Errorf("sasl mechanism %q unknown", c.SASLMechanism)
}

func (c *Config) tlsConfig() (*tls.Config, error) {
	if !c.TLS && c.TLSCAFile == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLSInsecure} //nolint:gosec // opt-in for test clusters
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls ca file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca file %s: no certificates", c.TLSCAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// Transport builds the transport Writers and Clients use.
func (c *Config) Transport() (*kafka.Transport, error) {
	m, err := c.mechanism()
	if err != nil {
		return nil, err
	}
	tc, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	return &kafka.Transport{ClientID: c.ClientID, SASL: m, TLS: tc, DialTimeout: 5 * time.Second, IdleTimeout: 5 * time.Minute}, nil
}

// Dialer builds the dialer Readers and Conns use.
func (c *Config) Dialer() (*kafka.Dialer, error) {
	m, err := c.mechanism()
	if err != nil {
		return nil, err
	}
	tc, err := c.tlsConfig()
	if err != nil {
		return nil, err
	}
	return &kafka.Dialer{ClientID: c.ClientID, SASLMechanism: m, TLS: tc, Timeout: 10 * time.Second, DualStack: true}, nil
}
