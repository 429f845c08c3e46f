package run

import (
	"strings"
	"testing"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/ledger"
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
	ok := Options{Scenario: sc, Policy: table}
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string // "" = valid
	}{
		{"defaults", func(*Options) {}, ""},
		{"no scenario", func(o *Options) { o.Scenario = nil }, "scenario and policy are required"},
		{"no policy", func(o *Options) { o.Policy = nil }, "scenario and policy are required"},
		{"negative partitions", func(o *Options) { o.Partitions = -1 }, "partitions -1"},
		{"too many partitions", func(o *Options) { o.Partitions = 1 << 20 }, "partitions 1048576"},
		{"source without clock", func(o *Options) { o.Source = sourceStub{} }, "needs its epoch Clock"},
		{"source with clock", func(o *Options) { o.Source, o.Clock = sourceStub{}, ledger.Clock{Length: 1000} }, ""},
		{"negative total", func(o *Options) { o.Total = -5 }, "total -5"},
		{"external workers, embedded broker", func(o *Options) { o.ExternalWorkers = true }, "external cluster"},
		{"external workers, cluster", func(o *Options) { o.ExternalWorkers, o.Bus = true, bus.Config{Brokers: []string{"k:9092"}} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.edit(&o)
			o.setDefaults()
			err := o.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("valid options refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

type sourceStub struct{}

func (sourceStub) Epoch(uint32, []event.Command) ([]event.Command, bool) { return nil, true }
