package ledger_test

import (
	"testing"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/ledger"
	"github.com/walletsim/walletsim/sim/route"
)

// flowPolicy has one route of each clearing kind the fee model treats
// apart: on-us, UnionPay (a card network), NetsUnion (acceptance and the
// load route).
func flowPolicy(t *testing.T) *route.Table {
	t.Helper()
	hop := []route.Hop{{Name: "wallet", LatencyMedian: 35}}
	p := &route.Policy{
		Name: "flows",
		Routes: map[string]route.RouteSpec{
			"on_us":     {Clearing: "on_us", Hops: hop},
			"unionpay":  {Clearing: "unionpay", SwitchCBPS: 650, Hops: hop},
			"netsunion": {Clearing: "netsunion", SwitchCBPS: 325, Hops: hop},
		},
		Rules: []route.Rule{
			// The payer's rule quotes 0.54%; the merchant's contract decides.
			{Channel: "mpm", Payers: []string{"alipay", "weixin"}, Acceptors: []string{"self"}, Route: "on_us", MDRBPS: 54},
			{Channel: "mpm", Payers: []string{"bank"}, Acceptors: []string{"weixin"}, Route: "unionpay", MDRBPS: 60},
			{Channel: "mpm", Payers: []string{"telco"}, Acceptors: []string{"weixin"}, Route: "netsunion", MDRBPS: 60},
			{Channel: "transfer", Payers: []string{"bank"}, Acceptors: []string{"bank"}, Route: "unionpay"},
			{Channel: "transfer", Payers: []string{"alipay"}, Acceptors: []string{"self"}, Route: "on_us"},
			{Channel: "topup", Payers: []string{"bank"}, Acceptors: []string{"self"}, Route: "on_us"},
			{Channel: "topup", Payers: []string{"*"}, Acceptors: []string{"self"}, Route: "netsunion"},
		},
	}
	table, err := route.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

type flowWallet struct {
	provider  sim.Provider
	balance   int64
	card      sim.Card
	target    int64
	quotaUsed int64
}

// legs runs one command against freshly opened wallets and returns the
// postings of its first wallet's outcome by account.
func legs(t *testing.T, ws []flowWallet, c event.Command) (map[event.Account]int64, *event.Event) {
	t.Helper()
	var open []event.Command
	for i, w := range ws {
		id := uint64(i + 1)
		open = append(open, event.Command{Type: event.CmdOpenWallet, ID: 1<<59 | id, Wallet: id, SimTime: t0, Kind: sim.Open,
			Amount: w.balance, Currency: sim.CNY, Provider: w.provider, Region: sim.CN, Class: sim.CNClass3,
			Card: w.card, Target: w.target, QuotaUsed: w.quotaUsed})
	}
	var got []event.Event
	m := &ledger.Memory{Routes: flowPolicy(t), Parts: 1, Seed: 1, OnEvent: func(e *event.Event) {
		if e.Type != event.WalletOpened {
			got = append(got, *e)
		}
	}}
	if err := m.Run(epochs{open, {c}}); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no event")
	}
	out := map[event.Account]int64{}
	var sums [sim.NumCurrencies]int64
	for _, e := range got {
		for _, p := range e.Legs() {
			out[p.Account] += p.Amount
			sums[p.Currency] += p.Amount
		}
	}
	if sums != [sim.NumCurrencies]int64{} {
		t.Fatalf("postings do not balance: %v", sums)
	}
	return out, &got[0]
}

func acct(p sim.Provider, r sim.Role) event.Account { return event.PartyAcct(sim.InstitutionOf(p), r) }

var (
	merchant  = event.Acct(event.AccMerchant, 99)
	bankAcct  = event.Acct(event.AccExternal, 0)
	netsunion = event.PartyAcct(sim.InstNetsUnion, sim.RoleClearing)
	network   = acct(sim.UnionPay, sim.RoleNetwork)
)

