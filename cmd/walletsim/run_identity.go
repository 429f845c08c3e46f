package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/internal/manifest"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/scenario"
)

// runIdentity is what this command knows of the run's identity: the
// scenario's and the policy's bytes, seed, partitions and epoch length.
// The payment count is left to the caller (a worker does not know it).
func runIdentity(data []byte, sc *scenario.Compiled, policy string) engine.Identity {
	id := engine.Identity{
		Seed: sc.Seed, Policy: policy, Partitions: sc.Partitions, EpochMS: sc.EpochMS,
		Version: manifest.BuildVersion(),
	}
	if len(data) > 0 {
		id.ScenarioSHA256 = manifest.Hash(data)
	}
	if _, _, f, err := scenarios.LoadPolicy(sc.Policy); err == nil && len(f.Data) > 0 {
		id.PolicySHA256 = manifest.Hash(f.Data)
	}
	return id
}

// identityUsage makes a log written by another run a usage error (exit 2):
// the flags given do not match the log, nothing at runtime failed.
func identityUsage(err error) error {
	var ie *engine.IdentityError
	if errors.As(err, &ie) {
		return cli.Usage(err)
	}
	return err
}

// usageOf makes a library's bad-input error (*run.InputError) a usage
// error (exit 2).
func usageOf(err error) error {
	var ie *run.InputError
	if errors.As(err, &ie) {
		return cli.Usage(err)
	}
	return err
}

// checkLogIdentity is verify's and replay's check of the log's recorded
// identity (engine.CheckLog); it names the run on w.
func checkLogIdentity(ctx context.Context, cfg bus.Config, topics bus.Topics, w io.Writer) error {
	have, ok, err := engine.CheckLog(ctx, cfg, topics, manifest.BuildVersion())
	if err != nil {
		return identityUsage(err)
	}
	if ok {
		fmt.Fprintln(w, "run identity:", have)
	}
	return nil
}
