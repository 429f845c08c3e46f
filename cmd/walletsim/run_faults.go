package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/faults"
	"github.com/walletsim/walletsim/sim/bus/netfault"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/scenario"
)

// A scenario's `faults:` key injects broker faults into the embedded
// broker for the run (package faults). The run must still finish with its
// invariants; what was injected and the retries it cost are reported in
// the table and under "faults" in summary.json.

var runFaults *faults.Injector

func init() {
	runOptionHooks = append(runOptionHooks, runFaultsOptions)
	runResultHooks = append(runResultHooks, runFaultsResult)
}

func runFaultsOptions(cmd *cobra.Command, o *run.Options) error {
	runFaults, runProxy = nil, nil // a previous Execute in the same process (tests)
	cfg, err := faults.FromScenario(o.Scenario.Faults, o.Scenario.Seed)
	if err != nil {
		return cli.Usage(err)
	}
	if o.NetFaults, err = netPlan(o.Scenario.Faults, o.Scenario.Seed, o.Topics.Events); err != nil {
		return cli.Usage(err)
	}
	if o.NetFaults.Enabled() {
		o.OnProxy = func(p *netfault.Proxy) { runProxy = p }
	}
	if !cfg.Enabled() {
		return nil
	}
	if len(o.Bus.Brokers) > 0 {
		return cli.Usagef("faults: the scenario's faults key drives the embedded broker; drop --brokers (a real cluster's faults are its own)")
	}
	prevBroker, prevEngine := o.OnBroker, o.OnEngine
	var eng atomic.Pointer[engine.Engine]
	o.OnBroker = func(b *embedded.Broker) error {
		if prevBroker != nil {
			if err := prevBroker(b); err != nil {
				return err
			}
		}
		in, err := faults.Inject(b, cfg, faults.Options{
			// A restart due after the processors finished would hit the
			// final audit, not the engine: skip it then.
			Busy: func() bool {
				e := eng.Load()
				if e == nil {
					return true
				}
				for _, d := range e.DoneEpochs() {
					if d < 1<<31 {
						return true
					}
				}
				return false
			},
			Logf: func(format string, a ...any) { fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", a...) },
		})
		runFaults = in
		return err
	}
	o.OnEngine = func(e *engine.Engine) {
		if prevEngine != nil {
			prevEngine(e)
		}
		eng.Store(e)
		in := runFaults // set: the embedded broker starts before the engine
		if in == nil {
			return
		}
		// restart_after counts from the first outcome: setup talks to the
		// broker with admin requests that are not retried, the processing
		// rides through a restart.
		go func() {
			for e.Resolved() == 0 {
				time.Sleep(10 * time.Millisecond)
			}
			in.Arm()
		}()
	}
	return nil
}

var runProxy *netfault.Proxy

// netPlan is the scenario's network faults (they work against --brokers
// too: the proxy sits in front of any broker).
func netPlan(f scenario.Faults, seed int64, events string) (netfault.Plan, error) {
	pl := netfault.Plan{Resets: f.Resets, LostResponses: f.LostResponses, Over: 10 * time.Second, Seed: f.Seed, LoseTopic: events}
	if pl.Seed == 0 {
		pl.Seed = seed
	}
	var err error
	if f.NetworkOver != "" {
		if pl.Over, err = time.ParseDuration(f.NetworkOver); err != nil {
			return pl, fmt.Errorf("faults.network_over: %w", err)
		}
	}
	if f.ResetEvery != "" {
		if pl.Every, err = time.ParseDuration(f.ResetEvery); err != nil {
			return pl, fmt.Errorf("faults.reset_every: %w", err)
		}
	}
	if err := pl.Validate(); err != nil {
		return pl, fmt.Errorf("faults: %w", err)
	}
	return pl, nil
}

func runFaultsResult(cmd *cobra.Command, out string, res *run.Result) error {
	if px := runProxy; px != nil {
		fmt.Fprintf(cmd.OutOrStdout(), "network faults: %d connections reset, %d produce responses lost; %d events redelivered (skipped by the audit)\n",
			px.Resets(), px.Lost(), res.Summary.Events.Redelivered)
	}
	in := runFaults
	if in == nil {
		return nil
	}
	in.Stop()
	rep := in.Report()
	// Fetch errors mostly do not show in retries: kafka-go's reader
	// reconnects after NOT_LEADER_OR_FOLLOWER by itself.
	fmt.Fprintf(cmd.OutOrStdout(), "faults: injected %d produce, %d fetch, %d commit errors, %d delayed requests, %d broker restarts; %d requests retried by the engine (the reader absorbs fetch errors by reconnecting)\n",
		rep.ProduceErrors, rep.FetchErrors, rep.CommitErrors, rep.DelayedRequests, rep.Restarts, res.Summary.Retries)
	if out == "" {
		return nil
	}
	// summary.json is written before result hooks run: add the section
	// at its end, keeping the file's field order.
	p := filepath.Join(out, "summary.json")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	body := bytes.TrimRight(b, "\n")
	if !bytes.HasSuffix(body, []byte("}")) || !json.Valid(b) {
		return fmt.Errorf("%s: not a JSON object", p)
	}
	sec, err := json.MarshalIndent(rep, "  ", "  ")
	if err != nil {
		return err
	}
	body = bytes.TrimRight(body[:len(body)-1], "\n ")
	body = append(body[:len(body):len(body)], `,
  "faults": `...)
	body = append(append(body, sec...), "\n}\n"...)
	return os.WriteFile(p, body, 0o644)
}
