// Package broker runs an embedded Kafka-protocol broker (franz-go's kfake)
// so that walletsim works with zero setup. Clients reach it over TCP with the
// real wire protocol: kafka-go, kcat and any other Kafka client work unchanged,
// and the same code runs against Apache Kafka or Redpanda by pointing
// --brokers elsewhere.
package embedded

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

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
	cfg  Config
	addr string

	mu      sync.Mutex
	cluster *kfake.Cluster
	hooks   []func(*kfake.Cluster)
}

// Start starts a single-node broker. The caller must Close it.
func Start(cfg Config) (*Broker, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := newCluster(cfg, true)
	if err != nil {
		return nil, err
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return nil, errors.New("embedded broker has no listener")
	}
	return &Broker{cfg: cfg, cluster: c, addr: addrs[0]}, nil
}

func newCluster(cfg Config, seed bool) (*kfake.Cluster, error) {
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
	if seed && len(cfg.Topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(cfg.Partitions), cfg.Topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on %s: %w", cfg.Addr, err)
	}
	return c, nil
}

// Addr is the host:port clients dial. It stays the same across Restart.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker and flushes its log to the data dir.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cluster != nil {
		b.cluster.Close()
		b.cluster = nil
	}
}

// Restart stops the broker and starts it again on the same address from
// its data dir, the way an operator restarts a Kafka node: every client
// connection drops, acknowledged records survive, clients reconnect. Hooks
// registered with OnCluster run again on the new cluster (faults are not
// part of the log). A broker without a data dir cannot restart: it would
// come back empty.
func (b *Broker) Restart() error {
	if b.cfg.DataDir == "" {
		return errors.New("broker restart: needs a data dir (a RAM broker would lose the log)")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cluster == nil {
		return errors.New("broker restart: broker is closed")
	}
	b.cluster.Close()
	b.cluster = nil
	cfg := b.cfg
	cfg.Addr = b.addr
	var c *kfake.Cluster
	var err error
	// The old listener's port can take a moment to be free again.
	for i := 0; i < 50; i++ {
		if c, err = newCluster(cfg, false); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("broker restart: %w", err)
	}
	b.cluster = c
	for _, h := range b.hooks {
		h(c)
	}
	return nil
}

// OnCluster runs fn on the running cluster now and again after every
// Restart: how fault injection (Control, Fault) survives a restart.
func (b *Broker) OnCluster(fn func(*kfake.Cluster)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hooks = append(b.hooks, fn)
	if b.cluster != nil {
		fn(b.cluster)
	}
}

// Control installs a request interceptor on the running cluster: the
// fault-injection hook. fn returns handled=false to let the broker serve
// the request normally. It does not survive Restart; use OnCluster for
// that.
func (b *Broker) Control(fn func(kmsg.Request) (kmsg.Response, error, bool)) {
	b.Cluster().Control(fn)
}

// Cluster exposes the running kfake cluster for fault injection.
func (b *Broker) Cluster() *kfake.Cluster {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cluster
}

// Records is the number of records topic holds (0 if it does not exist),
// read from the broker's own state: no client metadata cache in between,
// so a topic deleted and recreated a moment ago counts right.
func (b *Broker) Records(topic string) int64 {
	c := b.Cluster()
	if c == nil {
		return 0
	}
	var n int64
	for _, p := range c.PartitionInfos(topic) {
		n += p.HighWatermark - p.LogStartOffset
	}
	return n
}
