// Package scenarios ships the built-in scenarios and policies inside the
// binary, so `walletsim run quickstart` works from any directory; a path
// to a file on disk is always preferred over a built-in name.
package scenarios

import "embed"

// FS holds *.yaml scenarios and policies/*.yaml.
//
//go:embed *.yaml policies/*.yaml
var FS embed.FS

// SourcesYAML is calibration/sources.yaml: the source rows (cal:<id>) the
// scenarios, policies and code cite, read by sim/report/calibration. It
// sits in a subfolder because every top-level *.yaml is a scenario.
//
//go:embed calibration/sources.yaml
var SourcesYAML []byte
