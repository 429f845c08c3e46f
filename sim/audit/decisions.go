package audit

import (
	"slices"
	"time"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/route"
)

// The audit re-derives decisions as well as balances: that each
// conversion used the policy's rate for the route less the route's margin,
// that each settled payment paid the route's fees, and that no wallet
// spent past its class's limits or was credited past its balance cap. A
// ledger that converted at a better rate than the policy allows, or
// charged half the fee, conserved money and passed every balance check;
// these checks catch it. They need the policy (and limits) the run used:
// NewWithPolicy.

// limitState is what the limit check keeps per wallet: the class, and the
// spending counters as the audit derives them from the events.
//
// Ordered by size: 40 bytes a wallet, not 48 (TestLimitStateSize).
type limitState struct {
	day                   int32
	year                  int16
	class                 sim.Class
	daySpent, staticSpent int64
	yearSpent, lifeSpent  int64
}

// NewWithPolicy returns an auditor that also checks every decision against
// the policy's route table and the wallet classes' limits (nil: the
// default limits).
func NewWithPolicy(routes *route.Table, limits *[sim.NumClasses]sim.Limits) *Auditor {
	a := New()
	if limits == nil {
		limits = &sim.DefaultLimits
	}
	a.routes, a.limits = routes, limits
	return a
}

// CountDays makes the limit check count days and years as the ledger's
// clock does when a scenario compresses its consumers' days
// (population.payments_per_day): days of dayMS from startMS, years of 365
// such days. dayMS 0 keeps civil days in China Standard Time.
func (a *Auditor) CountDays(startMS, dayMS int64) {
	a.dayStart, a.dayMS = startMS, max(dayMS, 0)
}

func (a *Auditor) dayOf(t int64) int32 {
	if a.dayMS > 0 {
		return int32(max(t-a.dayStart, 0) / a.dayMS)
	}
	return simDay(t)
}

func (a *Auditor) yearOf(t int64) int16 {
	if a.dayMS > 0 {
		// The first limit year began as many holder days before the start
		// as the start is into its civil year.
		yd := time.UnixMilli(a.dayStart+8*3600*1000).UTC().YearDay() - 1
		return int16((int64(a.dayOf(t)) + int64(yd)) / 365)
	}
	return simYear(t)
}

// MerchantDiscounts lists the discounts a settled payment of amount
// through route r, taken by acquirer at time t (unix ms), may carry: the
// acquirer's contracted rate for each merchant tier and region on that
// date (route.MerchantRateBPS, cal:fees.mdr, cal:fees.sme-cut-2021), or
// only zero on a route that charges merchants nothing. The event does not
// carry the merchant's tier, so any contracted rate passes; a fee off the
// schedule (halved, or the payer's rule instead of the merchant's) does
// not. The fee check reads the schedule only through here.
func MerchantDiscounts(r *route.Route, t int64, acquirer sim.Provider, amount int64) []int64 {
	if !r.ChargesMerchant || !acquirer.Valid() {
		return []int64{0}
	}
	var out []int64
	for tier := sim.Tier(0); tier < sim.NumTiers; tier++ {
		for reg := sim.Region(1); reg < sim.NumRegions; reg++ {
			fee := route.MerchantFee(amount, route.MerchantRateBPS(t, tier, reg, acquirer))
			if !slices.Contains(out, fee) {
				out = append(out, fee)
			}
		}
	}
	return out
}

// contractedDiscount reports whether fee is one of MerchantDiscounts
// without building the list (it runs for every settled payment).
func contractedDiscount(r *route.Route, t int64, acquirer sim.Provider, amount, fee int64) bool {
	if !r.ChargesMerchant || !acquirer.Valid() {
		return fee == 0
	}
	for tier := sim.Tier(0); tier < sim.NumTiers; tier++ {
		for reg := sim.Region(1); reg < sim.NumRegions; reg++ {
			if route.MerchantFee(amount, route.MerchantRateBPS(t, tier, reg, acquirer)) == fee {
				return true
			}
		}
	}
	return false
}

// RouteRate is the rate a conversion from one currency to another through
// route r must use: the policy's mid rate less the route's margin.
func RouteRate(t *route.Table, r *route.Route, from, to sim.Currency) (int64, bool) {
	mid, ok := t.Rate(from, to)
	if !ok {
		return 0, false
	}
	return mid * (10_000 - r.FXMarginBPS) / 10_000, true
}

func (a *Auditor) route(e *event.Event) *route.Route {
	if int(e.Route) >= len(a.routes.Routes) || e.Route == 0 {
		return nil
	}
	return &a.routes.Routes[e.Route]
}

// checkDecision runs the decision checks on one event (a no-op without a
// policy). w is the event's wallet, already updated by the event.
func (a *Auditor) checkDecision(e *event.Event, w *walletAudit) {
	if a.routes == nil {
		return
	}
	a.checkRate(e)
	if e.Type == event.PaymentSettled {
		a.checkFees(e)
	}
	a.checkLimits(e, w)
}

