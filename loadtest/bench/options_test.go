package bench

import (
	"strings"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/run"
)

func TestOptionsValidate(t *testing.T) {
	sc, _, err := scenarios.LoadScenario("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	table, _, _, err := scenarios.LoadPolicy("walled-garden")
	if err != nil {
		t.Fatal(err)
	}
	good := Options{Run: run.Options{Scenario: sc, Policy: table}}
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"defaults", func(*Options) {}, ""},
		{"no scenario", func(o *Options) { o.Run.Scenario = nil }, "scenario and a policy"},
		{"partitions", func(o *Options) { o.Partitions = 5000 }, "partitions 5000"},
		{"message size", func(o *Options) { o.MessageBytes = -3 }, "message size -3"},
		{"ceiling", func(o *Options) { o.CeilingMessages = -1 }, "ceiling messages -1"},
	} {
		o := good
		tc.edit(&o)
		o.setDefaults()
		err := o.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
