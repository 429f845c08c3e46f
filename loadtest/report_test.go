package loadtest

import (
	"bytes"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var t0 = time.Date(2024, 11, 11, 0, 0, 0, 0, time.UTC)

// synthetic makes n results a second apart by 1/rate, with answers in a
// fixed rotation: settled, declined, an invalid request refused, an
// invalid request answered wrongly, a transport error.
func synthetic(n int, start time.Time, rate int) []vegeta.Result {
	out := make([]vegeta.Result, n)
	for i := range out {
		r := vegeta.Result{
			Seq: uint64(i), Timestamp: start.Add(time.Duration(i) * time.Second / time.Duration(rate)),
			Latency: time.Duration(1+i%10) * time.Millisecond, Method: "POST", BytesOut: 80, BytesIn: 150,
		}
		switch i % 5 {
		case 0:
			r.Code, r.URL, r.Body = 200, "http://x/v1/payments#valid", []byte(`{"status":"settled"}`)
		case 1:
			r.Code, r.URL, r.Body = 402, "http://x/v1/transfers#valid", []byte(`{"code":"insufficient_funds","message":"m","status":"declined"}`)
			r.Error = "402 Payment Required"
		case 2:
			r.Code, r.URL, r.Body = 422, "http://x/v1/topups#negative_amount", []byte(`{"code":"invalid_amount","message":"m"}`)
			r.Error = "422 Unprocessable Entity"
		case 3:
			r.Code, r.URL, r.Body = 200, "http://x/v1/topups#wrong_currency", []byte(`{"status":"settled"}`)
		case 4:
			r.Code, r.URL, r.Error = 0, "http://x/v1/payments#valid", "connection refused"
		}
		out[i] = r
	}
	return out
}

func TestAggregator(t *testing.T) {
	agg := NewAggregator()
	for _, r := range synthetic(1000, t0, 100) {
		agg.Add(&r)
	}
	rep := agg.Finish()
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"requests", rep.Requests, int64(1000)},
		{"valid", rep.Valid.Requests, int64(600)},
		{"settled", rep.Valid.Settled, int64(200)},
		{"declined", rep.Valid.Declined, int64(200)},
		{"failed", rep.Valid.Failed, int64(200)},
		{"invalid refused", rep.Invalid.Refused, int64(200)},
		{"invalid unexpected", rep.Invalid.ByForm["wrong_currency"].Unexpected, int64(200)},
		{"success", rep.SuccessRatio, 0.6},
		{"vegeta success", rep.VegetaSuccessRatio, 0.4},
		{"decline codes", rep.Declines["insufficient_funds"], int64(200)},
		{"p50 (HDR, 3 digits)", math.Round(rep.LatencyMS.P50*100) / 100, 5.0},
		{"max", math.Round(rep.LatencyMS.Max*100) / 100, 10.01},
		{"status 0", rep.StatusCodes["0"], int64(200)},
	} {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
	}
	if len(rep.HTML().Latency.P99) != 10 {
		t.Errorf("10 s of results gave %d seconds of latency series", len(rep.HTML().Latency.P99))
	}
}

// writeDir writes results.bin and attack.json as an attack would.
func writeDir(t *testing.T, dir string, results []vegeta.Result, shard string, planned int64) {
	t.Helper()
	var buf bytes.Buffer
	enc := vegeta.NewEncoder(&buf)
	agg := NewAggregator()
	agg.origin(results[0].Timestamp)
	for i := range results {
		if err := enc.Encode(&results[i]); err != nil {
			t.Fatal(err)
		}
		agg.Add(&results[i])
	}
	if err := os.WriteFile(filepath.Join(dir, "results.bin"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := agg.Finish()
	rep.Scenario, rep.Target, rep.Profile, rep.Shards, rep.Planned = "quickstart", "http://x", "constant", []string{shard}, planned
	rep.Dropped = planned - rep.Requests
	if _, err := rep.WriteJSON(dir); err != nil {
		t.Fatal(err)
	}
}

// TestMerge: two shards' directories report as one attack, every request
// of both counted; the text report is kept as a golden file.
func TestMerge(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeDir(t, a, synthetic(500, t0, 50), "0/2", 500)
	writeDir(t, b, synthetic(300, t0.Add(10*time.Millisecond), 50), "1/2", 310)
	rep, err := Merge([]string{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != 800 || rep.Planned != 810 || rep.Dropped != 10 || rep.Valid.Requests != 480 {
		t.Errorf("merged: %d requests of %d planned, %d dropped, %d valid; want 800, 810, 10, 480", rep.Requests, rep.Planned, rep.Dropped, rep.Valid.Requests)
	}
	var txt bytes.Buffer
	rep.WriteText(&txt)
	checkGolden(t, "merged.txt", txt.Bytes())
	out := t.TempDir()
	if _, err := rep.WriteHTML(out); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge([]string{t.TempDir()}); err == nil {
		t.Error("a directory without results merged")
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", p, got, want)
	}
}
