// Package paysim reads PaySim logs (the synthetic mobile-money data set of
// Lopez-Rojas et al., 2016) and converts them into walletsim traces.
//
// A PaySim log is a CSV file with a header row and the columns
// step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,
// oldbalanceDest,newbalanceDest,isFraud,isFlaggedFraud. One step is one
// simulated hour. Money is read exactly (decimal strings to minor units,
// never through a float). A row that cannot be read is reported as a
// *RowError naming the file, line and column, and reading goes on: one bad
// row in six million should not cost the other rows, but it must not pass
// silently either.
package paysim

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"

	"github.com/walletsim/walletsim/sim"
)

// Type is a PaySim transaction type.
type Type uint8

// Types.
const (
	TypeNone Type = iota
	CashIn        // money paid in at an agent: the origin's balance grows
	CashOut       // money taken out at an agent (the destination)
	Debit         // money sent to a bank account (the destination)
	Payment       // a purchase from a merchant (destination M...)
	Transfer      // a transfer to another customer
	NumTypes
)

var typeNames = [NumTypes]string{"", "CASH_IN", "CASH_OUT", "DEBIT", "PAYMENT", "TRANSFER"}

func (t Type) String() string {
	if t < NumTypes {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// ParseType maps PaySim's name to a Type.
func ParseType(s string) (Type, error) {
	for i := Type(1); i < NumTypes; i++ {
		if typeNames[i] == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown type %q (want one of %s)", s, strings.Join(typeNames[1:], ", "))
}

// Columns are PaySim's header, in the order the data set ships them.
var Columns = []string{"step", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest", "oldbalanceDest", "newbalanceDest", "isFraud", "isFlaggedFraud"}

const (
	colStep = iota
	colType
	colAmount
	colNameOrig
	colOldOrig
	colNewOrig
	colNameDest
	colOldDest
	colNewDest
	colFraud
	colFlagged
	numCols
)

// MaxStep bounds the step column: PaySim's month is 743 steps; a hundred
// years of hours is far beyond any real log and keeps epoch numbers small.
const MaxStep = 876_000

// MaxAmount bounds money columns in minor units (the engine's own
// per-command bound, event.Command.Validate).
const MaxAmount = 1 << 48

// Row is one transaction. Money is in minor units (cents).
type Row struct {
	Line           int // line in the file, from 1 (the header)
	Step           int
	Type           Type
	Amount         int64
	NameOrig       string
	OldBalanceOrig int64
	NewBalanceOrig int64
	NameDest       string
	OldBalanceDest int64
	NewBalanceDest int64
	IsFraud        bool
	IsFlaggedFraud bool
}

// RowError is a row the reader skipped, or a header it refused.
type RowError struct {
	File   string
	Line   int
	Column string // "" when the whole row is at fault
	Err    error
}

// BadInput marks it as the caller's mistake (the CLI exits 2).
func (e *RowError) BadInput() bool { return true }

func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: %s: %v", e.File, e.Line, e.Column, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// Reader reads a PaySim log row by row.
type Reader struct {
	name string
	csv  *csv.Reader
	idx  [numCols]int // column -> field index
	rec  []string
}

// NewReader reads and checks the header. name labels errors (the file
// path). The columns may come in any order; each must be there once, and
// no other column may be (a different file format read as PaySim would
// give wrong money, not an error).
func NewReader(r io.Reader, name string) (*Reader, error) {
	c := csv.NewReader(r)
	c.FieldsPerRecord = -1
	c.ReuseRecord = true
	pr := &Reader{name: name, csv: c}
	head, err := c.Read()
	if err == io.EOF {
		return nil, &RowError{File: name, Line: 1, Err: errors.New("empty file: want a header row " + strings.Join(Columns, ","))}
	}
	if err != nil {
		return nil, &RowError{File: name, Line: 1, Err: csvErr(err)}
	}
	for i := range pr.idx {
		pr.idx[i] = -1
	}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) // a spreadsheet's byte-order mark
		col := -1
		for j, want := range Columns {
			if h == want {
				col = j
			}
		}
		switch {
		case col < 0:
			return nil, &RowError{File: name, Line: 1, Column: h, Err: fmt.Errorf("unknown column (a PaySim header is %s)", strings.Join(Columns, ","))}
		case pr.idx[col] >= 0:
			return nil, &RowError{File: name, Line: 1, Column: h, Err: errors.New("column given twice")}
		}
		pr.idx[col] = i
	}
	for j, want := range Columns {
		if pr.idx[j] < 0 {
			return nil, &RowError{File: name, Line: 1, Column: want, Err: errors.New("missing column")}
		}
	}
	return pr, nil
}

// csvErr drops encoding/csv's own position prefix: RowError carries it.
func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Next returns the next row; io.EOF after the last. A *RowError is a bad
// row: the caller reports it and calls Next again. Any other error ends
// the file.
func (r *Reader) Next() (Row, error) {
	rec, err := r.csv.Read()
	if err == io.EOF {
		return Row{}, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// encoding/csv resumes at the next line after a syntax error.
			return Row{}, &RowError{File: r.name, Line: pe.StartLine, Err: csvErr(err)}
		}
		return Row{}, fmt.Errorf("%s: %w", r.name, err)
	}
	line, _ := r.csv.FieldPos(0)
	r.rec = rec
	if len(rec) != numCols {
		return Row{}, &RowError{File: r.name, Line: line, Err: fmt.Errorf("%d fields, want %d", len(rec), numCols)}
	}
	row := Row{Line: line}
	bad := func(col int, format string, a ...any) (Row, error) {
		return Row{}, &RowError{File: r.name, Line: line, Column: Columns[col], Err: fmt.Errorf(format, a...)}
	}
	f := func(col int) string { return strings.TrimSpace(rec[r.idx[col]]) }
	step, err := strconv.Atoi(f(colStep))
	if err != nil || step < 1 || step > MaxStep {
		return bad(colStep, "%q is not a step in 1..%d", f(colStep), MaxStep)
	}
	row.Step = step
	if row.Type, err = ParseType(f(colType)); err != nil {
		return bad(colType, "%v", err)
	}
	money := []struct {
		col int
		dst *int64
	}{{colAmount, &row.Amount}, {colOldOrig, &row.OldBalanceOrig}, {colNewOrig, &row.NewBalanceOrig}, {colOldDest, &row.OldBalanceDest}, {colNewDest, &row.NewBalanceDest}}
	for _, m := range money {
		v, err := ParseMoney(f(m.col))
		if err != nil {
			return bad(m.col, "%v", err)
		}
		*m.dst = v
	}
	if row.Amount == 0 {
		return bad(colAmount, "zero: a payment must move money")
	}
	row.NameOrig, row.NameDest = f(colNameOrig), f(colNameDest)
	if err := checkName(row.NameOrig, "C"); err != nil {
		return bad(colNameOrig, "%v", err)
	}
	if err := checkName(row.NameDest, "CM"); err != nil {
		return bad(colNameDest, "%v", err)
	}
	switch row.Type {
	case Payment:
		if row.NameDest[0] != 'M' {
			return bad(colNameDest, "%q: a PAYMENT goes to a merchant (M...)", row.NameDest)
		}
	case Transfer, CashOut, Debit:
		if row.NameDest[0] != 'C' {
			return bad(colNameDest, "%q: a %s goes to a customer (C...)", row.NameDest, row.Type)
		}
		if row.NameDest == row.NameOrig {
			return bad(colNameDest, "%q pays itself", row.NameDest)
		}
	}
	for _, b := range []struct {
		col int
		dst *bool
	}{{colFraud, &row.IsFraud}, {colFlagged, &row.IsFlaggedFraud}} {
		switch f(b.col) {
		case "0":
		case "1":
			*b.dst = true
		default:
			return bad(b.col, "%q is not 0 or 1", f(b.col))
		}
	}
	return row, nil
}

// checkName accepts an account name: a prefix letter (C customer, M
// merchant) and up to 63 more printable, non-space characters.
func checkName(s, prefixes string) error {
	if s == "" {
		return errors.New("empty account name")
	}
	if len(s) > 64 {
		return fmt.Errorf("account name of %d bytes, at most 64", len(s))
	}
	if !strings.ContainsRune(prefixes, rune(s[0])) {
		want := "C (customer)"
		if len(prefixes) > 1 {
			want = "C (customer) or M (merchant)"
		}
		return fmt.Errorf("%q: want a name starting with %s", s, want)
	}
	for _, c := range s {
		if c <= ' ' || c == 0x7f || c == ',' || c == '"' {
			return fmt.Errorf("%q: names are printable, without spaces, commas or quotes", s)
		}
	}
	return nil
}

// ParseMoney reads a non-negative decimal amount ("9839.64", "181.0",
// "1.5E7") into minor units exactly: plain decimals through
// sim.ParseMajor, exponents through a rational, never a float. An amount
// with fractions of a cent is an error, not rounded.
func ParseMoney(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty amount")
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%q: negative amount", s)
	}
	if !strings.ContainsAny(s, "eE") {
		v, err := sim.ParseMajor(s)
		if err == nil && v <= MaxAmount {
			return v, nil
		}
		if err == nil {
			return 0, fmt.Errorf("%q: more than %d", s, int64(MaxAmount/100))
		}
		// More than two decimals: fine if the extra digits are zeros.
		if whole, frac, ok := strings.Cut(s, "."); ok && len(frac) > 2 && strings.Trim(frac[2:], "0") == "" {
			return ParseMoney(whole + "." + frac[:2])
		}
		return 0, fmt.Errorf("%q: want a decimal amount with at most 2 decimals", s)
	}
	if len(s) > 64 {
		return 0, fmt.Errorf("%q: too long for an amount", s[:16]+"...")
	}
	mantissa, exp, _ := strings.Cut(strings.ToLower(s), "e")
	e, err := strconv.Atoi(exp)
	if err != nil || e < -20 || e > 20 {
		return 0, fmt.Errorf("%q: bad exponent", s)
	}
	if mantissa == "" || strings.ContainsAny(mantissa, "+-") {
		return 0, fmt.Errorf("%q: not a decimal number", s)
	}
	r, ok := new(big.Rat).SetString(mantissa + "e" + exp)
	if !ok {
		return 0, fmt.Errorf("%q: not a decimal number", s)
	}
	r.Mul(r, big.NewRat(100, 1))
	if !r.IsInt() {
		return 0, fmt.Errorf("%q: fractions of a cent", s)
	}
	n := r.Num()
	if !n.IsInt64() || n.Int64() > MaxAmount || n.Int64() < 0 {
		return 0, fmt.Errorf("%q: out of range", s)
	}
	return n.Int64(), nil
}
