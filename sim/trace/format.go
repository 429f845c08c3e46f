// Package trace is a recorded workload: wallets, merchants and payments in
// a file that `walletsim run --trace` (through Source, an event.Source)
// and `walletsim attack --trace` (through Load or Reader) replay instead
// of a scenario's generator. `walletsim import paysim` writes one from a
// PaySim log.
//
// The file is text, so it can be read, diffed and written by hand:
//
//	{"format":"walletsim-trace","version":1,"step":"1h",...}   header, JSON, line 1
//	w,1,C1231006815,alipay,CN,cn_class3,17013600                wallet ID NAME PROVIDER REGION CLASS BALANCE
//	m,1,M1979787155,CN,alipay                                    merchant ID NAME REGION CODES
//	p,1,scan_mpm,1,1,983964,CNY,,2                               payment STEP KIND WALLET TO AMOUNT CURRENCY FLAGS SOURCE_LINE
//
// Records are CSV. Wallets come first (IDs 1, 2, ... in order), then
// merchants (likewise), then payments in step order. Money is in minor
// units; a wallet's balance is in its region's currency. TO is a merchant
// ID (scan_mpm, scan_cpm), a wallet ID (p2p, cross_transfer, red_packet),
// an operator name (transit) or empty (topup). FLAGS is empty or
// "+"-joined labels (fraud, flagged) carried for attacks to score against.
// SOURCE_LINE is the line of the record the payment came from (0: none).
package trace

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/scenario"
)

// Format and Version identify a trace file; a reader refuses other
// versions rather than guess.
const (
	Format  = "walletsim-trace"
	Version = 1
)

// Header is a trace's first line.
type Header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Source describes where the trace came from ("paysim"), Input the
	// file it was converted from.
	Source string `json:"source,omitempty"`
	Input  string `json:"input,omitempty"`
	// Step is the simulated time one step stands for ("1h" for PaySim).
	Step string `json:"step"`
	// Start is the simulated time of step 1's beginning (RFC 3339).
	Start     string `json:"start"`
	Wallets   int64  `json:"wallets"`
	Merchants int64  `json:"merchants"`
	Payments  int64  `json:"payments"`
	Steps     int64  `json:"steps"`
	// Rejected counts source rows left out (reported when converting).
	Rejected int64 `json:"rejected,omitempty"`
}

// Flag bits of a payment.
const (
	FlagFraud   = 1 << iota // labelled fraud in the source (PaySim isFraud)
	FlagFlagged             // flagged by the source's own rule (isFlaggedFraud)
)

var flagNames = []string{"fraud", "flagged"}

// Wallet is a wallet record.
type Wallet struct {
	ID       uint64
	Name     string
	Provider sim.Provider
	Region   sim.Region
	Class    sim.Class
	Balance  int64
}

// Merchant is a merchant record.
type Merchant struct {
	ID     uint64
	Name   string
	Region sim.Region
	Codes  uint16 // bit set of providers whose codes it shows (and scans)
}

// Payment is a payment record.
type Payment struct {
	Step     uint32
	Kind     sim.Kind
	Wallet   uint64
	To       uint64 // merchant, wallet or operator; 0 for topup
	Amount   int64
	Currency sim.Currency
	Flags    uint8
	Line     uint32 // source line
}

// Record is one line after the header: exactly one field is set.
type Record struct {
	Line     int
	Wallet   *Wallet
	Merchant *Merchant
	Payment  *Payment
}

// Error is a bad trace line.
type Error struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Field, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Writer writes a trace.
type Writer struct {
	bw  *bufio.Writer
	csv *csv.Writer
	rec []string
}

// NewWriter writes h and returns a writer for the records.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	h.Format, h.Version = Format, Version
	b, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.Write(append(b, '\n')); err != nil {
		return nil, err
	}
	return &Writer{bw: bw, csv: csv.NewWriter(bw)}, nil
}

func (w *Writer) write(fields ...string) error {
	w.rec = append(w.rec[:0], fields...)
	return w.csv.Write(w.rec)
}

