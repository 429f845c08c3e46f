package paysim

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/trace"
)

// Options say what walletsim makes of PaySim's accounts. PaySim models one
// mobile-money service, so every customer gets a wallet of one provider,
// region and KYC class, and every merchant shows that provider's code;
// amounts are taken as major units of the region's currency.
type Options struct {
	Provider sim.Provider
	Region   sim.Region
	Class    sim.Class
	// Start is the simulated time step 1 begins.
	Start time.Time
	// Input names the source in the trace header.
	Input string
	// KeepErrors bounds the row errors kept in Result.Errors (all are
	// counted); 0 keeps 1000.
	KeepErrors int
}

// Result is what a conversion did.
type Result struct {
	Rows      int64 // data rows read, good and bad
	Payments  int64
	Wallets   int64
	Merchants int64
	Steps     int64
	Rejected  int64       // bad rows, left out of the trace
	Errors    []*RowError // the first KeepErrors of them, in file order
}

// How PaySim's types become walletsim payments:
//
//	PAYMENT   customer -> merchant   scan_mpm at the merchant's code
//	TRANSFER  customer -> customer   p2p
//	CASH_OUT  customer -> agent      p2p to the agent's wallet (who hands out cash)
//	DEBIT     customer -> bank acct  p2p to the destination's wallet
//	CASH_IN   agent -> customer      topup of the origin's wallet (the agent side is not modelled)
//
// A customer's wallet opens with the balance PaySim shows for it the first
// time it appears (oldbalanceOrg as origin, oldbalanceDest as
// destination), capped at its class's balance limit. Walletsim then keeps
// its own balances: PaySim's later balance columns are not replayed.
func kindOf(t Type) sim.Kind {
	switch t {
	case Payment:
		return sim.ScanMPM
	case CashIn:
		return sim.TopUp
	}
	return sim.P2P
}

type row struct {
	step   uint32
	kind   sim.Kind
	flags  uint8
	wallet uint32
	to     uint32
	amount int64
	line   uint32
}

// ids numbers account names in order of first appearance. PaySim's names
// are a letter and a number; a month holds about nine million, so numeric
// names are keyed by their number rather than their string.
type ids struct {
	num   map[uint64]uint32
	str   map[string]uint32
	names []string // only for names not rebuilt from their number
	keys  []uint64 // number, or 0 = see names
}

func newIDs() *ids { return &ids{num: map[uint64]uint32{}, str: map[string]uint32{}} }

func numeric(name string) (uint64, bool) {
	d := name[1:]
	if len(d) == 0 || len(d) > 18 || d[0] == '0' {
		return 0, false
	}
	v, err := strconv.ParseUint(d, 10, 64)
	return v, err == nil
}

// get returns name's ID and whether it is new.
func (x *ids) get(name string) (uint32, bool) {
	if v, ok := numeric(name); ok {
		if id, ok := x.num[v]; ok {
			return id, false
		}
		id := uint32(len(x.keys) + 1)
		x.num[v] = id
		x.keys = append(x.keys, v)
		x.names = append(x.names, "")
		return id, true
	}
	if id, ok := x.str[name]; ok {
		return id, false
	}
	id := uint32(len(x.keys) + 1)
	x.str[name] = id
	x.keys = append(x.keys, 0)
	x.names = append(x.names, name)
	return id, true
}

func (x *ids) name(id uint32, prefix byte) string {
	if k := x.keys[id-1]; k != 0 {
		return string(prefix) + strconv.FormatUint(k, 10)
	}
	return x.names[id-1]
}

// Convert reads a PaySim log from r (name labels errors) and writes a
// trace to w. Bad rows are left out, counted and listed in the result; an
// unreadable header, a read error or a log without one good row is an
// error and w gets nothing usable.
func Convert(r io.Reader, name string, w io.Writer, o Options) (*Result, error) {
	if !o.Provider.Valid() || !o.Region.Valid() || !o.Class.Valid() {
		return nil, errors.New("paysim: provider, region and class are required")
	}
	if o.KeepErrors <= 0 {
		o.KeepErrors = 1000
	}
	pr, err := NewReader(r, name)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	cust, merch := newIDs(), newIDs()
	var balances []int64
	var rows []row
	capB := sim.DefaultLimits[o.Class].BalanceCap
	open := func(name string, balance int64) uint32 {
		id, fresh := cust.get(name)
		if fresh {
			if capB > 0 {
				balance = min(balance, capB)
			}
			balances = append(balances, balance)
		}
		return id
	}
	for {
		x, err := pr.Next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			res.Rows++
			res.Rejected++
			if len(res.Errors) < o.KeepErrors {
				res.Errors = append(res.Errors, re)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		res.Rows++
		if len(cust.keys) >= 1<<32-2 || len(rows) >= 1<<32-2 {
			return nil, fmt.Errorf("%s:%d: more accounts or rows than a trace holds", name, x.Line)
		}
		rw := row{step: uint32(x.Step), kind: kindOf(x.Type), amount: x.Amount, line: uint32(x.Line)}
		if x.IsFraud {
			rw.flags |= trace.FlagFraud
		}
		if x.IsFlaggedFraud {
			rw.flags |= trace.FlagFlagged
		}
		rw.wallet = open(x.NameOrig, x.OldBalanceOrig)
		switch rw.kind {
		case sim.ScanMPM:
			rw.to, _ = merch.get(x.NameDest)
		case sim.P2P:
			rw.to = open(x.NameDest, x.OldBalanceDest)
		}
		rows = append(rows, rw)
	}
	if len(rows) == 0 {
		return res, &RowError{File: name, Line: 1, Err: fmt.Errorf("no usable rows (%d rejected)", res.Rejected)}
	}
	// PaySim logs are in step order; a hand-made one might not be.
	slices.SortStableFunc(rows, func(a, b row) int { return int(a.step) - int(b.step) })
	res.Payments, res.Wallets, res.Merchants = int64(len(rows)), int64(len(balances)), int64(len(merch.keys))
	res.Steps = int64(rows[len(rows)-1].step)
	tw, err := trace.NewWriter(w, trace.Header{
		Source: "paysim", Input: o.Input, Step: "1h", Start: o.Start.Format(time.RFC3339),
		Wallets: res.Wallets, Merchants: res.Merchants, Payments: res.Payments, Steps: res.Steps, Rejected: res.Rejected,
	})
	if err != nil {
		return nil, err
	}
	for i, b := range balances {
		id := uint32(i + 1)
		if err := tw.Wallet(trace.Wallet{ID: uint64(id), Name: cust.name(id, 'C'), Provider: o.Provider, Region: o.Region, Class: o.Class, Balance: b}); err != nil {
			return nil, err
		}
	}
	for i := range merch.keys {
		id := uint32(i + 1)
		if err := tw.Merchant(trace.Merchant{ID: uint64(id), Name: merch.name(id, 'M'), Region: o.Region, Codes: 1 << o.Provider}); err != nil {
			return nil, err
		}
	}
	cur := o.Region.Home()
	for _, rw := range rows {
		p := trace.Payment{Step: rw.step, Kind: rw.kind, Wallet: uint64(rw.wallet), To: uint64(rw.to), Amount: rw.amount, Currency: cur, Flags: rw.flags, Line: rw.line}
		if err := tw.Payment(p); err != nil {
			return nil, err
		}
	}
	return res, tw.Flush()
}