// checkRate: a conversion's recorded rate is the policy's for its route.
func (a *Auditor) checkRate(e *event.Event) {
	if e.FXRate == 0 {
		return
	}
	var from, to sim.Currency
	for _, p := range e.Legs() {
		if p.Account.Type() != event.AccFX {
			continue
		}
		if p.Amount > 0 {
			from = p.Currency
		} else {
			to = p.Currency
		}
	}
	if from == sim.CurrencyNone || to == sim.CurrencyNone {
		return // the leg check (checkFX) counts this one
	}
	r := a.route(e)
	if r == nil {
		a.r.FXViolations++
		return
	}
	want, ok := RouteRate(a.routes, r, from, to)
	if !ok || !r.FX || e.FXRate != want {
		a.r.FXViolations++
	}
}

// checkFees: a settled payment credited its merchant (or operator) the
// price less a discount on the fee schedule for the route and acquirer.
// The institutions' shares of that discount and the card and clearing
// fees are left to the balance checks: every event's legs sum to zero.
func (a *Auditor) checkFees(e *event.Event) {
	r := a.route(e)
	if r == nil {
		a.r.FeeViolations++
		return
	}
	var payee int64
	var found bool
	for _, p := range e.Legs() {
		if p.Currency == e.Currency && (p.Account.Type() == event.AccMerchant || p.Account.Type() == event.AccOperator) {
			payee += p.Amount
			found = true
		}
	}
	if !found {
		a.r.FeeViolations++
		return
	}
	if !contractedDiscount(r, e.SimTime, e.Peer, e.Amount, e.Amount-payee) {
		a.r.FeeViolations++
	}
}

// simDay and simYear are China Standard Time calendar units, derived here
// (not taken from the ledger) so that a ledger bug shows.
func simDay(t int64) int32 { return int32((t + 8*3600*1000) / 86_400_000) }
func simYear(t int64) int16 {
	return int16(time.UnixMilli(t + 8*3600*1000).UTC().Year())
}

// checkLimits: no debit passes the wallet's class limits, no top-up or
// credit its balance cap.
func (a *Auditor) checkLimits(e *event.Event, w *walletAudit) {
	st := &w.lim
	if e.Type == event.WalletOpened {
		// Spending before the run counts in the day and year of the opening.
		*st = limitState{class: e.Class, yearSpent: e.YearSpent, lifeSpent: e.LifeSpent,
			day: a.dayOf(e.SimTime), year: a.yearOf(e.SimTime)}
		return
	}
	if !st.class.Valid() {
		return
	}
	lim := &a.limits[st.class]
	var delta int64
	if e.NPostings > 0 && e.Postings[0].Account == event.Acct(event.AccWallet, e.Wallet) {
		delta = e.Postings[0].Amount
	}
	switch e.Type {
	case event.PaymentSettled, event.TransferDebited:
		debit := -delta
		if d := a.dayOf(e.SimTime); d != st.day {
			st.day, st.daySpent, st.staticSpent = d, 0, 0
			if y := a.yearOf(e.SimTime); y != st.year {
				st.year, st.yearSpent = y, 0
			}
		}
		static := e.Flags&1 != 0 // ledger.FlagStatic
		if e.Flags&2 != 0 {      // ledger.FlagCard
			// Card-funded: the class limits bound balance payments only;
			// the static-code limit (a barcode rule) binds whatever the
			// funding. The money came in on an external leg.
			if e.NPostings > 0 && e.Postings[0].Account.Type() == event.AccExternal {
				debit = -e.Postings[0].Amount
			}
			if static {
				if sim.Exceeds(st.staticSpent, debit, lim.StaticDay) {
					a.r.LimitViolations++
				}
				st.staticSpent = sim.AddSat(st.staticSpent, debit)
			}
			return
		}
		over := sim.Exceeds(0, debit, lim.PerTxn) || sim.Exceeds(st.daySpent, debit, lim.PerDay) ||
			sim.Exceeds(st.yearSpent, debit, lim.PerYear) || sim.Exceeds(st.lifeSpent, debit, lim.Lifetime)
		if static && sim.Exceeds(st.staticSpent, debit, lim.StaticDay) {
			over = true
		}
		if over {
			a.r.LimitViolations++
		}
		st.daySpent, st.yearSpent, st.lifeSpent = sim.AddSat(st.daySpent, debit), sim.AddSat(st.yearSpent, debit), sim.AddSat(st.lifeSpent, debit)
		if static {
			st.staticSpent = sim.AddSat(st.staticSpent, debit)
		}
	case event.ToppedUp, event.TransferCredited:
		if (lim.BalanceCap > 0 && w.balance > lim.BalanceCap) || w.balance > sim.MaxBalance {
			a.r.LimitViolations++
		}
	}
}