// Wallet writes a wallet record.
func (w *Writer) Wallet(x Wallet) error {
	return w.write("w", u(x.ID), x.Name, x.Provider.String(), x.Region.String(), x.Class.String(), strconv.FormatInt(x.Balance, 10))
}

// Merchant writes a merchant record.
func (w *Writer) Merchant(x Merchant) error {
	return w.write("m", u(x.ID), x.Name, x.Region.String(), CodeSet(x.Codes))
}

// Payment writes a payment record.
func (w *Writer) Payment(x Payment) error {
	to := ""
	switch {
	case x.Kind == sim.Transit:
		to = sim.Operator(x.To).String()
	case x.Kind != sim.TopUp:
		to = u(x.To)
	}
	var flags []string
	for i, n := range flagNames {
		if x.Flags&(1<<i) != 0 {
			flags = append(flags, n)
		}
	}
	return w.write("p", u(uint64(x.Step)), x.Kind.String(), u(x.Wallet), to, strconv.FormatInt(x.Amount, 10), x.Currency.String(), strings.Join(flags, "+"), u(uint64(x.Line)))
}

// Flush writes what is buffered.
func (w *Writer) Flush() error {
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return err
	}
	return w.bw.Flush()
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

// CodeSet names a provider bit set as "+"-joined providers.
func CodeSet(mask uint16) string {
	var out []string
	for _, p := range sim.Providers() {
		if mask&(1<<p) != 0 {
			out = append(out, p.String())
		}
	}
	return strings.Join(out, "+")
}

// Reader reads a trace record by record, checking each line's syntax
// (Load checks how the records fit together).
type Reader struct {
	name   string
	Header Header
	StepMS int64
	// StartMS is Header.Start in unix milliseconds.
	StartMS int64
	csv     *csv.Reader
}

// NewReader reads and checks the header.
func NewReader(r io.Reader, name string) (*Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	line, err := br.ReadString('\n')
	if err != nil && !(err == io.EOF && line != "") {
		if err == io.EOF {
			return nil, &Error{File: name, Line: 1, Err: errors.New("empty file: want a walletsim trace header")}
		}
		return nil, &Error{File: name, Line: 1, Err: err}
	}
	tr := &Reader{name: name}
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tr.Header); err != nil {
		return nil, &Error{File: name, Line: 1, Err: fmt.Errorf("not a walletsim trace header: %v", err)}
	}
	h := &tr.Header
	herr := func(field, format string, a ...any) error {
		return &Error{File: name, Line: 1, Field: field, Err: fmt.Errorf(format, a...)}
	}
	if h.Format != Format {
		return nil, herr("format", "%q, want %q", h.Format, Format)
	}
	if h.Version != Version {
		return nil, herr("version", "%d, this walletsim reads version %d", h.Version, Version)
	}
	step, err := time.ParseDuration(h.Step)
	if err != nil || step < time.Millisecond {
		return nil, herr("step", "%q is not a duration of at least 1ms", h.Step)
	}
	start, err := time.Parse(time.RFC3339, h.Start)
	if err != nil {
		return nil, herr("start", "%q is not an RFC 3339 time", h.Start)
	}
	if h.Wallets < 0 || h.Merchants < 0 || h.Payments < 0 || h.Steps < 0 || h.Wallets > 1<<32-1 || h.Merchants > 1<<32-1 {
		return nil, herr("", "negative or oversized counts")
	}
	tr.StepMS, tr.StartMS = step.Milliseconds(), start.UnixMilli()
	c := csv.NewReader(br)
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	tr.csv = c
	return tr, nil
}

