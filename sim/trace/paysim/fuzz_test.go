package paysim

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/sim/trace"
)

// FuzzConvert feeds arbitrary bytes to the PaySim reader and converter:
// neither may panic, every bad row names a line inside the file, and
// whatever converts must load back as a valid trace with the same counts.
// Seed corpus: testdata/fuzz/FuzzConvert and testdata/mixed.csv.
func FuzzConvert(f *testing.F) {
	if b, err := os.ReadFile("testdata/mixed.csv"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(header + "1,PAYMENT,1.00,C1,0,0,M1,0,0,0,0\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		lines := bytes.Count(in, []byte("\n")) + 1
		r, err := NewReader(bytes.NewReader(in), "f.csv")
		if err == nil {
			for {
				row, err := r.Next()
				if err == io.EOF {
					break
				}
				var re *RowError
				if errors.As(err, &re) {
					if re.Line < 2 || re.Line > lines {
						t.Fatalf("row error at line %d of a %d-line file: %v", re.Line, lines, re)
					}
					continue
				}
				if err != nil {
					break
				}
				if row.Amount <= 0 || row.Amount > MaxAmount || row.Step < 1 || row.Step > MaxStep || row.Line < 2 || row.Line > lines {
					t.Fatalf("accepted an impossible row %+v", row)
				}
			}
		}
		var out bytes.Buffer
		res, err := Convert(bytes.NewReader(in), "f.csv", &out, convertOptions())
		if err != nil {
			return
		}
		tr, err := trace.Load(bytes.NewReader(out.Bytes()), "converted")
		if err != nil {
			t.Fatalf("converted trace does not load: %v\n%s", err, out.String())
		}
		if int64(len(tr.Payments)) != res.Payments || int64(len(tr.Wallets)) != res.Wallets || res.Payments+res.Rejected != res.Rows {
			t.Fatalf("counts: result %+v, trace %d payments %d wallets", res, len(tr.Payments), len(tr.Wallets))
		}
		if strings.Contains(out.String(), "\r") {
			t.Fatalf("a carriage return leaked into the trace")
		}
	})
}
