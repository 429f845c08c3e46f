// Package config loads scenario and policy YAML files with viper, strictly:
// an unknown key is an error naming the file and the key, because a typo
// silently ignored is a wrong experiment. Built-in files (package scenarios)
// are found by name; a path on disk always wins.
package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/viper"
	"github.com/walletsim/walletsim/sim/route"
	"github.com/walletsim/walletsim/sim/scenario"
)

// DefaultPolicy is the policy of a scenario that names none: the
// interoperability of mid-2024, the latest era cal:defaults.interop-eras records.
const DefaultPolicy = "unionpay-open-2024"

// File is a scenario or policy file and where it came from.
type File struct {
	Name string // what the user typed
	Path string // file path, or "builtin:NAME"
	Data []byte
}

// find resolves a path or a built-in name (dir is "" or "policies").
func find(name, dir string) (File, error) {
	if b, err := os.ReadFile(name); err == nil {
		return File{Name: name, Path: name, Data: b}, nil
	} else if strings.ContainsAny(name, `/\`) || strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
		if !errors.Is(err, fs.ErrNotExist) || !isBuiltinPath(name) {
			return File{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(name), ".yaml"), ".yml")
	p := base + ".yaml"
	if dir != "" {
		p = dir + "/" + p
	}
	b, err := fs.ReadFile(FS, p)
	if err != nil {
		return File{}, fmt.Errorf("%s: no such file, and no built-in %s of that name (built-ins: %s)", name, kindOf(dir), strings.Join(Builtins(dir), ", "))
	}
	return File{Name: name, Path: "builtin:" + p, Data: b}, nil
}

// isBuiltinPath lets "scenarios/quickstart.yaml" resolve to the embedded
// copy when run outside the repository.
func isBuiltinPath(name string) bool {
	n := filepath.ToSlash(name)
	return strings.HasPrefix(n, "scenarios/") || strings.Contains(n, "/scenarios/")
}

func kindOf(dir string) string {
	if dir == "policies" {
		return "policy"
	}
	return "scenario"
}

// Builtins lists the built-in scenario (dir "") or policy names.
func Builtins(dir string) []string {
	pat := "*.yaml"
	if dir != "" {
		pat = dir + "/*.yaml"
	}
	m, _ := fs.Glob(FS, pat)
	out := make([]string, 0, len(m))
	for _, p := range m {
		out = append(out, strings.TrimSuffix(filepath.Base(p), ".yaml"))
	}
	return out
}

var keyInErr = regexp.MustCompile(`has invalid keys: (.*)`)

// decode reads YAML into out, rejecting unknown keys. env binds
// WALLETSIM_<KEY> for the listed top-level keys.
func decode(src File, out any, env []string) error {
	v := viper.New()
	v.SetConfigType("yaml")
	v.SetEnvPrefix("WALLETSIM")
	for _, k := range env {
		if err := v.BindEnv(k); err != nil {
			return err
		}
	}
	if err := v.ReadConfig(bytes.NewReader(src.Data)); err != nil {
		return fmt.Errorf("%s: not valid YAML: %w", src.Name, err)
	}
	if err := v.UnmarshalExact(out); err != nil {
		msg := err.Error()
		if m := keyInErr.FindStringSubmatch(msg); m != nil {
			return fmt.Errorf("%s: unknown key %s", src.Name, strings.TrimSpace(m[1]))
		}
		return fmt.Errorf("%s: %s", src.Name, oneLine(msg))
	}
	return nil
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "decoding failed due to the following error(s):", "")
	return strings.Join(strings.Fields(s), " ")
}

// ScenarioEnv are the keys WALLETSIM_* variables may override.
var ScenarioEnv = []string{"seed", "payments", "policy", "partitions", "rate", "epoch", "duration"}

// ReadScenario reads a scenario file or built-in name (env overrides
// applied) without validating it, so flags can override it first; call
// Recompile after.
func ReadScenario(name string) (*scenario.Scenario, File, error) {
	src, err := find(name, "")
	if err != nil {
		return nil, src, err
	}
	var s scenario.Scenario
	if err := decode(src, &s, ScenarioEnv); err != nil {
		return nil, src, err
	}
	return &s, src, nil
}

// LoadScenario reads and compiles a scenario file or built-in name.
func LoadScenario(name string) (*scenario.Compiled, File, error) {
	s, src, err := ReadScenario(name)
	if err != nil {
		return nil, src, err
	}
	c, err := scenario.Compile(s)
	if err != nil {
		return nil, src, prefixAll(src.Name, err)
	}
	return c, src, nil
}

// LoadScaled is LoadScenario resized to the scale preset named (as run
// --scale does, the preset's payments included; "" is LoadScenario).
func LoadScaled(name, preset string) (*scenario.Compiled, File, error) {
	c, src, err := LoadScenario(name)
	if err != nil || preset == "" {
		return c, src, err
	}
	p, err := scenario.ParsePreset(preset)
	if err != nil {
		return nil, src, err
	}
	s := *c.Scenario
	if err := scenario.Scale(&s, p, false); err != nil {
		return nil, src, fmt.Errorf("%s: %w", src.Name, err)
	}
	c, err = Recompile(src, &s)
	return c, src, err
}

// Recompile re-validates a scenario after flags changed it.
func Recompile(src File, s *scenario.Scenario) (*scenario.Compiled, error) {
	c, err := scenario.Compile(s)
	if err != nil {
		return nil, prefixAll(src.Name, err)
	}
	return c, nil
}

// LoadPolicy reads and compiles a policy file or built-in name.
func LoadPolicy(name string) (*route.Table, *route.Policy, File, error) {
	src, err := find(name, "policies")
	if err != nil {
		return nil, nil, src, err
	}
	var p route.Policy
	if err := decode(src, &p, nil); err != nil {
		return nil, nil, src, err
	}
	t, err := route.Compile(&p)
	if err != nil {
		return nil, nil, src, fmt.Errorf("%s: %w", src.Name, err)
	}
	return t, &p, src, nil
}

func prefixAll(name string, err error) error {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		out = append(out, name+": "+line)
	}
	return errors.New(strings.Join(out, "\n"))
}
