package gate

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		in, canon string
		want      Path
		err       string
	}{
		{in: "latency_ms.p99", canon: "latency_ms.p99", want: Path{{Key: "latency_ms"}, {Key: "p99"}}},
		{in: "a.b[0].c", canon: "a.b[0].c", want: Path{{Key: "a"}, {Key: "b"}, {Index: 0, IsIndex: true}, {Key: "c"}}},
		{in: `declines["insufficient_funds"]`, canon: "declines.insufficient_funds", want: Path{{Key: "declines"}, {Key: "insufficient_funds"}}},
		{in: `declines['class.II.yearly']`, canon: `declines["class.II.yearly"]`, want: Path{{Key: "declines"}, {Key: "class.II.yearly"}}},
		{in: `declines."class.II.yearly".n`, canon: `declines["class.II.yearly"].n`, want: Path{{Key: "declines"}, {Key: "class.II.yearly"}, {Key: "n"}}},
		{in: `["2xx"].count`, canon: `["2xx"].count`, want: Path{{Key: "2xx"}, {Key: "count"}}},
		{in: `codes.200`, canon: `codes["200"]`, want: Path{{Key: "codes"}, {Key: "200"}}},
		{in: `m[1][2]`, canon: `m[1][2]`, want: Path{{Key: "m"}, {Index: 1, IsIndex: true}, {Index: 2, IsIndex: true}}},
		{in: `a["with \"quote\""]`, canon: `a["with \"quote\""]`, want: Path{{Key: "a"}, {Key: `with "quote"`}}},
		{in: `a['it\'s']`, canon: `a["it's"]`, want: Path{{Key: "a"}, {Key: "it's"}}},
		{in: `a[""]`, canon: `a[""]`, want: Path{{Key: "a"}, {Key: ""}}},
		{in: "", err: "missing key"},
		{in: "a.", err: "missing key at the end"},
		{in: "a..b", err: "expected a key"},
		{in: "a[x]", err: "bad index [x]"},
		{in: "a[1", err: "missing ]"},
		{in: `a["b"`, err: "missing ]"},
		{in: `a["b]`, err: "unterminated string"},
		{in: `"a".b`, err: "cannot start with a quoted key"},
		{in: "a b", err: `unexpected " b"`},
		{in: "a[99999999999]", err: "too large"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePath(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParsePath(%q) error %v, want one containing %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParsePath(%q) = %#v, want %#v", tc.in, got, tc.want)
			}
			if got.String() != tc.canon {
				t.Errorf("String() = %q, want %q", got.String(), tc.canon)
			}
			again, err := ParsePath(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("canonical form %q does not parse back: %v", got.String(), err)
			}
		})
	}
}

func TestParseExpr(t *testing.T) {
	for _, tc := range []struct {
		in, canon string
		err       string
	}{
		{in: "latency_ms.p99 < 25", canon: "latency_ms.p99 < 25"},
		{in: "latency_ms.p99<25", canon: "latency_ms.p99 < 25"},
		{in: "payments.success_rate >= 0.999", canon: "payments.success_rate >= 0.999"},
		{in: "invariants.money_conserved == true", canon: "invariants.money_conserved == true"},
		{in: "invariants.money_conserved != false", canon: "invariants.money_conserved != false"},
		{in: "throughput.payments_per_s > 50000", canon: "throughput.payments_per_s > 50000"},
		{in: "throughput.payments_per_s > 50_000", canon: "throughput.payments_per_s > 50000"},
		{in: "throughput.payments_per_s > 5e4", canon: "throughput.payments_per_s > 50000"},
		{in: "x.delta >= -3.5", canon: "x.delta >= -3.5"},
		{in: `policy == "pboc-2018"`, canon: `policy == "pboc-2018"`},
		{in: `policy != 'strict'`, canon: `policy != "strict"`},
		{in: "25 > latency_ms.p99", canon: "latency_ms.p99 < 25"},
		{in: "0.999 <= payments.success_rate", canon: "payments.success_rate >= 0.999"},
		{in: "a.b <= c.d", canon: "a.b <= c.d"},
		{in: "pipeline.payments_per_s / ceiling.produce_consume_msgs_per_s >= 0.5", canon: "pipeline.payments_per_s / ceiling.produce_consume_msgs_per_s >= 0.5"},
		{in: "a/b>0.5", canon: "a / b > 0.5"},
		{in: `declines["insufficient_funds"] == 0`, canon: "declines.insufficient_funds == 0"},
		{in: `true_count == 1`, canon: "true_count == 1"},
		{in: `["true"] == true`, canon: `["true"] == true`},
		{in: "", err: "empty threshold"},
		{in: "latency_ms.p99", err: "missing an operator"},
		{in: "latency_ms.p99 = 25", err: "use == "},
		{in: "latency_ms.p99 < ", err: "missing a value"},
		{in: "latency_ms.p99 <> 25", err: `expected a number, true, false, a quoted string or a field at "> 25"`},
		{in: "latency_ms.p99 < 25 ms", err: `unexpected "ms"`},
		{in: "latency_ms.p99 < 25ms", err: `bad number "25m"`},
		{in: "latency_ms.p99 < 1.2.3", err: "bad number"},
		{in: "p < 1e999", err: "bad number"},
		{in: "25 < 30", err: "compares two constants"},
		{in: "ok < true", err: "only == and != apply"},
		{in: `policy > "a"`, err: "only == and != apply"},
		{in: "a / b == true", err: "is a number"},
		{in: "a / 1000 < 3", err: "divisor must be a field"},
		{in: "a / < 3", err: "expected a key"},
		{in: `"a" == "b"`, err: "compares two constants"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			e, err := ParseExpr(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseExpr(%q) error %v, want one containing %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.String() != tc.canon {
				t.Errorf("String() = %q, want %q", e.String(), tc.canon)
			}
			again, err := ParseExpr(e.String())
			if err != nil || !reflect.DeepEqual(again, e) {
				t.Errorf("canonical form %q does not parse back: %v", e.String(), err)
			}
		})
	}
}

