package paysim

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const header = "step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,newbalanceDest,isFraud,isFlaggedFraud\n"

// readAll returns the good rows and the row errors.
func readAll(t *testing.T, in string) ([]Row, []*RowError, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(in), "log.csv")
	if err != nil {
		return nil, nil, err
	}
	var rows []Row
	var bad []*RowError
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows, bad, nil
		}
		var re *RowError
		if errors.As(err, &re) {
			bad = append(bad, re)
			continue
		}
		if err != nil {
			return rows, bad, err
		}
		rows = append(rows, row)
	}
}

func TestHeader(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", "log.csv:1: empty file"},
		{"missing column", strings.Replace(header, ",isFlaggedFraud", "", 1), "log.csv:1: isFlaggedFraud: missing column"},
		{"unknown column", strings.Replace(header, "isFlaggedFraud", "flag", 1), "log.csv:1: flag: unknown column"},
		{"twice", strings.Replace(header, "isFlaggedFraud", "isFraud", 1), "log.csv:1: isFraud: column given twice"},
		{"reordered is fine", "type,step,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,newbalanceDest,isFraud,isFlaggedFraud\nPAYMENT,1,1.00,C1,0,0,M1,0,0,0,0\n", ""},
		{"byte-order mark is fine", "\ufeff" + header, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, _, err := readAll(t, tc.in)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(tc.in, "type") && (len(rows) != 1 || rows[0].Step != 1 || rows[0].Type != Payment) {
					t.Errorf("reordered columns read as %+v", rows)
				}
				return
			}
			if err == nil || err.Error() != tc.want && !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRows(t *testing.T) {
	for _, tc := range []struct {
		name, row, want string // want "" = a good row
	}{
		{"payment", "1,PAYMENT,9839.64,C1231006815,170136.0,160296.36,M1979787155,0.0,0.0,0,0", ""},
		{"exponent", "1,TRANSFER,1.5E3,C1,0,0,C2,0,0,0,0", ""},
		{"spaces around fields", "1, PAYMENT ,1.00,C1,0,0,M1,0,0,0,0", ""},
		{"fields", "1,PAYMENT,1.00,C1", "log.csv:2: 4 fields, want 11"},
		{"step", "0,PAYMENT,1.00,C1,0,0,M1,0,0,0,0", "log.csv:2: step: \"0\" is not a step"},
		{"type", "1,REFUND,1.00,C1,0,0,M1,0,0,0,0", "log.csv:2: type: unknown type \"REFUND\""},
		{"negative", "1,PAYMENT,-1,C1,0,0,M1,0,0,0,0", "log.csv:2: amount: \"-1\": negative amount"},
		{"zero", "1,PAYMENT,0.0,C1,0,0,M1,0,0,0,0", "log.csv:2: amount: zero"},
		{"fractions of a cent", "1,PAYMENT,1.005,C1,0,0,M1,0,0,0,0", "log.csv:2: amount: \"1.005\""},
		{"trailing zeros are cents", "1,PAYMENT,1.5000,C1,0,0,M1,0,0,0,0", ""},
		{"balance", "1,PAYMENT,1,C1,abc,0,M1,0,0,0,0", "log.csv:2: oldbalanceOrg:"},
		{"origin a merchant", "1,PAYMENT,1,M1,0,0,M2,0,0,0,0", "log.csv:2: nameOrig:"},
		{"payment to a customer", "1,PAYMENT,1,C1,0,0,C2,0,0,0,0", "log.csv:2: nameDest: \"C2\": a PAYMENT goes to a merchant"},
		{"transfer to a merchant", "1,TRANSFER,1,C1,0,0,M2,0,0,0,0", "log.csv:2: nameDest: \"M2\": a TRANSFER goes to a customer"},
		{"self transfer", "1,CASH_OUT,1,C1,0,0,C1,0,0,0,0", "log.csv:2: nameDest: \"C1\" pays itself"},
		{"fraud flag", "1,PAYMENT,1,C1,0,0,M1,0,0,yes,0", "log.csv:2: isFraud: \"yes\" is not 0 or 1"},
		{"bare quote", "1,PAYMENT,1,C\"1,0,0,M1,0,0,0,0", "log.csv:2: bare \""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, bad, err := readAll(t, header+tc.row+"\n")
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if len(bad) != 0 || len(rows) != 1 {
					t.Fatalf("want one good row, got %v %v", rows, bad)
				}
				return
			}
			if len(bad) != 1 || !strings.HasPrefix(bad[0].Error(), tc.want) {
				t.Fatalf("errors %v, want one starting %q", bad, tc.want)
			}
		})
	}
}

