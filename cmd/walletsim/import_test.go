package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// paysimLog has good rows and broken ones; the comments say which line
// each broken row is on (the header is line 1).
const paysimLog = `step,type,amount,nameOrig,oldbalanceOrg,newbalanceOrig,nameDest,oldbalanceDest,newbalanceDest,isFraud,isFlaggedFraud
1,PAYMENT,98.64,C1231006815,1701.0,1602.36,M1979787155,0.0,0.0,0,0
1,PAYMENT,18.28,C1666544295,212.0,193.72,M2044282225,0.0,0.0,0,0
1,TRANSFER,181.0,C1305486145,181.0,0.0,C553264065,0.0,0.0,1,0
1,CASH_OUT,181.0,C840083671,181.0,0.0,C38997010,211.0,0.0,1,0
2,DEBIT,53.77,C712410124,417.0,363.23,C195600860,418.0,403.48,0,0
2,CASH_IN,1432.26,C1862994526,0.0,1432.26,C1866982838,0.0,0.0,0,0
2,PAYMENT,-5,C1,0,0,M1,0,0,0,0
2,TRANSFER,10,C1231006815,100,90,C1231006815,0,0,0,0
x,PAYMENT,10,C1,0,0,M1,0,0,0,0
3,PAYMENT,11.50,C1231006815,0,0,M1979787155,0,0,0,1
3,PAYMENT,10,C1,0,0
3,TRANSFER,20,C1231006815,0,0,C1666544295,0,0,0,0
`

// A PaySim log with valid and broken rows imports (the broken rows
// reported by line) and replays through the engine, at both paces.
func TestImportPaySimAndReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds walletsim and runs the engine")
	}
	dir := t.TempDir()
	csv := writeFile(t, dir, "log.csv", paysimLog)
	r := runBin(t, dir, "import", "paysim", csv, "--out", "log.trace")
	if r.code != 0 {
		t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"log.csv:8: amount:", "log.csv:9: nameDest:", "log.csv:10: step:", "log.csv:12: 6 fields, want 11"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not report %q:\n%s", want, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "12 rows, 8 payments over 3 steps") || !strings.Contains(r.stdout, "4 bad rows left out") {
		t.Errorf("stdout: %s", r.stdout)
	}
	for _, pace := range []string{"step", "fast"} {
		t.Run(pace, func(t *testing.T) {
			out := filepath.Join(dir, "run-"+pace)
			r := runBin(t, dir, "run", "quickstart", "--trace", "log.trace", "--pace", pace, "--out", out, "--quiet")
			if r.code != 0 {
				t.Fatalf("run --trace: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			s := readRunSummary(t, out)
			if s.Payments.Attempted != 8 || s.Engine.Wallets != 9 || !s.Invariants.MoneyConserved || s.Invariants.UnresolvedCommands != 0 {
				t.Errorf("summary %+v, want 8 payments over 9 wallets with invariants intact", s)
			}
			if s.Payments.Succeeded == 0 {
				t.Error("no replayed payment succeeded")
			}
			if _, err := os.Stat(filepath.Join(out, "calibration.json")); err == nil {
				t.Error("a trace replay wrote calibration.json: a trace has no scenario targets")
			}
		})
	}
}

func TestImportPaySimErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds walletsim")
	}
	dir := t.TempDir()
	csv := writeFile(t, dir, "log.csv", paysimLog)
	badHeader := writeFile(t, dir, "bad.csv", "step,kind\n1,PAYMENT\n")
	for _, tc := range []struct {
		name string
		args []string
		want string
		file string // must not exist afterwards
	}{
		{"strict", []string{"import", "paysim", csv, "--out", "strict.trace", "--strict"}, "4 bad rows (--strict): no trace written", "strict.trace"},
		{"no --out", []string{"import", "paysim", csv}, "--out TRACE is required", ""},
		{"bad header", []string{"import", "paysim", badHeader, "--out", "h.trace"}, "bad.csv:1: kind: unknown column", "h.trace"},
		{"missing file", []string{"import", "paysim", "nope.csv", "--out", "n.trace"}, "nope.csv", "n.trace"},
		{"bad class", []string{"import", "paysim", csv, "--out", "c.trace", "--class", "gold"}, "--class: unknown KYC class", "c.trace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBin(t, dir, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, tc.want)
			}
			if tc.file != "" {
				if _, err := os.Stat(filepath.Join(dir, tc.file)); err == nil {
					t.Errorf("%s was written", tc.file)
				}
			}
		})
	}
}

func TestRunTraceErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds walletsim")
	}
	dir := t.TempDir()
	good := `{"format":"walletsim-trace","version":1,"step":"1h","start":"2024-07-24T00:00:00+08:00","wallets":1,"merchants":0,"payments":1,"steps":1}` + "\n" +
		"w,1,C1,alipay,CN,cn_class3,100\np,1,topup,1,,100,CNY,,0\n"
	writeFile(t, dir, "good.trace", good)
	writeFile(t, dir, "bad.trace", strings.Replace(good, "topup,1,,100", "topup,7,,100", 1))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad record", []string{"run", "quickstart", "--trace", "bad.trace", "--quiet"}, "bad.trace:3: wallet: 7: no such wallet"},
		{"missing", []string{"run", "quickstart", "--trace", "none.trace", "--quiet"}, "none.trace"},
		{"pace", []string{"run", "quickstart", "--trace", "good.trace", "--pace", "slow", "--quiet"}, "--pace: unknown pace \"slow\""},
		{"pace without trace", []string{"run", "quickstart", "--pace", "fast", "--quiet"}, "--pace needs --trace"},
		{"scale with trace", []string{"run", "quickstart", "--trace", "good.trace", "--scale", "small", "--quiet"}, "--scale does not apply to --trace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBin(t, dir, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, tc.want)
			}
		})
	}
}
