package ledger

import (
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/route"
)

// Decide returns the route policy t gives a wallet of provider p in region
// r for payment c, and the provider on the other side: the decision Handle
// takes, asked from outside (attribution of changed outcomes to rules).
// nil means no rule accepts it.
func Decide(t *route.Table, c *event.Command, p sim.Provider, r sim.Region) (*route.Route, sim.Provider) {
	b := Book{routes: t}
	w := Wallet{Provider: p, Region: r}
	return b.route(c, &w)
}
