package scenario

import (
	"github.com/walletsim/walletsim/sim"
)

// Funding says where wallet payments' money comes from and how consumers
// keep their wallets topped up: the stationary economy of issue 13. The
// zero value is the old model (prepaid balances, literal top-ups).
type Funding struct {
	// Cards per provider: shares of its wallets linked to a debit or a
	// credit card ({"debit": 0.6, "credit": 0.3}); the rest have none. For
	// bank apps and QuickPass it is the kind of account they are.
	Cards map[string]map[string]float64 `mapstructure:"cards" json:"cards,omitempty"`
	// CardFirst is the share of payments a consumer with a linked card pays
	// with it even when the balance would do; otherwise the balance pays
	// and the card steps in when it is short.
	CardFirst float64 `mapstructure:"card_first" json:"card_first,omitempty"`
	// Rebalance makes top-ups move the balance back to the wallet's float
	// (its opening balance): up from the bank when below, the excess out
	// to the bank (a withdrawal) when above. Balances then stay in a
	// steady state however long the run.
	Rebalance bool `mapstructure:"rebalance" json:"rebalance,omitempty"`
	// QuotaUsed is the share of wallets whose holders used up the lifetime
	// free withdrawal quota before the run (the rest have used a uniform
	// part of it): wallets are not new on the scenario's date. A scenario
	// with holder days (Population.PaymentsPerDay) and Rebalance draws
	// each wallet's from its own past withdrawals instead (sim/gen
	// history), which a fixed share cannot match: its holders with quota
	// left used it up during a long run.
	QuotaUsed float64 `mapstructure:"quota_used" json:"quota_used,omitempty"`
}

// Enabled reports whether the scenario models funding at all.
func (f *Funding) Enabled() bool {
	return len(f.Cards) > 0 || f.CardFirst > 0 || f.Rebalance || f.QuotaUsed > 0
}

func (f *Funding) check(bad func(string, string, ...any)) {
	for _, pr := range sortedKeys(f.Cards) {
		key := "funding.cards." + pr
		if _, err := sim.ParseProvider(pr); err != nil {
			bad(key, "%v", err)
			continue
		}
		sum := 0.0
		for _, k := range sortedKeys(f.Cards[pr]) {
			card, err := sim.ParseCard(k)
			if err != nil || card == sim.CardNone {
				bad(key+"."+k, "unknown card kind (want debit or credit)")
				continue
			}
			v := f.Cards[pr][k]
			if !(v >= 0 && v <= 1) {
				bad(key+"."+k, "share %v must be within 0-1", v)
				continue
			}
			sum += v
		}
		if sum > 1+1e-9 {
			bad(key, "card shares sum to %v, more than 1", sum)
		}
	}
	if !(f.CardFirst >= 0 && f.CardFirst <= 1) {
		bad("funding.card_first", "share %v must be within 0-1", f.CardFirst)
	}
	if !(f.QuotaUsed >= 0 && f.QuotaUsed <= 1) {
		bad("funding.quota_used", "share %v must be within 0-1", f.QuotaUsed)
	}
}
