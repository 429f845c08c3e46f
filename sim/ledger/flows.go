package ledger

import (
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/route"
)

// Money flows by party (four-party model). A settled payment moves the
// price from the payer's funding source (wallet balance or linked card) to
// the merchant, less the merchant's discount, which goes to its acquirer;
// on a card network the acquirer pays the issuer its fee and both pay the
// network; a card-funded wallet payment also pulls the money from the
// card's bank, which the wallet pays for, through NetsUnion when the
// policy's load route clears there. Every fee is an institution's fee
// account (event.PartyAcct) and every event still sums to zero per
// currency. The amounts come from the fee schedule in package route.

// cardFunds reports whether the wallet can pay from a linked card: payment
// institutions' mainland wallets with a card on file. Bank apps and
// QuickPass pay from the account they are; e-CNY and Hong Kong stored-value
// wallets pay from their balance [A] (cal:assume.card-funding-share).
func cardFunds(w *Wallet) bool {
	if w.Card == sim.CardNone || w.Region != sim.CN {
		return false
	}
	switch w.Provider {
	case sim.Alipay, sim.Weixin, sim.Telco:
		return true
	}
	return false
}

// fundsFromBank reports whether money moving between the wallet and its
// holder's bank crosses from a payment institution to a bank (top-ups,
// withdrawals, card funding), so the bank's fee and the load route's
// clearing apply. Bank apps and QuickPass hold bank money already; e-CNY
// loads and Hong Kong top-ups carry no fee [A].
func fundsFromBank(w *Wallet) bool {
	if w.Region != sim.CN {
		return false
	}
	switch w.Provider {
	case sim.Alipay, sim.Weixin, sim.Telco:
		return true
	}
	return false
}

// CardPerTxn bounds one card-funded payment: banks cap quick payments from
// linked cards; RMB 50,000 [A] (cal:assume.card-limit).
const CardPerTxn = 50_000 * 100

// chooseFunding decides where a payment of debit comes from. staticOver
// and overLimit are the limit checks (static-code: any funding; account
// class: balance payments only, cal:limits.account-class).
func chooseFunding(c *event.Command, w *Wallet, debit int64, staticOver, overLimit bool) (card bool, reason sim.Reason) {
	canCard := cardFunds(w) && debit <= CardPerTxn
	switch {
	case staticOver:
		return false, sim.LimitExceeded
	case canCard && c.CardFirst:
		return true, sim.ReasonNone
	case !overLimit && w.Balance >= debit:
		return false, sim.ReasonNone
	case canCard:
		// The balance is short or over its class limits: the consumer pays
		// with the linked card instead [A].
		return true, sim.ReasonNone
	case overLimit:
		return false, sim.LimitExceeded
	}
	return false, sim.InsufficientFunds
}

// post adds a leg, merging it into an earlier leg of the same account and
// currency (legs[0], the payer's, is never merged into) and skipping zero
// amounts, so a party playing two roles shows as two accounts and a party
// paid twice in one role as one.
func post(e *event.Event, a event.Account, amount int64, c sim.Currency) {
	if amount == 0 {
		return
	}
	for i := uint8(1); i < e.NPostings; i++ {
		if p := &e.Postings[i]; p.Account == a && p.Currency == c {
			p.Amount += amount
			return
		}
	}
	e.Post(a, amount, c)
}

func party(p sim.Provider, r sim.Role) event.Account {
	return event.PartyAcct(sim.InstitutionOf(p), r)
}

// issuerCard is the card kind an issuer's fee is charged at: the linked
// card when the payment came from it, the account's own kind for bank
// apps and QuickPass, a debit account otherwise [A].
func issuerCard(w *Wallet, card bool) sim.Card {
	switch {
	case card, w.Provider == sim.Bank || w.Provider == sim.UnionPay:
		if w.Card != sim.CardNone {
			return w.Card
		}
	}
	return sim.CardDebit
}

// acceptanceFees posts the merchant side of a settled payment of amount
// (the price, in cur) that acquirer took through route r, and returns the
// merchant's discount (which the caller deducts from the merchant's
// credit).
func acceptanceFees(e *event.Event, c *event.Command, w *Wallet, r *route.Route, acquirer sim.Provider, card bool, amount int64, cur sim.Currency) int64 {
	var mdr int64
	if r.ChargesMerchant && acquirer.Valid() {
		mdr = route.MerchantFee(amount, route.MerchantRateBPS(c.SimTime, c.Tier, c.AccRegion, acquirer))
	}
	acq := party(acquirer, sim.RoleAcquirer)
	switch r.Clearing {
	case route.UnionPayNet:
		// A card-network payment: the payer's institution is the issuer.
		iss := route.IssuerFee(amount, issuerCard(w, card))
		toNet, fromAcq := route.SideFees(amount, r.SwitchCBPS)
		if acquirer.Valid() {
			post(e, acq, mdr-iss-fromAcq, cur)
		}
		post(e, party(w.Provider, sim.RoleIssuer), iss-toNet, cur)
		post(e, party(sim.UnionPay, sim.RoleNetwork), toNet+fromAcq, cur)
	case route.NetsUnion:
		fromPayer, fromAcq := route.SideFees(amount, r.SwitchCBPS)
		if acquirer.Valid() {
			post(e, acq, mdr-fromAcq, cur)
		}
		post(e, party(w.Provider, sim.RoleWallet), -fromPayer, cur)
		post(e, event.PartyAcct(sim.InstNetsUnion, sim.RoleClearing), fromPayer+fromAcq, cur)
	default:
		if acquirer.Valid() {
			post(e, acq, mdr, cur)
		}
	}
	return mdr
}

