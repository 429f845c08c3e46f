package run

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine"
)

// TestTopicDeletedUnderRun: deleting one of the engine's topics while a
// run is processing ends the run with an error that names the topic,
// instead of a hang (a fetch, list-offsets or write retried forever) or a
// run that goes on over half a log. The run's context is not cancelled:
// the run has to stop by itself.
func TestTopicDeletedUnderRun(t *testing.T) {
	for _, which := range []string{"events", "commands"} {
		t.Run(which, func(t *testing.T) {
			o := load(t, 400_000, 5)
			o.Topics = bus.DefaultTopics("deleted-" + which)
			topic := map[string]string{"events": o.Topics.Events, "commands": o.Topics.Commands}[which]
			var addr string
			o.OnBroker = func(b *embedded.Broker) error { addr = b.Addr(); return nil }
			deleted := make(chan error, 1)
			o.OnEngine = func(e *engine.Engine) {
				go func() {
					for e.Resolved() == 0 {
						time.Sleep(5 * time.Millisecond)
					}
					admin, err := bus.NewClient(bus.Config{Brokers: []string{addr}})
					if err == nil {
						err = admin.DeleteTopics(context.Background(), topic)
					}
					deleted <- err
				}()
			}
			type result struct {
				res *Result
				err error
			}
			done := make(chan result, 1)
			go func() {
				res, err := Run(context.Background(), o)
				done <- result{res, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(4 * time.Minute):
				// Far beyond the retry budgets (bus.DefaultRetry): a hang.
				t.Fatalf("run still going 4 minutes after %s was deleted", topic)
			}
			if err := <-deleted; err != nil {
				t.Fatalf("delete %s: %v", topic, err)
			}
			if r.err == nil {
				t.Fatalf("run over a deleted %s ended without an error: %+v", topic, r.res.Summary.Invariants)
			}
			if !strings.Contains(r.err.Error(), topic) {
				t.Fatalf("error does not name %s: %v", topic, r.err)
			}
			t.Logf("%s deleted: %v", topic, r.err)
		})
	}
}
