package manifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCollect(t *testing.T) {
	t.Setenv("WALLETSIM_COMMIT", "0123456789abcdef0123456789abcdef01234567")
	dir := t.TempDir()
	scen := filepath.Join(dir, "gba-lunch-rush.yaml")
	if err := os.WriteFile(scen, []byte("wallets: 1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := Collect(Options{ScenarioFile: scen, Seed: 42, Policy: "pboc-2018", Broker: BrokerEmbedded})
	want := Manifest{
		Version:      m.Version,
		Commit:       "0123456789abcdef0123456789abcdef01234567",
		GoVersion:    runtime.Version(),
		GOOS:         runtime.GOOS,
		GOARCH:       runtime.GOARCH,
		CPUModel:     m.CPUModel,
		CPUCount:     runtime.NumCPU(),
		GOMAXPROCS:   runtime.GOMAXPROCS(0),
		ScenarioFile: "gba-lunch-rush.yaml",
		Seed:         42,
		Policy:       "pboc-2018",
		Broker:       "embedded",
	}
	want.ScenarioSHA256 = Hash([]byte("wallets: 1000\n"))
	if m != want {
		t.Errorf("Collect = %+v\nwant      %+v", m, want)
	}
	if m.Version == "" || m.CPUModel == "" {
		t.Errorf("empty version %q or CPU model %q", m.Version, m.CPUModel)
	}
	// Only the scenario's base name is recorded: paths can name people.
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if strings.Contains(string(b), dir) || host != "" && strings.Contains(string(b), `"`+host+`"`) {
		t.Errorf("manifest leaks a path or the hostname: %s", b)
	}
	for _, key := range []string{"walletsim_version", "commit", "go_version", "goos", "goarch", "cpu_model", "cpu_count", "scenario_sha256", "seed", "policy", "broker"} {
		if !strings.Contains(string(b), `"`+key+`":`) {
			t.Errorf("JSON has no %q: %s", key, b)
		}
	}
	// Content given directly is hashed without reading the file.
	m2 := Collect(Options{ScenarioFile: "/nonexistent/x.yaml", Scenario: []byte("wallets: 1000\n")})
	if m2.ScenarioSHA256 != want.ScenarioSHA256 || m2.ScenarioFile != "x.yaml" {
		t.Errorf("Collect with content: %q %q", m2.ScenarioSHA256, m2.ScenarioFile)
	}
	if m3 := Collect(Options{ScenarioFile: "/nonexistent/x.yaml"}); m3.ScenarioSHA256 != "" {
		t.Errorf("unreadable scenario hashed to %q", m3.ScenarioSHA256)
	}
}

func TestHash(t *testing.T) {
	// sha256("abc"), FIPS 180-2 test vector.
	if got := Hash([]byte("abc")); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("Hash(abc) = %s", got)
	}
	if _, err := HashFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("HashFile of a missing file: no error")
	}
}

func TestCommitFallback(t *testing.T) {
	t.Setenv("WALLETSIM_COMMIT", "")
	_, commit, _ := buildVersion()
	// go test does not stamp VCS information into test binaries, so the
	// commit comes from git in the working directory, or is unknown.
	want := gitHead()
	if want == "" {
		want = "unknown"
	}
	if commit != want {
		t.Errorf("commit %q, want %q", commit, want)
	}
	t.Setenv("WALLETSIM_COMMIT", " feedface ")
	if _, commit, _ := buildVersion(); commit != "feedface" {
		t.Errorf("WALLETSIM_COMMIT ignored: commit %q", commit)
	}
}

func TestParseCPUInfo(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"x86", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)  CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n", "Intel(R) Xeon(R) CPU @ 2.20GHz"},
		{"arm hardware", "processor\t: 0\nBogoMIPS\t: 50.00\nHardware\t: BCM2835\n", "BCM2835"},
		{"arm processor", "Processor\t: ARMv7 Processor rev 4 (v7l)\nprocessor\t: 0\n", "ARMv7 Processor rev 4 (v7l)"},
		{"arm64 ids", "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n", "arm implementer 0x41 part 0xd0c"},
		{"empty", "", ""},
	} {
		if got := parseCPUInfo([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: parseCPUInfo = %q, want %q", tc.name, got, tc.want)
		}
	}
	old := cpuInfoPath
	defer func() { cpuInfoPath = old }()
	cpuInfoPath = filepath.Join(t.TempDir(), "none")
	if runtime.GOOS != "darwin" {
		if got := cpuModel(); got != "unknown" {
			t.Errorf("cpuModel without cpuinfo = %q, want unknown", got)
		}
	}
}

func TestDiff(t *testing.T) {
	a := Manifest{Version: "v1", Commit: "aaa", GoVersion: "go1.26.8", CPUModel: "AMD EPYC 7B13", CPUCount: 2, Seed: 42, Broker: "embedded"}
	if d := Diff(a, a); len(d) != 0 {
		t.Errorf("Diff(a, a) = %q", d)
	}
	b := a
	b.Commit, b.CPUCount, b.Broker, b.Dirty = "bbb", 8, "", true
	got := Diff(a, b)
	want := []string{
		`commit: "aaa" (baseline) vs "bbb" (now)`,
		`dirty: false (baseline) vs true (now)`,
		`cpu_count: 2 (baseline) vs 8 (now)`,
		`broker: "embedded" (baseline) vs none (now)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Diff =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