// bankLeg posts what moving amount between the wallet and its holder's bank
// costs the institutions: the bank's issuer fee when the money comes from a
// card (issuerFee), and the load route's clearing fee from each side
// (NetsUnion since 2018-06; a direct bank link before costs none).
func (b *Book) bankLeg(e *event.Event, w *Wallet, amount int64, card sim.Card, issuerFee bool) {
	if !fundsFromBank(w) {
		return
	}
	cur := w.Currency
	if issuerFee {
		fee := route.IssuerFee(amount, card)
		post(e, party(w.Provider, sim.RoleWallet), -fee, cur)
		post(e, party(sim.Bank, sim.RoleIssuer), fee, cur)
	}
	if b.routes == nil {
		return
	}
	if lr := b.routes.Lookup(route.Load, w.Provider, w.Region, w.Region, uint8(w.Provider)); lr != nil && lr.Clearing == route.NetsUnion {
		fromWallet, fromBank := route.SideFees(amount, lr.SwitchCBPS)
		post(e, party(w.Provider, sim.RoleWallet), -fromWallet, cur)
		post(e, party(sim.Bank, sim.RoleIssuer), -fromBank, cur)
		post(e, event.PartyAcct(sim.InstNetsUnion, sim.RoleClearing), fromWallet+fromBank, cur)
	}
}

// transferFees posts a transfer's network or clearing fee, half from the
// payer's provider and half from the payee's (the switch fee is no longer
// capped at a merchant fee a transfer does not have).
func transferFees(e *event.Event, r *route.Route, payer, payee sim.Provider, amount int64, cur sim.Currency) {
	a, b := route.SideFees(amount, r.SwitchCBPS)
	if a+b == 0 {
		return
	}
	var sw event.Account
	switch r.Clearing {
	case route.UnionPayNet:
		sw = party(sim.UnionPay, sim.RoleNetwork)
	case route.NetsUnion:
		sw = event.PartyAcct(sim.InstNetsUnion, sim.RoleClearing)
	default:
		return
	}
	post(e, party(payer, sim.RoleWallet), -a, cur)
	post(e, party(payee, sim.RoleWallet), -b, cur)
	post(e, sw, a+b, cur)
}

// topUp moves money in from the holder's bank: amount as asked, or for a
// rebalancing top-up whatever brings the balance back to the wallet's
// target (above the target it becomes a withdrawal of the excess). This
// feedback is what keeps balances stationary however long a run is.
func (b *Book) topUp(c *event.Command, w *Wallet, r *route.Route, amount int64, sink Sink) {
	if c.Rebalance && w.Target > 0 && w.Balance != w.Target {
		if w.Balance > w.Target {
			b.withdraw(c, w, r, w.Balance-w.Target, sink)
			return
		}
		amount = w.Target - w.Balance
	}
	lim := &b.limits[w.Class]
	if c.Rebalance && w.Target > 0 && w.Balance == w.Target && lim.BalanceCap > 0 {
		// On target, a rebalancing holder loads the amount only up to the
		// cap [A] (cal:assume.rebalance: holders keep clear of it): in a
		// long run more capped wallets sit on target (their payments are
		// rarely accepted), and a load bounced at the cap would make
		// balance_cap_exceeded grow with the run's length.
		amount = min(amount, lim.BalanceCap-w.Balance)
	}
	// sim.Exceeds: the sum could overflow; MaxBalance bounds every wallet.
	if sim.Exceeds(w.Balance, amount, lim.BalanceCap) || sim.Exceeds(w.Balance, amount, sim.MaxBalance) {
		b.decline(c, w, sink, sim.BalanceCapExceeded, false)
		return
	}
	e := b.newEvent(event.ToppedUp, c, w, c.Wallet, b.step(c))
	e.Route, e.Hops, e.Amount = r.ID, r.NHops, amount
	e.Post(event.Acct(event.AccWallet, c.Wallet), amount, w.Currency)
	e.Post(event.Acct(event.AccExternal, 0), -amount, w.Currency)
	// Top-ups come from a debit card or account (WeChat does not load its
	// balance from credit cards) [A].
	b.bankLeg(e, w, amount, sim.CardDebit, true)
	b.emit(w, sink)
}

// withdraw moves amount out to the holder's bank, less the withdrawal fee
// above the lifetime free quota, which the wallet provider keeps.
func (b *Book) withdraw(c *event.Command, w *Wallet, r *route.Route, amount int64, sink Sink) {
	fee := route.WithdrawalFee(w.Provider, amount, w.Withdrawn)
	e := b.newEvent(event.Withdrawn, c, w, c.Wallet, b.step(c))
	e.Route, e.Hops, e.Amount = r.ID, r.NHops, amount
	e.Post(event.Acct(event.AccWallet, c.Wallet), -amount, w.Currency)
	post(e, event.Acct(event.AccExternal, 0), amount-fee, w.Currency)
	post(e, party(w.Provider, sim.RoleWallet), fee, w.Currency)
	b.bankLeg(e, w, amount, sim.CardDebit, false)
	b.emit(w, sink)
}
