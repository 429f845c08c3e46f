package api

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// TestBigPopulationLogOnDisk: from bigPopulation wallets an embedded log
// lives in a temporary directory and the GC collects at bigGOGC (in RAM
// with serve's 10x GC headroom, 1.2M wallets were 1.4 KB a wallet); Close
// removes the directory and restores the GC.
func TestBigPopulationLogOnDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own server")
	}
	old := bigPopulation
	bigPopulation = 1 // the test scenario's few thousand wallets count as big
	defer func() { bigPopulation = old }()
	gcBefore := debug.SetGCPercent(1000)
	defer debug.SetGCPercent(gcBefore)

	srv, hs := startTestServer(t, nil)
	defer hs.Close()
	dir := srv.tmpDir
	if dir == "" {
		t.Fatal("no temporary data dir for a big population")
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "partitions", "*")); len(m) == 0 {
		t.Fatalf("%s holds no partitions: the log is not on disk", dir)
	}
	if os.Getenv("GOGC") == "" {
		if p := debug.SetGCPercent(-1); p != bigGOGC {
			debug.SetGCPercent(p)
			t.Fatalf("GC percent %d while serving a big population, want %d", p, bigGOGC)
		} else {
			debug.SetGCPercent(p)
		}
	}
	if _, err := srv.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s left after Close: %v", dir, err)
	}
	if p := debug.SetGCPercent(1000); os.Getenv("GOGC") == "" && p != 1000 {
		t.Fatalf("GC percent %d after Close, want the 1000 from before Start", p)
	}
}
