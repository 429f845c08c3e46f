package loadtest

import (
	"math"
	"testing"
	"time"

	"github.com/walletsim/walletsim/sim/scenario"
)

func TestProfileShapes(t *testing.T) {
	const rate = 1000.0
	du := 20 * time.Second
	cases := []struct {
		name    string
		planned uint64 // requests due over the attack
		peak    float64
	}{
		{"constant", 20000, 1000},
		{"ramp", 11000, 1000},  // mean of 100..1000
		{"sine", 20000, 1500},  // two whole periods average out
		{"spike", 32000, 4000}, // 4x for the middle fifth: 16k + 4 * 4k
		{"steps", 12500, 1000}, // 5s each at 250, 500, 750, 1000
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := ProfileShape(c.name, rate, du, 4)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Planned(); math.Abs(float64(got)-float64(c.planned)) > 2 {
				t.Errorf("planned %d, want %d", got, c.planned)
			}
			if math.Abs(s.Peak()-c.peak) > c.peak*0.01 {
				t.Errorf("peak %v, want %v", s.Peak(), c.peak)
			}
			// Due times rise, and request n is due where n+1 requests are.
			prev := time.Duration(-1)
			for n := uint64(0); n < s.Planned(); n += 97 {
				d, ok := s.Due(n)
				if !ok {
					t.Fatalf("request %d of %d has no due time", n, s.Planned())
				}
				if d < prev {
					t.Fatalf("request %d due at %s, before request %d", n, d, n-97)
				}
				prev = d
				if h := s.hits(d.Seconds()); math.Abs(h-float64(n+1)) > 0.01 {
					t.Fatalf("request %d due at %s where %.3f are due", n, d, h)
				}
			}
			if _, ok := s.Due(s.Planned() + 10); ok {
				t.Error("a request past the plan has a due time")
			}
		})
	}
	if _, err := ProfileShape("square", rate, du, 4); err == nil {
		t.Error("an unknown profile was accepted")
	}
	if _, err := ProfileShape("constant", 0, du, 4); err == nil {
		t.Error("a zero rate was accepted")
	}
}

// TestPace: the shape, as vegeta's pacer, waits until the next request is
// due, sends at once when behind, and stops at the end.
func TestPace(t *testing.T) {
	s, err := ProfileShape("constant", 100, time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		elapsed time.Duration
		hits    uint64
		wait    time.Duration
		stop    bool
	}{
		{0, 0, 10 * time.Millisecond, false},
		{5 * time.Millisecond, 0, 5 * time.Millisecond, false},
		{500 * time.Millisecond, 10, 0, false}, // 50 due, 10 sent: behind
		{500 * time.Millisecond, 50, 10 * time.Millisecond, false},
		{999 * time.Millisecond, 100, 0, true},
		{2 * time.Second, 0, 0, true},
	} {
		wait, stop := s.Pace(c.elapsed, c.hits)
		if stop != c.stop || (!stop && (wait-c.wait).Abs() > 10*time.Microsecond) {
			t.Errorf("Pace(%s, %d) = %s, %v; want %s, %v", c.elapsed, c.hits, wait, stop, c.wait, c.stop)
		}
	}
	if r := s.Rate(300 * time.Millisecond); r != 100 {
		t.Errorf("rate %v", r)
	}
	if half := s.Scaled(0.5); half.Planned() != 50 {
		t.Errorf("half a shape plans %d of 100", half.Planned())
	}
}

// TestScenarioShape: the scenario's attack.profile, e.g. an 11.11 spike of
// 4x for 5 seconds and a ramp.
func TestScenarioShape(t *testing.T) {
	up := 3.0
	a := &scenario.Attack{Profile: []scenario.AttackPhase{
		{From: "5s", To: "10s", Multiplier: 4},
		{From: "10s", To: "14s", Multiplier: 1, RampTo: &up},
	}}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := ScenarioShape(a, 100, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// 5s at 100, 5s at 400, 4s ramping 100->300, 6s at 100.
	if got, want := s.Planned(), uint64(500+2000+800+600); got != want {
		t.Errorf("planned %d, want %d", got, want)
	}
	for _, c := range []struct {
		at   time.Duration
		want float64
	}{{time.Second, 100}, {7 * time.Second, 400}, {12 * time.Second, 200}, {15 * time.Second, 100}} {
		if r := s.Rate(c.at); math.Abs(r-c.want) > 1e-6 {
			t.Errorf("rate at %s: %v, want %v", c.at, r, c.want)
		}
	}
	bad := &scenario.Attack{Profile: []scenario.AttackPhase{{From: "5s", To: "10s", Multiplier: 2}, {From: "8s", To: "12s", Multiplier: 2}}}
	if _, err := ScenarioShape(bad, 100, 20*time.Second); err == nil {
		t.Error("overlapping phases were accepted")
	}
	if err := (&scenario.Attack{InvalidShare: 2, Profile: []scenario.AttackPhase{{From: "x", To: "1s"}}}).Validate(); err == nil {
		t.Error("a bad attack section validated")
	}
}
