package gen

import (
	"testing"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
)

// TestRebalancingReachesSecondWallets: transfers land on any wallet of the
// payee's provider, so rebalancing top-ups must reach the wallets that are
// not their holder's first choice too, in step with what they receive
// (rebalance.go, issue 13). A second wallet's turnover counts its fallback
// payments besides what it receives, so per transfer received it gets about
// twice the top-ups a first choice gets per movement; asked: at least half.
// Rebalancing only first choices gives second wallets none.
func TestRebalancingReachesSecondWallets(t *testing.T) {
	s := smallQuickstart(t, 20_000, 20)
	g := New(s)
	p := g.Pop
	var recv, topups, moves [2]float64 // [first choice, second wallet]
	side := func(id uint64) int {
		if p.first(uint32(id)) {
			return 0
		}
		return 1
	}
	var buf []event.Command
	for e := uint32(1); ; e++ {
		var last bool
		buf, last = g.Epoch(e, buf[:0])
		for i := range buf {
			c := &buf[i]
			switch {
			case c.Kind == sim.TopUp:
				if !c.Rebalance {
					t.Fatalf("top-up %d is not a rebalancing one", c.ID)
				}
				topups[side(c.Wallet)]++
			case c.Kind.IsTransfer():
				recv[side(c.Counterparty)]++
				moves[side(c.Counterparty)]++
				moves[side(c.Wallet)]++
			default:
				moves[side(c.Wallet)]++
			}
		}
		if last {
			break
		}
	}
	first := topups[0] / moves[0]
	second := topups[1] / recv[1]
	t.Logf("first choices: %.0f top-ups, %.0f movements (%.4f each); second wallets: %.0f top-ups, %.0f transfers received (%.4f each)", topups[0], moves[0], first, topups[1], recv[1], second)
	if recv[1] < 1000 {
		t.Fatalf("second wallets received %.0f transfers: too few to tell", recv[1])
	}
	if second < first/2 {
		t.Errorf("second wallets get %.4f rebalancing top-ups per transfer received, first choices %.4f per movement: money piles up in them", second, first)
	}
}

// TestWarmStartKeepsExhaustedAllowance: a wallet whose past used up its
// yearly or lifetime allowance (history) pays nothing from its balance in
// the run, so its burn-in must not drain it: it opens at its float or above
// (transfers received). Drained, quickstart's first-choice class I wallets
// went from 13% to 70% above their float over 20 consumer-days and were
// withdrawn from ever more often (consumer withdrawal fees per payment
// rising with run length).
func TestWarmStartKeepsExhaustedAllowance(t *testing.T) {
	s := smallQuickstart(t, 20_000, 1)
	p := NewPopulation(s)
	n, below := 0, 0
	for _, w := range p.Wallets {
		if w.Target == 0 || allowance(w) != 0 {
			continue
		}
		n++
		if w.Initial < w.Target {
			below++
		}
	}
	t.Logf("%d rebalancing wallets without allowance, %d open below their float", n, below)
	if n < 100 {
		t.Fatalf("only %d wallets without allowance: too few to tell", n)
	}
	if below > 0 {
		t.Errorf("%d of %d wallets whose past used up their allowance open below their float: the burn-in spent from a balance the limits close", below, n)
	}
}
