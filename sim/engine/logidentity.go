package engine

import (
	"context"
	"fmt"

	"github.com/walletsim/walletsim/sim/bus"
)

// CheckLog is verify's and replay's check of a log they read: its
// recorded identity (none on logs older than the identity topic: ok false,
// no check) against the partition count of its events topic and this
// binary's version. A mismatch is an *IdentityError.
func CheckLog(ctx context.Context, cfg bus.Config, topics bus.Topics, version string) (Identity, bool, error) {
	admin, err := bus.NewClient(cfg)
	if err != nil {
		return Identity{}, false, err
	}
	parts, err := admin.Partitions(ctx, topics.Events)
	if err != nil {
		return Identity{}, false, err
	}
	return CheckIdentity(ctx, cfg, topics, Identity{Partitions: parts, Version: version})
}

// String names the run: seed, policy, partitions, payments, epoch,
// scenario hash and the version that wrote it.
func (id Identity) String() string {
	return fmt.Sprintf("seed %d, policy %s, %d partitions, %d payments, epoch %d ms, scenario sha256 %.12s, walletsim %s",
		id.Seed, id.Policy, id.Partitions, id.Payments, id.EpochMS, id.ScenarioSHA256, id.Version)
}
