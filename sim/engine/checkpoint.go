package engine

import (
	"encoding/json"
	"fmt"
)

// Checkpoint is a processor's progress, written to the checkpoints topic
// after each epoch's events and saga records are acknowledged. A restarted
// processor rebuilds state from the events of epochs up to Epoch and resumes
// reading its input topics at the recorded offsets. JSON, because an
// operator reads it with kcat and it is one small record per epoch.
type Checkpoint struct {
	Partition int   `json:"partition"`
	Epoch     int64 `json:"epoch"`     // last epoch fully processed
	Commands  int64 `json:"commands"`  // first commands offset not yet consumed
	Transfers int64 `json:"transfers"` // first transfers offset not yet consumed
	LastGen   int64 `json:"last_gen"`  // the generator's last epoch, -1 if not yet known
	// Input offsets below which undecodable or misplaced records were
	// dead-lettered already: a restart rereads them and must not count
	// them twice.
	DeadCommands  int64 `json:"dead_commands,omitempty"`
	DeadTransfers int64 `json:"dead_transfers,omitempty"`
	Done          bool  `json:"done"`    // quiescent: nothing in flight after LastGen
	Events        int64 `json:"events"`  // events written so far (progress)
	Wallets       int   `json:"wallets"` // wallets held (progress)
	WallMS        int64 `json:"wall_ms"` // wall clock at write (operators only)
	// Session counts reopenings of a finished log (serve's restarts,
	// engine.Continue): a reopened partition's checkpoints outrank the
	// previous session's Done one at the same epoch.
	Session int64 `json:"session,omitempty"`
}

func (c *Checkpoint) encode() []byte {
	b, _ := json.Marshal(c)
	return b
}

func decodeCheckpoint(b []byte) (Checkpoint, error) {
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("checkpoint: %w", err)
	}
	return c, nil
}
