package trace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/walletsim/walletsim/sim"
)

// Trace is a whole trace in memory, checked: every reference resolves,
// payments are in step order and the header's counts are right. Names
// stay in the file (a Reader gives them): a PaySim month has nine million
// accounts, and the replay needs only their IDs.
type Trace struct {
	Header  Header
	StepMS  int64
	StartMS int64
	// Wallets[i] and Merchants[i] are ID i+1.
	Wallets   []WalletInfo
	Merchants []MerchantInfo
	Payments  []Payment
	lastStep  uint32
}

// WalletInfo is a wallet without its name.
type WalletInfo struct {
	Provider sim.Provider
	Region   sim.Region
	Class    sim.Class
	Balance  int64
}

// MerchantInfo is a merchant without its name.
type MerchantInfo struct {
	Region sim.Region
	Codes  uint16
}

// LoadFile reads and checks the trace at path.
func LoadFile(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Load(f, path)
}

// Load reads and checks a trace; name labels errors.
func Load(r io.Reader, name string) (*Trace, error) {
	rd, err := NewReader(r, name)
	if err != nil {
		return nil, err
	}
	t := &Trace{Header: rd.Header, StepMS: rd.StepMS, StartMS: rd.StartMS}
	// Trust the header's counts for preallocation only up to a size a
	// wrong header cannot turn into a memory blow-up.
	if rd.Header.Wallets < 1<<20 {
		t.Wallets = make([]WalletInfo, 0, rd.Header.Wallets)
	}
	if rd.Header.Payments < 1<<20 {
		t.Payments = make([]Payment, 0, rd.Header.Payments)
	}
	stepCount := map[uint32]int{}
	lastStep := uint32(0)
	section := 0 // 0 wallets, 1 merchants, 2 payments
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		bad := func(field, format string, a ...any) error {
			return &Error{File: name, Line: rec.Line, Field: field, Err: fmt.Errorf(format, a...)}
		}
		switch {
		case rec.Wallet != nil:
			w := rec.Wallet
			if section > 0 {
				return nil, bad("", "wallet records come before merchants and payments")
			}
			if w.ID != uint64(len(t.Wallets))+1 {
				return nil, bad("id", "wallet %d out of order: want %d (IDs count up from 1)", w.ID, len(t.Wallets)+1)
			}
			if capB := sim.DefaultLimits[w.Class].BalanceCap; capB > 0 && w.Balance > capB {
				return nil, bad("balance", "%d is over the %s balance cap %d", w.Balance, w.Class, capB)
			}
			t.Wallets = append(t.Wallets, WalletInfo{Provider: w.Provider, Region: w.Region, Class: w.Class, Balance: w.Balance})
		case rec.Merchant != nil:
			m := rec.Merchant
			if section > 1 {
				return nil, bad("", "merchant records come before payments")
			}
			section = 1
			if m.ID != uint64(len(t.Merchants))+1 {
				return nil, bad("id", "merchant %d out of order: want %d (IDs count up from 1)", m.ID, len(t.Merchants)+1)
			}
			t.Merchants = append(t.Merchants, MerchantInfo{Region: m.Region, Codes: m.Codes})
		default:
			p := rec.Payment
			section = 2
			if p.Step > MaxStep {
				return nil, bad("step", "%d is past the last step a trace may have, %d", p.Step, MaxStep)
			}
			if p.Step < lastStep {
				return nil, bad("step", "%d after step %d: payments must be in step order", p.Step, lastStep)
			}
			lastStep = p.Step
			if p.Wallet > uint64(len(t.Wallets)) {
				return nil, bad("wallet", "%d: no such wallet (%d wallets)", p.Wallet, len(t.Wallets))
			}
			switch {
			case p.Kind == sim.ScanMPM || p.Kind == sim.ScanCPM:
				if p.To > uint64(len(t.Merchants)) {
					return nil, bad("to", "%d: no such merchant (%d merchants)", p.To, len(t.Merchants))
				}
			case p.Kind.IsTransfer():
				if p.To > uint64(len(t.Wallets)) {
					return nil, bad("to", "%d: no such wallet (%d wallets)", p.To, len(t.Wallets))
				}
				if p.To == p.Wallet {
					return nil, bad("to", "wallet %d pays itself", p.To)
				}
			}
			stepCount[p.Step]++
			if stepCount[p.Step] >= maxPerEpoch {
				return nil, bad("step", "step %d has more than %d payments", p.Step, maxPerEpoch-1)
			}
			t.Payments = append(t.Payments, *p)
		}
	}
	h := t.Header
	var errs []error
	for _, c := range []struct {
		field     string
		got, want int64
	}{{"wallets", int64(len(t.Wallets)), h.Wallets}, {"merchants", int64(len(t.Merchants)), h.Merchants}, {"payments", int64(len(t.Payments)), h.Payments}, {"steps", int64(lastStep), h.Steps}} {
		if c.got != c.want {
			errs = append(errs, &Error{File: name, Line: 1, Field: c.field, Err: fmt.Errorf("header says %d, the file has %d (truncated?)", c.want, c.got)})
		}
	}
	if len(t.Wallets) == 0 {
		errs = append(errs, &Error{File: name, Line: 1, Field: "wallets", Err: errors.New("a trace needs at least one wallet")})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t.lastStep = lastStep
	return t, nil
}

// MaxStep bounds step numbers: a century of hourly steps, far past any
// real log, keeps a bad trace from asking for billions of epochs.
const MaxStep = 876_000

// Steps is the last step (0 for a trace without payments).
func (t *Trace) Steps() uint32 { return t.lastStep }

// Step returns step s's payments, in file order. Payments are sorted by
// step (Load checks), so a step is one slice found by binary search.
func (t *Trace) Step(s uint32) []Payment {
	lo := sort.Search(len(t.Payments), func(i int) bool { return t.Payments[i].Step >= s })
	hi := sort.Search(len(t.Payments), func(i int) bool { return t.Payments[i].Step > s })
	return t.Payments[lo:hi]
}