// Next returns the next record; io.EOF after the last. Every error names
// the file and line; a trace with a bad line is not replayed.
func (r *Reader) Next() (Record, error) {
	rec, err := r.csv.Read()
	if err == io.EOF {
		return Record{}, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return Record{}, &Error{File: r.name, Line: pe.StartLine + 1, Err: pe.Err}
		}
		return Record{}, fmt.Errorf("%s: %w", r.name, err)
	}
	l, _ := r.csv.FieldPos(0)
	line := l + 1 // the header line is not the CSV reader's
	bad := func(field, format string, a ...any) (Record, error) {
		return Record{}, &Error{File: r.name, Line: line, Field: field, Err: fmt.Errorf(format, a...)}
	}
	want := map[string]int{"w": 7, "m": 5, "p": 9}[rec[0]]
	if want == 0 {
		return bad("", "record type %q, want w (wallet), m (merchant) or p (payment)", rec[0])
	}
	if len(rec) != want {
		return bad("", "%s record with %d fields, want %d", rec[0], len(rec), want)
	}
	id := func(field, s string, zero bool) (uint64, error) {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v > 1<<32-1 || (v == 0 && !zero) {
			return 0, &Error{File: r.name, Line: line, Field: field, Err: fmt.Errorf("%q is not an ID in 1..%d", s, uint64(1<<32-1))}
		}
		return v, nil
	}
	switch rec[0] {
	case "w":
		x := &Wallet{Name: rec[2]}
		if x.ID, err = id("id", rec[1], false); err != nil {
			return Record{}, err
		}
		if x.Provider, err = sim.ParseProvider(rec[3]); err != nil {
			return bad("provider", "%v", err)
		}
		if x.Region, err = sim.ParseRegion(rec[4]); err != nil {
			return bad("region", "%v", err)
		}
		if x.Class, err = sim.ParseClass(rec[5]); err != nil {
			return bad("class", "%v", err)
		}
		if x.Balance, err = strconv.ParseInt(rec[6], 10, 64); err != nil || x.Balance < 0 || x.Balance > 1<<48 {
			return bad("balance", "%q is not an amount in minor units, 0..%d", rec[6], int64(1<<48))
		}
		return Record{Line: line, Wallet: x}, nil
	case "m":
		x := &Merchant{Name: rec[2]}
		if x.ID, err = id("id", rec[1], false); err != nil {
			return Record{}, err
		}
		if x.Region, err = sim.ParseRegion(rec[3]); err != nil {
			return bad("region", "%v", err)
		}
		if x.Codes, err = scenario.ParseCodeSet(rec[4]); err != nil || x.Codes == 0 {
			return bad("codes", "%q: want providers joined by + (%v)", rec[4], err)
		}
		return Record{Line: line, Merchant: x}, nil
	}
	x := &Payment{}
	step, err := id("step", rec[1], false)
	if err != nil {
		return Record{}, err
	}
	x.Step = uint32(step)
	if x.Kind, err = sim.ParseKind(rec[2]); err != nil || !x.Kind.IsPayment() {
		return bad("kind", "%q is not a payment kind", rec[2])
	}
	if x.Wallet, err = id("wallet", rec[3], false); err != nil {
		return Record{}, err
	}
	switch x.Kind {
	case sim.TopUp:
		if rec[4] != "" {
			return bad("to", "%q: a topup has no counterparty (leave it empty)", rec[4])
		}
	case sim.Transit:
		o, err := sim.ParseOperator(rec[4])
		if err != nil {
			return bad("to", "%v", err)
		}
		x.To = uint64(o)
	default:
		if x.To, err = id("to", rec[4], false); err != nil {
			return Record{}, err
		}
	}
	if x.Amount, err = strconv.ParseInt(rec[5], 10, 64); err != nil || x.Amount <= 0 || x.Amount > 1<<48 {
		return bad("amount", "%q is not an amount in minor units, 1..%d", rec[5], int64(1<<48))
	}
	if x.Currency, err = sim.ParseCurrency(rec[6]); err != nil {
		return bad("currency", "%v", err)
	}
	if rec[7] != "" {
		for _, f := range strings.Split(rec[7], "+") {
			i := indexOf(flagNames, f)
			if i < 0 {
				return bad("flags", "%q: want %s joined by +", f, strings.Join(flagNames, ", "))
			}
			x.Flags |= 1 << i
		}
	}
	src, err := id("source_line", rec[8], true)
	if err != nil {
		return Record{}, err
	}
	x.Line = uint32(src)
	return Record{Line: line, Payment: x}, nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
