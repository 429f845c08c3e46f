package wmkafka

import (
	"fmt"
	"os"
	"testing"

	"github.com/walletsim/walletsim/sim/bus/embedded"
)

// One broker for the whole package: starting kfake is cheap, but sharing it
// also exercises many groups and topics living side by side, as in
// production.
var testBroker *embedded.Broker

func TestMain(m *testing.M) {
	b, err := embedded.Start(embedded.Config{Partitions: 8})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start embedded broker:", err)
		os.Exit(1)
	}
	testBroker = b
	code := m.Run()
	b.Close()
	os.Exit(code)
}
