// Package broker runs an embedded Kafka-protocol broker (franz-go's kfake)
// so that walletsim works with zero setup. Clients reach it over TCP with the
// real wire protocol: kafka-go, kcat and any other Kafka client work unchanged,
// and the same code runs against Apache Kafka or Redpanda by pointing
// --brokers elsewhere.
package broker

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Config says how to start the embedded broker.
type Config struct {
	// Addr is host:port to listen on. Port 0 picks a free port.
	Addr string
	// DataDir persists the log; empty keeps everything in RAM.
	DataDir string
	// Partitions is the default partition count for auto-created topics.
	Partitions int
	// Topics are created at start with Partitions partitions each.
	Topics []string
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:0"
	}
	if c.Partitions == 0 {
		c.Partitions = 8
	}
}

// Validate reports what is wrong with the configuration.
func (c *Config) Validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("broker addr %q: %w", c.Addr, err)
	}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		return fmt.Errorf("broker addr %q: host must be an IP address or localhost", c.Addr)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("broker addr %q: port must be 0-65535", c.Addr)
	}
	if c.Partitions < 1 || c.Partitions > 1024 {
		return fmt.Errorf("broker partitions %d: must be 1-1024", c.Partitions)
	}
	return nil
}

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
}

// Start starts a single-node broker. The caller must Close it.
func Start(cfg Config) (*Broker, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(cfg.Addr)
	p, _ := strconv.Atoi(port)
	if host == "" {
		host = "127.0.0.1"
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(p),
		kfake.DefaultNumPartitions(cfg.Partitions),
		kfake.AllowAutoTopicCreation(),
		kfake.ListenFn(func(network, address string) (net.Listener, error) {
			_, port, err := net.SplitHostPort(address)
			if err != nil {
				return nil, err
			}
			return net.Listen(network, net.JoinHostPort(host, port))
		}),
	}
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("broker data dir: %w", err)
		}
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	if len(cfg.Topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(cfg.Partitions), cfg.Topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on %s: %w", cfg.Addr, err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return nil, errors.New("embedded broker has no listener")
	}
	return &Broker{cluster: c, addr: addrs[0]}, nil
}

// Addr is the host:port clients dial.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker and flushes its log to the data dir.
func (b *Broker) Close() { b.cluster.Close() }

// Control installs a request interceptor: the fault-injection hook. fn
// returns handled=false to let the broker serve the request normally.
func (b *Broker) Control(fn func(kmsg.Request) (kmsg.Response, error, bool)) {
	b.cluster.Control(fn)
}

// Cluster exposes the underlying kfake cluster for fault injection.
func (b *Broker) Cluster() *kfake.Cluster { return b.cluster }
