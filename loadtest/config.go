package loadtest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/walletsim/walletsim/sim/scenario"
)

// Config configures one attack (watermill style: zero values take the
// defaults of setDefaults, then Validate names what is wrong).
type Config struct {
	Scenario *scenario.Compiled
	Target   string // base URL of the API
	Token    string
	Shape    *Shape // the whole attack's shape; a shard sends its share
	// Template maps payments to requests and answers to outcomes
	// (default: loadtest/templates/walletsim.yaml; Builtin() is the
	// hand-written encoder of walletsim's API).
	Template *Template
	// AbortOn are thresholds that stop the attack early.
	AbortOn []Threshold
	// InvalidShare of requests are invalid on purpose.
	InvalidShare float64
	Shard        int
	Shards       int
	// Out is the directory for results.bin (created if missing); empty:
	// no results.bin (the steps of a rate search).
	Out string
	// Timeout per request (default 30s); MaxWorkers bounds concurrent
	// requests (default 1,000).
	Timeout    time.Duration
	MaxWorkers uint64
	// Nonce keeps idempotency keys apart from other attacks on the same
	// server (default: the start time).
	Nonce string
	// Progress, if set, gets a line per second.
	Progress io.Writer
	// Client, if set, carries the requests, and its connections outlive
	// the attack (a rate search reuses them); otherwise Attack makes one
	// and closes its connections at the end.
	Client *http.Client
	// OnResult, if set, sees each result's status code (0: transport
	// error) and latency: attack --metrics-addr counts them.
	OnResult func(code int, latency time.Duration)
}

// Options is the former name of Config.
type Options = Config

func (c *Config) setDefaults() {
	if c.Shards == 0 {
		c.Shards = 1
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.MaxWorkers == 0 {
		c.MaxWorkers = 1000
	}
	if c.Nonce == "" {
		c.Nonce = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if c.Template == nil {
		c.Template = defaultTemplate()
	}
}

// Validate checks the configuration after defaults.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Scenario == nil {
		bad("loadtest: no scenario")
	}
	if c.Shape == nil {
		bad("loadtest: no shape")
	}
	// An empty target is allowed here (an in-process server is started
	// after the flags are checked); Attack refuses it.
	if u, err := url.Parse(c.Target); c.Target != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		bad("--target %q: want an http(s) base URL", c.Target)
	}
	if shards := max(c.Shards, 1); c.Shards < 0 || c.Shard < 0 || c.Shard >= shards {
		bad("shard %d/%d: want 0 <= i < n", c.Shard, shards)
	}
	if !(c.InvalidShare >= 0 && c.InvalidShare <= 1) {
		bad("invalid share %v: want 0-1", c.InvalidShare)
	}
	if c.Timeout < 0 {
		bad("timeout %s: want positive", c.Timeout)
	}
	if t := c.Template; t != nil && !t.builtin {
		if c.InvalidShare > 0 && len(t.Invalid) == 0 {
			bad("template %s: --invalid-share %v needs an invalid: section (the answer each invalid form must get)", t.Name, c.InvalidShare)
		}
		if t.Balance != nil && c.Shards > 1 {
			bad("template %s: the end-state check (balance:) needs the whole attack in one process, not shard %d/%d", t.Name, c.Shard, c.Shards)
		}
	}
	for _, th := range c.AbortOn {
		if th.Metric == "unexplained" && (c.Template == nil || c.Template.Balance == nil) {
			bad("threshold %q: needs a template with balance: (the end-state check)", th.Src)
		}
	}
	return errors.Join(errs...)
}

// defaultTemplate is walletsim.yaml, parsed once (a rate search runs an
// attack per step).
var defaultTemplate = sync.OnceValue(func() *Template {
	t, err := LoadTemplate(DefaultTemplate)
	if err != nil {
		panic("loadtest: the shipped template does not load: " + err.Error()) // a build defect, caught by its test
	}
	return t
})
