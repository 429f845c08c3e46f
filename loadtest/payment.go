package loadtest

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/event"
)

// payment is one generated payment on its way through a template: its
// variables, its first request (rendered under the stream's lock, where
// the state that reused keys need lives) and the money it moves.
type payment struct {
	form  Form
	vars  Vars
	first Rendered
	err   error // rendering the first request failed
	// What a valid payment moves, for the end-state check.
	from, to string
	amount   int64
	// wait: a reused key's request is sent once its original has its
	// answer (Stream.awaitAnswer).
	wait chan struct{}
}

// Accounts names a generated payment's accounts: payer and payee keys
// unique across kinds. A top-up comes from outside the target.
func Accounts(c *event.Command) (from, to string) {
	w := "wallet-" + strconv.FormatUint(c.Wallet, 10)
	switch c.Kind {
	case sim.ScanMPM, sim.ScanCPM:
		return w, "merchant-" + strconv.FormatUint(c.Counterparty, 10)
	case sim.P2P, sim.RedPacket, sim.CrossTransfer:
		return w, "wallet-" + strconv.FormatUint(c.Counterparty, 10)
	case sim.Transit:
		return w, "operator-" + sim.Operator(c.Counterparty).String()
	}
	return ExternalPrefix + "bank", w
}

// templateForms are the invalid forms a template lists, in Form order
// (the order the seed picks from, as the built-in path does).
func templateForms(t *Template) []Form {
	out := make([]Form, 0, len(t.Invalid))
	for f := range t.Invalid {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// nextPayment is the next payment of this shard through template t.
func (s *Stream) nextPayment(t *Template, forms []Form) *payment {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, c := s.nextIndexed()
	from, to := Accounts(c)
	p := &payment{from: from, to: to, amount: c.Amount}
	p.vars = Vars{
		Target: s.base, Token: s.token, Seq: k, Key: s.nonce + "-" + strconv.FormatUint(k, 10),
		Kind: c.Kind.String(), From: from, To: to, Amount: c.Amount, Currency: c.Currency.String(),
	}
	p.form = s.formFor(k, forms)
	v := p.vars // what is sent may differ from what the payment is
	switch p.form {
	case NegativeAmount:
		v.Amount = -c.Amount
	case UnknownWallet:
		bad := "wallet-" + strconv.Itoa(s.unknownWallet(k))
		if c.Kind == sim.TopUp {
			v.To = bad
		} else {
			v.From = bad
		}
	case WrongCurrency:
		v.Currency = "HKD"
		if c.Currency == sim.HKD {
			v.Currency = "CNY"
		}
	case ReusedKey:
		r := s.recent[s.reusedSlot(k)]
		v.Key, p.wait = r.key, r.done
		p.first, p.err = t.Steps[0].Request.Render(&v)
		if p.err == nil && p.first.URL == r.path && bytes.Equal(p.first.Body, r.body) {
			v.Amount++
		} else {
			return p
		}
	}
	if p.first, p.err = t.Steps[0].Request.Render(&v); p.err != nil {
		return p
	}
	switch p.form {
	case MalformedJSON:
		p.first.Body = p.first.Body[:len(p.first.Body)/2]
	case UnknownField:
		if b := p.first.Body; len(b) > 0 && b[len(b)-1] == '}' {
			p.first.Body = append(b[:len(b)-1:len(b)-1], `,"tip":100}`...)
		}
	case OversizedBody:
		b := p.first.Body
		padded := make([]byte, 0, oversize+len(b)+1)
		if len(b) > 0 && b[0] == '{' {
			padded = append(padded, '{')
			b = b[1:]
		}
		padded = append(padded, bytes.Repeat([]byte(" "), oversize)...)
		p.first.Body = append(padded, b...)
	case Valid:
		s.sentValid(recentKey{key: v.Key, path: p.first.URL, body: p.first.Body})
	}
	return p
}
