package main

import (
	"crypto/sha256"
	"encoding/hex"
	"runtime"
)

// collectManifest records what a result was measured on. The gate's
// manifest package replaces this with the full record when it lands.
var collectManifest = func(scenarioPath string, data []byte, seed int64, policy, broker string) any {
	sum := sha256.Sum256(data)
	return map[string]any{
		"scenario_file": scenarioPath, "scenario_sha256": hex.EncodeToString(sum[:]),
		"seed": seed, "policy": policy, "broker": broker,
		"go_version": runtime.Version(), "cpus": runtime.NumCPU(), "goos": runtime.GOOS, "goarch": runtime.GOARCH,
	}
}