// A bad row costs only itself: the rows after it are read, each error
// carries its own line.
func TestBadRowsKeepTheirLines(t *testing.T) {
	b, err := os.ReadFile("testdata/mixed.csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, bad, err := readAll(t, string(b))
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, e := range bad {
		lines = append(lines, e.Line)
	}
	if want := []int{8, 9, 10, 11, 12, 13, 14, 15}; !equal(lines, want) {
		t.Errorf("bad rows at lines %v, want %v", lines, want)
	}
	if len(rows) != 8 || rows[7].Line != 17 || rows[7].Amount != 1150 || !rows[7].IsFlaggedFraud {
		t.Errorf("good rows %+v", rows)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseMoney(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"9839.64", 983964, false}, {"181.0", 18100, false}, {"0", 0, false}, {"1.5E7", 1_500_000_000, false},
		{"2.5e-1", 25, false}, {"1e-3", 0, true}, {"-1", 0, true}, {"", 0, true}, {"1,5", 0, true},
		{"12.340", 1234, false}, {"1.2.3", 0, true}, {"NaN", 0, true}, {"Inf", 0, true}, {"1e999", 0, true},
		{"99999999999999999999", 0, true}, {"+5", 500, false}, {"e5", 0, true},
	} {
		got, err := ParseMoney(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseMoney(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func convertOptions() Options {
	return Options{Provider: sim.Alipay, Region: sim.CN, Class: sim.CNClass3, Start: time.Date(2024, 7, 24, 0, 0, 0, 0, time.FixedZone("CST", 8*3600)), Input: "mixed.csv"}
}

// The trace a mixed log converts to (go test -update rewrites it).
func TestConvertGolden(t *testing.T) {
	f, err := os.Open("testdata/mixed.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	res, err := Convert(f, "testdata/mixed.csv", &out, convertOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 16 || res.Payments != 8 || res.Rejected != 8 || len(res.Errors) != 8 || res.Steps != 3 {
		t.Errorf("result %+v", res)
	}
	golden := filepath.Join("testdata", "mixed.golden.trace")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("trace differs from %s (go test -update if intended):\n%s", golden, out.Bytes())
	}
	tr, err := trace.Load(bytes.NewReader(out.Bytes()), "converted")
	if err != nil {
		t.Fatalf("the converted trace does not load: %v", err)
	}
	// C1231006815 opens with its first balance, 170136.00, and C0042 (not
	// a plain number: a leading zero) keeps its name.
	if tr.Wallets[0].Balance != 17_013_600 || !bytes.Contains(out.Bytes(), []byte(",C0042,")) {
		t.Errorf("first wallet %+v", tr.Wallets[0])
	}
}

func TestConvertErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"no usable rows", header + "1,PAYMENT,-1,C1,0,0,M1,0,0,0,0\n", "log.csv:1: no usable rows (1 rejected)"},
		{"bad header", "a,b\n", "log.csv:1: a: unknown column"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Convert(strings.NewReader(tc.in), "log.csv", io.Discard, convertOptions())
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Convert(strings.NewReader(header), "log.csv", io.Discard, Options{}); err == nil {
		t.Error("options without a provider accepted")
	}
}