func TestParseTolerance(t *testing.T) {
	for _, tc := range []struct {
		in      string
		side    Side
		amount  float64
		percent bool
		bad     bool
	}{
		{in: "-10%", side: SideDown, amount: 10, percent: true},
		{in: "+20%", side: SideUp, amount: 20, percent: true},
		{in: "±5%", side: SideBoth, amount: 5, percent: true},
		{in: "+-5 %", side: SideBoth, amount: 5, percent: true},
		{in: "+/-1.5%", side: SideBoth, amount: 1.5, percent: true},
		{in: "±2", side: SideBoth, amount: 2},
		{in: "-2", side: SideDown, amount: 2},
		{in: "10%", side: SideWorse, amount: 10, percent: true},
		{in: " 0 ", side: SideWorse, amount: 0},
		{in: "", bad: true},
		{in: "%", bad: true},
		{in: "--10%", bad: true},
		{in: "ten%", bad: true},
		{in: "10%%", bad: true},
		{in: "NaN", bad: true},
		{in: "Inf%", bad: true},
		{in: "0x10", bad: true},
		{in: "1_0%", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTolerance(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("ParseTolerance(%q) = %+v, want an error", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Side != tc.side || got.Amount != tc.amount || got.Percent != tc.percent {
				t.Errorf("ParseTolerance(%q) = %+v", tc.in, got)
			}
		})
	}
}

func TestInferDirection(t *testing.T) {
	for _, tc := range []struct {
		metric string
		want   Direction
	}{
		{"latency_ms.p99", LowerIsBetter},
		{"duration_s", LowerIsBetter},
		{"throughput.payments_per_s", HigherIsBetter},
		{"throughput.events_per_s", HigherIsBetter},
		{"payments.success_rate", HigherIsBetter},
		{"payments.decline_rate", LowerIsBetter},
		{"errors.count", LowerIsBetter},
		{"http.error_rate", LowerIsBetter},
		{"declines.insufficient_funds", LowerIsBetter},
		{"invariants.negative_balances", LowerIsBetter},
		{"invariants.duplicate_events", LowerIsBetter},
		{"invariants.unresolved_commands", LowerIsBetter},
		{"consumer.dead_letters", LowerIsBetter},
		{"consumer.dead_letters_per_s", LowerIsBetter},
		{"memory.rss_bytes", LowerIsBetter},
		{"bench.allocs_per_op", LowerIsBetter},
		{"bench.ns_per_op", LowerIsBetter},
		{"network.bytes_per_s", HigherIsBetter},
		{"pipeline.payments_per_s / ceiling.produce_consume_msgs_per_s", HigherIsBetter},
		{"ratio.engine_vs_ceiling", HigherIsBetter},
		{"interop.abandon_rate", LowerIsBetter},
		{"interop.acceptance_rate", HigherIsBetter},
		{"invariants.sequence_gaps", LowerIsBetter},
		{"retries", LowerIsBetter},
		{"carbon.grams_co2e", LowerIsBetter}, // a CO2 name still reads as a cost
		{"carbon.green_energy_points", HigherIsBetter},
		{"payments.attempted", Unknown},
		{"events.written", Unknown},
		{"seed", Unknown},
	} {
		m, err := ParseMetric(tc.metric)
		if err != nil {
			t.Fatal(err)
		}
		if got := InferDirection(m); got != tc.want {
			t.Errorf("InferDirection(%s) = %v, want %v", tc.metric, got, tc.want)
		}
	}
}

func TestToleranceSides(t *testing.T) {
	for _, tc := range []struct {
		metric, tol string
		dirs        map[string]string
		side        Side
		err         string
	}{
		{metric: "throughput.payments_per_s", tol: "-10%", side: SideDown},
		{metric: "throughput.payments_per_s", tol: "10%", side: SideDown},
		{metric: "throughput.payments_per_s", tol: "±10%", side: SideBoth},
		{metric: "throughput.payments_per_s", tol: "+10%", err: "write -10%"},
		{metric: "latency_ms.p99", tol: "+20%", side: SideUp},
		{metric: "latency_ms.p99", tol: "20%", side: SideUp},
		{metric: "latency_ms.p99", tol: "-20%", err: "write +20%"},
		{metric: "latency_ms.p99", tol: "-20%", dirs: map[string]string{"latency_ms.p99": "higher"}, side: SideDown},
		{metric: "events.written", tol: "5%", side: SideBoth},
		{metric: "events.written", tol: "5%", dirs: map[string]string{"events.written": "higher"}, side: SideDown},
		{metric: "events.written", tol: "-5%", side: SideDown},
		{metric: "events.written", tol: "+5%", side: SideUp},
	} {
		t.Run(tc.metric+" "+tc.tol, func(t *testing.T) {
			r := &Rules{}
			for m, d := range tc.dirs {
				if err := r.SetDirection(m, d); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.AddTolerance(tc.metric, tc.tol, "test"); err != nil {
				t.Fatal(err)
			}
			side, _, err := r.effective(r.Tolerances[0])
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				if err := r.Validate(); err == nil {
					t.Error("Validate passes a tolerance against its direction")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if side != tc.side {
				t.Errorf("side %v, want %v", side, tc.side)
			}
		})
	}
}

func TestParseRules(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		err        []string // substrings of the error; none means it loads
		thresholds int
		tolerances int
	}{
		{name: "full", yaml: "thresholds:\n  - latency_ms.p99 < 25\n  - \"invariants.money_conserved == true\"\ntolerances:\n  throughput.payments_per_s: -10%\n  latency_ms.p99: +20%\ndirections:\n  some.metric: lower\n", thresholds: 2, tolerances: 2},
		{name: "only tolerances", yaml: "tolerances:\n  throughput.payments_per_s: -10%\n", tolerances: 1},
		{name: "ratio key", yaml: "tolerances:\n  pipeline.payments_per_s / ceiling.produce_consume_msgs_per_s: -10%\n", tolerances: 1},
		{name: "bracket key", yaml: "tolerances:\n  declines[\"insufficient_funds\"]: +5\n", tolerances: 1},
		{name: "numeric tolerance", yaml: "tolerances:\n  events.written: 2\n", tolerances: 1},
		{name: "unknown key", yaml: "thresholds:\n  - a < 1\ntolerence:\n  a: 5%\n", err: []string{"rules.yaml:3", `unknown key "tolerence"`}},
		{name: "empty", yaml: "", err: []string{"nothing to check"}},
		{name: "comment only", yaml: "# nothing\n", err: []string{"nothing to check"}},
		{name: "bad expression", yaml: "thresholds:\n  - a < 1\n  - latency_ms.p99 =< 25\n", err: []string{"rules.yaml:3", "latency_ms.p99 =< 25"}},
		{name: "two bad", yaml: "thresholds:\n  - a <\n  - b ==\n", err: []string{"rules.yaml:2", "rules.yaml:3"}},
		{name: "threshold not a string", yaml: "thresholds:\n  - latency: 25\n", err: []string{"rules.yaml:2", "found a mapping"}},
		{name: "thresholds not a list", yaml: "thresholds: latency_ms.p99 < 25\n", err: []string{"rules.yaml:1", "a list of thresholds"}},
		{name: "bad tolerance", yaml: "tolerances:\n  throughput.payments_per_s: ten percent\n", err: []string{"rules.yaml:2", "ten percent"}},
		{name: "null tolerance", yaml: "tolerances:\n  throughput.payments_per_s:\n", err: []string{"rules.yaml:2", "found nothing"}},
		{name: "wrong sign", yaml: "tolerances:\n  latency_ms.p99: -10%\n", err: []string{"rules.yaml:2", "lower is better"}},
		{name: "bad direction", yaml: "directions:\n  x: sideways\ntolerances:\n  x: 5%\n", err: []string{"rules.yaml:2", "sideways"}},
		{name: "duplicate tolerance", yaml: "tolerances:\n  a.b: 5%\n  a[\"b\"]: 5%\n", err: []string{"given twice"}},
		{name: "two documents", yaml: "thresholds: [a < 1]\n---\nthresholds: [b < 1]\n", err: []string{"more than one YAML document"}},
		{name: "not a mapping", yaml: "- a < 1\n", err: []string{"rules.yaml:1", "mapping with thresholds"}},
		{name: "syntax", yaml: "thresholds: [a < 1\n", err: []string{"rules.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRules("rules.yaml", []byte(tc.yaml))
			if len(tc.err) > 0 {
				if err == nil {
					t.Fatalf("loaded %+v, want an error", r)
				}
				for _, s := range tc.err {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Thresholds) != tc.thresholds || len(r.Tolerances) != tc.tolerances {
				t.Errorf("%d thresholds and %d tolerances, want %d and %d", len(r.Thresholds), len(r.Tolerances), tc.thresholds, tc.tolerances)
			}
		})
	}
}