func TestFourPartyFlows(t *testing.T) {
	tier := func(c event.Command, tr sim.Tier) event.Command { c.Tier = tr; return c }
	cardFirst := func(c event.Command) event.Command { c.CardFirst = true; return c }
	topup := func(amount int64) event.Command {
		c := event.Command{Type: event.CmdPay, ID: 1<<24 | 7, Wallet: 1, SimTime: t0 + 7, Epoch: 1, Kind: sim.TopUp,
			Amount: amount, Currency: sim.CNY, AccRegion: sim.CN, Rebalance: true}
		c.Candidates[0], c.NCandidates = 1, 1
		return c
	}
	for _, tc := range []struct {
		name    string
		wallets []flowWallet
		cmd     event.Command
		want    map[event.Account]int64
	}{
		{
			// Balance-funded on-us: the standard merchant pays its own
			// 0.60% to Alipay as acquirer, not the rule's 0.54%.
			name:    "on-us standard merchant",
			wallets: []flowWallet{{provider: sim.Alipay, balance: 100_000}},
			cmd:     scan(1, 1<<sim.Alipay, 10_000, 1),
			want: map[event.Account]int64{
				event.Acct(event.AccWallet, 1): -10_000, merchant: 9_940, acct(sim.Alipay, sim.RoleAcquirer): 60,
			},
		},
		{
			name:    "on-us preferential merchant",
			wallets: []flowWallet{{provider: sim.Alipay, balance: 100_000}},
			cmd:     tier(scan(1, 1<<sim.Alipay, 10_000, 1), sim.TierPreferential),
			want: map[event.Account]int64{
				event.Acct(event.AccWallet, 1): -10_000, merchant: 9_962, acct(sim.Alipay, sim.RoleAcquirer): 38,
			},
		},
		{
			// 2024-07: Tencent's SME cut still runs (Sep 2021 - Sep 2024).
			name:    "on-us SME merchant of WeChat",
			wallets: []flowWallet{{provider: sim.Weixin, balance: 100_000}},
			cmd:     tier(scan(1, 1<<sim.Weixin, 10_000, 1), sim.TierSME),
			want: map[event.Account]int64{
				event.Acct(event.AccWallet, 1): -10_000, merchant: 9_946, acct(sim.Weixin, sim.RoleAcquirer): 54,
			},
		},
		{
			// Card-funded: the card's bank earns the debit fee from the
			// wallet, both pay NetsUnion half of 0.0325% on the load route.
			name:    "card-funded on-us through NetsUnion",
			wallets: []flowWallet{{provider: sim.Alipay, balance: 100_000, card: sim.CardDebit}},
			cmd:     cardFirst(scan(1, 1<<sim.Alipay, 10_000, 1)),
			want: map[event.Account]int64{
				bankAcct: -10_000, merchant: 9_940, acct(sim.Alipay, sim.RoleAcquirer): 60,
				acct(sim.Alipay, sim.RoleWallet): -35 - 1, acct(sim.Bank, sim.RoleIssuer): 35 - 2, netsunion: 3,
			},
		},
		{
			// Short balance, credit card on file: the card pays (0.45%, no cap).
			name:    "balance short, credit card steps in",
			wallets: []flowWallet{{provider: sim.Weixin, balance: 100, card: sim.CardCredit}},
			cmd:     scan(1, 1<<sim.Weixin, 1_000_000, 1),
			want: map[event.Account]int64{
				bankAcct: -1_000_000, merchant: 994_000, acct(sim.Weixin, sim.RoleAcquirer): 6_000,
				acct(sim.Weixin, sim.RoleWallet): -4_500 - 162, acct(sim.Bank, sim.RoleIssuer): 4_500 - 163, netsunion: 325,
			},
		},
		{
			// A bank app at a WeChat code through UnionPay: the acquirer
			// pays the issuer 0.35% capped at RMB 13; the network takes
			// 0.0325% from each side (RMB 1.625 each, rounded).
			name:    "card network, issuer cap",
			wallets: []flowWallet{{provider: sim.Bank, balance: 10_000_000, card: sim.CardDebit}},
			cmd:     scan(1, 1<<sim.Weixin, 500_000, 1),
			want: map[event.Account]int64{
				event.Acct(event.AccWallet, 1): -500_000, merchant: 497_000,
				acct(sim.Weixin, sim.RoleAcquirer): 3_000 - 1_300 - 163, acct(sim.Bank, sim.RoleIssuer): 1_300 - 162, network: 325,
			},
		},
		{
			// NetsUnion carries a telco wallet's payment at a WeChat code:
			// its fee, half from each side, is not capped at the MDR.
			name:    "NetsUnion acceptance",
			wallets: []flowWallet{{provider: sim.Telco, balance: 100_000}},
			cmd:     scan(1, 1<<sim.Weixin, 100_000, 1),
			want: map[event.Account]int64{
				event.Acct(event.AccWallet, 1): -100_000, merchant: 99_400,
				acct(sim.Weixin, sim.RoleAcquirer): 600 - 17, acct(sim.Telco, sim.RoleWallet): -16, netsunion: 33,
			},
		},
		{
			// A transfer through UnionPay pays the network although no
			// merchant fee exists to cap it at.
			name:    "transfer pays its network fee",
			wallets: []flowWallet{{provider: sim.Bank, balance: 1_000_000}, {provider: sim.Bank}},
			cmd:     transfer(1, 1, 2, sim.Bank, 400_000),
			want: map[event.Account]int64{
				event.Acct(event.AccWallet, 1): -400_000, event.Acct(event.AccWallet, 2): 400_000,
				acct(sim.Bank, sim.RoleWallet): -260, network: 260,
			},
		},
		{
			// Rebalancing below the float: a top-up to it, from a debit card.
			name:    "rebalance up",
			wallets: []flowWallet{{provider: sim.Weixin, balance: 40_000, target: 100_000}},
			cmd:     topup(5_000),
			want: map[event.Account]int64{
				event.Acct(event.AccWallet, 1): 60_000, bankAcct: -60_000,
				acct(sim.Weixin, sim.RoleWallet): -210 - 10, acct(sim.Bank, sim.RoleIssuer): 210 - 10, netsunion: 20,
			},
		},
		{
			// Above the float: the excess is withdrawn; RMB 200 of it is
			// above the RMB 1,000 free quota, so 0.1% = RMB 0.20.
			name:    "rebalance down, withdrawal fee",
			wallets: []flowWallet{{provider: sim.Weixin, balance: 150_000, target: 100_000, quotaUsed: 70_000}},
			cmd:     topup(5_000),
			want: map[event.Account]int64{
				event.Acct(event.AccWallet, 1): -50_000, bankAcct: 50_000 - 20,
				acct(sim.Weixin, sim.RoleWallet): 20 - 8, acct(sim.Bank, sim.RoleIssuer): -8, netsunion: 16,
			},
		},
		{
			// The minimum withdrawal fee is RMB 0.10.
			name:    "withdrawal minimum fee",
			wallets: []flowWallet{{provider: sim.Weixin, balance: 101_000, target: 100_000, quotaUsed: 100_000}},
			cmd:     topup(5_000),
			want: map[event.Account]int64{
				event.Acct(event.AccWallet, 1): -1_000, bankAcct: 1_000 - 10,
				acct(sim.Weixin, sim.RoleWallet): 10, netsunion: 0,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := legs(t, tc.wallets, tc.cmd)
			for a, v := range tc.want {
				if got[a] != v {
					t.Errorf("%s: %d, want %d", a, got[a], v)
				}
			}
			for a, v := range got {
				if _, ok := tc.want[a]; !ok && v != 0 && a.Type() != event.AccSuspense {
					t.Errorf("unexpected %s: %d", a, v)
				}
			}
		})
	}
}

