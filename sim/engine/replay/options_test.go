package replay

import (
	"strings"
	"testing"

	"github.com/walletsim/walletsim/sim/bus"
)

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{}, "no brokers"},
		{Options{Bus: bus.Config{Brokers: []string{"k:9092"}}, Parallel: -1}, "parallel -1"},
		{Options{Bus: bus.Config{Brokers: []string{"k:9092"}}}, ""},
	} {
		tc.o.setDefaults()
		err := tc.o.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: error %v, want %q", tc.o, err, tc.want)
		}
	}
}
