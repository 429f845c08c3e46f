package calibration

import (
	"fmt"
	"strings"
)

// Mode is how much of the calibration check a run prints: "summary" (one
// line and the rows that are off), "table" (every row) or "off". It is a
// flag value (String, Set, Type).
type Mode string

func (m *Mode) String() string { return string(*m) }

// Type names the values in a flag's help.
func (m *Mode) Type() string { return "summary|table|off" }

// Set accepts the modes and their usual synonyms (true, on; full; false, none).
func (m *Mode) Set(v string) error {
	switch strings.ToLower(v) {
	case "summary", "true", "on":
		*m = "summary"
	case "table", "full":
		*m = "table"
	case "off", "false", "none":
		*m = "off"
	default:
		return fmt.Errorf("want summary, table or off, got %q", v)
	}
	return nil
}