// A card-funded transfer that cannot land goes back to the card, not the
// wallet.
func TestCardFundedRefundGoesToCard(t *testing.T) {
	c := transfer(1, 1, 9, sim.Alipay, 10_000) // wallet 9 does not exist
	c.CardFirst = true
	c.Acceptors = 1 << sim.Alipay
	got, first := legs(t, []flowWallet{{provider: sim.Alipay, balance: 50_000, card: sim.CardDebit}}, c)
	if first.Flags&ledger.FlagCard == 0 {
		t.Fatalf("debit not card-funded: %+v", first)
	}
	if got[event.Acct(event.AccWallet, 1)] != 0 || got[bankAcct] != 0 {
		t.Fatalf("refund: wallet %d, card %d; want both 0 (debited from the card, refunded to it)", got[event.Acct(event.AccWallet, 1)], got[bankAcct])
	}
}

// The network fee is capped at RMB 6.5 for both sides together.
func TestSideFeesCap(t *testing.T) {
	for _, tc := range []struct{ amount, payer, payee int64 }{
		{100_000, 32, 33},
		{2_000_000, 325, 325},
		{100_000_000, 325, 325},
		{1 << 48, 325, 325},
	} {
		if p, q := route.SideFees(tc.amount, 650); p != tc.payer || q != tc.payee {
			t.Errorf("SideFees(%d): %d + %d, want %d + %d", tc.amount, p, q, tc.payer, tc.payee)
		}
	}
	if got := route.IssuerFee(1<<48, sim.CardCredit); got != route.Fraction(1<<48, 45, 10_000) || got <= 0 {
		t.Errorf("credit issuer fee on 2^48: %d", got)
	}
}
