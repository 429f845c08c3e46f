// Package manifest records what a result was measured with: the walletsim
// build, the Go toolchain, the machine's CPU, the scenario, seed, policy and
// broker. Two results are comparable when their manifests match; the gate
// warns about every field that differs. Nothing identifying a person or a
// host is recorded: no hostname, user name or paths beyond a file's base name.
package manifest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Version is the walletsim version; release builds set it with
// -ldflags "-X github.com/walletsim/walletsim/internal/manifest.Version=v1.2.3".
// When empty, the main module's version from the build info is used.
var Version = ""

// Broker kinds.
const (
	BrokerEmbedded = "embedded"
	BrokerExternal = "external"
)

// Options describe the run a manifest is collected for.
type Options struct {
	// ScenarioFile names the scenario; only its base name is recorded.
	ScenarioFile string
	// Scenario is the scenario file's content, hashed into ScenarioSHA256.
	// When nil and ScenarioFile is set, the file is read; a read error
	// leaves the hash empty (HashFile reports it).
	Scenario []byte
	Seed     int64
	Policy   string
	// Broker is BrokerEmbedded or BrokerExternal.
	Broker string
}

// Manifest is what a result was measured with. It is written under the
// "manifest" key of every result file.
type Manifest struct {
	Version        string `json:"walletsim_version"`
	Commit         string `json:"commit"`
	Dirty          bool   `json:"dirty,omitempty"`
	GoVersion      string `json:"go_version"`
	GOOS           string `json:"goos"`
	GOARCH         string `json:"goarch"`
	CPUModel       string `json:"cpu_model"`
	CPUCount       int    `json:"cpu_count"`
	GOMAXPROCS     int    `json:"gomaxprocs"`
	ScenarioFile   string `json:"scenario_file,omitempty"`
	ScenarioSHA256 string `json:"scenario_sha256,omitempty"`
	Seed           int64  `json:"seed"`
	Policy         string `json:"policy,omitempty"`
	Broker         string `json:"broker,omitempty"`
}

// Collect gathers the manifest for a run. It never fails: what cannot be
// found is left empty or "unknown".
func Collect(opts Options) Manifest {
	m := Manifest{
		GoVersion:  runtime.Version(),
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		CPUModel:   cpuModel(),
		CPUCount:   runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Seed:       opts.Seed,
		Policy:     opts.Policy,
		Broker:     opts.Broker,
	}
	m.Version, m.Commit, m.Dirty = buildVersion()
	if opts.ScenarioFile != "" {
		m.ScenarioFile = filepath.Base(opts.ScenarioFile)
	}
	switch {
	case opts.Scenario != nil:
		m.ScenarioSHA256 = Hash(opts.Scenario)
	case opts.ScenarioFile != "":
		m.ScenarioSHA256, _ = HashFile(opts.ScenarioFile)
	}
	return m
}

// Hash is the hex SHA-256 of data.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// HashFile is the hex SHA-256 of a file's content.
func HashFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return Hash(data), nil
}

// BuildVersion is this binary's walletsim version: Version when set at
// link time, else the module version from the build info, else "(devel)".
func BuildVersion() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

// buildVersion returns the version, the VCS commit and whether the tree was
// modified. The commit comes from WALLETSIM_COMMIT, else the build info
// (vcs.revision), else `git rev-parse HEAD` in the working directory.
func buildVersion() (version, commit string, dirty bool) {
	version = Version
	if info, ok := debug.ReadBuildInfo(); ok {
		if version == "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if version == "" {
		version = "(devel)"
	}
	if c := strings.TrimSpace(os.Getenv("WALLETSIM_COMMIT")); c != "" {
		return version, c, false
	}
	if commit == "" {
		commit = gitHead()
	}
	if commit == "" {
		commit = "unknown"
	}
	return version, commit, dirty
}

func gitHead() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	c := strings.TrimSpace(string(out))
	if len(c) < 7 || strings.ContainsAny(c, " \n") {
		return ""
	}
	return c
}

// cpuInfoPath is read for the CPU model; tests point it elsewhere.
var cpuInfoPath = "/proc/cpuinfo"

func cpuModel() string {
	if data, err := os.ReadFile(cpuInfoPath); err == nil {
		if m := parseCPUInfo(data); m != "" {
			return m
		}
	}
	if runtime.GOOS == "darwin" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "sysctl", "-n", "machdep.cpu.brand_string").Output(); err == nil {
			if m := strings.TrimSpace(string(out)); m != "" {
				return m
			}
		}
	}
	return "unknown"
}

// parseCPUInfo finds the CPU model in /proc/cpuinfo: "model name" on x86,
// else "Hardware", "Processor" or "cpu model" as some ARM and MIPS kernels
// write, else the ARM implementer and part numbers.
func parseCPUInfo(data []byte) string {
	found := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.Join(strings.Fields(v), " ")
		if _, seen := found[k]; !seen && v != "" {
			found[k] = v
		}
	}
	for _, k := range []string{"model name", "hardware", "processor", "cpu model"} {
		if v := found[k]; v != "" && (k != "processor" || strings.Trim(v, "0123456789") != "") {
			return v
		}
	}
	if impl := found["cpu implementer"]; impl != "" {
		return "arm implementer " + impl + " part " + found["cpu part"]
	}
	return ""
}

// Diff lists the fields that differ between a (the baseline) and b (the
// result), one line each: `cpu_model: "AMD EPYC 7B13" (baseline) vs
// "Intel Xeon" (now)`. Every field counts, the commit included: the gate
// prints the lines as warnings, not failures.
func Diff(a, b Manifest) []string {
	var out []string
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	t := va.Type()
	for i := 0; i < t.NumField(); i++ {
		x, y := va.Field(i).Interface(), vb.Field(i).Interface()
		if x == y {
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out = append(out, fmt.Sprintf("%s: %s (baseline) vs %s (now)", name, show(x), show(y)))
	}
	return out
}

func show(v any) string {
	if s, ok := v.(string); ok && s == "" {
		return "none"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
