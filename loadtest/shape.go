// Package loadtest drives walletsim's HTTP API with vegeta's library:
// requests come from a scenario's seeded generator (plus a share of
// deliberately invalid ones), paced by a traffic shape; results are kept in
// vegeta's own encoding and summarised from an HDR histogram.
package loadtest

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/walletsim/walletsim/sim/scenario"
)

// Shape is a request rate over the attack's time: piecewise linear, so that
// the number of requests due by any instant has a closed form. It
// implements vegeta's Pacer, and it knows when each request was due, which
// is how requests sent late are counted.
type Shape struct {
	Name     string
	Duration time.Duration
	segs     []segment
	cum      []float64 // requests due at the start of each segment
}

// segment: the rate moves linearly from r0 to r1 (requests/s) over [t0, t1).
type segment struct {
	t0, t1 float64 // seconds
	r0, r1 float64
}

// Piece is one stretch of a shape: the rate moves linearly from R0 to R1
// requests per second between From and To.
type Piece struct {
	From, To time.Duration
	R0, R1   float64
}

// NewShape builds a shape from pieces that must follow each other from 0;
// the last is clipped (or the rate held) to the duration.
func NewShape(name string, du time.Duration, pieces []Piece) (*Shape, error) {
	if du <= 0 {
		return nil, fmt.Errorf("duration %s: must be positive", du)
	}
	end := du.Seconds()
	s := &Shape{Name: name, Duration: du}
	at := 0.0
	for i, p := range pieces {
		t0, t1 := p.From.Seconds(), p.To.Seconds()
		if t0 != at || t1 < t0 || !(p.R0 >= 0) || !(p.R1 >= 0) || math.IsInf(p.R0, 0) || math.IsInf(p.R1, 0) {
			return nil, fmt.Errorf("shape %s: piece %d (%s-%s, %v-%v/s) invalid", name, i, p.From, p.To, p.R0, p.R1)
		}
		at = t1
		if t0 >= end || t1 == t0 {
			continue
		}
		r1 := p.R1
		if t1 > end {
			r1 = p.R0 + (p.R1-p.R0)*(end-t0)/(t1-t0)
			t1 = end
		}
		s.segs = append(s.segs, segment{t0, t1, p.R0, r1})
	}
	if at < end {
		last := 0.0
		if n := len(pieces); n > 0 {
			last = pieces[n-1].R1
		}
		s.segs = append(s.segs, segment{at, end, last, last})
	}
	acc := 0.0
	for _, g := range s.segs {
		s.cum = append(s.cum, acc)
		acc += (g.r0 + g.r1) / 2 * (g.t1 - g.t0)
	}
	s.cum = append(s.cum, acc)
	return s, nil
}

// Planned is the number of requests due over the whole attack.
func (s *Shape) Planned() uint64 { return uint64(math.Floor(s.hits(s.Duration.Seconds()) + 1e-9)) }

// hits is the number of requests due by t seconds.
func (s *Shape) hits(t float64) float64 {
	i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].t1 > t })
	if i == len(s.segs) {
		return s.cum[len(s.cum)-1]
	}
	g := s.segs[i]
	dt := t - g.t0
	if dt < 0 {
		return s.cum[i]
	}
	slope := (g.r1 - g.r0) / (g.t1 - g.t0)
	return s.cum[i] + g.r0*dt + slope*dt*dt/2
}

// Due is when request n (0-based) is due: where the count of requests due
// reaches n+1. ok is false past the end of the attack.
func (s *Shape) Due(n uint64) (time.Duration, bool) {
	want := float64(n + 1)
	i := sort.Search(len(s.segs), func(i int) bool { return s.cum[i+1] >= want })
	if i == len(s.segs) {
		return s.Duration, false
	}
	g := s.segs[i]
	need := want - s.cum[i]
	slope := (g.r1 - g.r0) / (g.t1 - g.t0)
	var dt float64
	if math.Abs(slope) < 1e-12 {
		dt = need / g.r0
	} else {
		// r0*dt + slope*dt^2/2 = need, the root in [0, t1-t0]
		disc := g.r0*g.r0 + 2*slope*need
		dt = (-g.r0 + math.Sqrt(math.Max(disc, 0))) / slope
	}
	dt = math.Min(math.Max(dt, 0), g.t1-g.t0)
	return time.Duration((g.t0 + dt) * float64(time.Second)), true
}

// Pace implements vegeta.Pacer: the wait until the next request is due.
func (s *Shape) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if elapsed > s.Duration {
		return 0, true
	}
	if float64(hits) < math.Floor(s.hits(elapsed.Seconds())+1e-9) {
		return 0, false // behind: send at once
	}
	due, ok := s.Due(hits)
	if !ok {
		return 0, true
	}
	return due - elapsed, false
}

// Rate implements vegeta.Pacer: the rate at an instant, requests/s.
func (s *Shape) Rate(elapsed time.Duration) float64 {
	t := elapsed.Seconds()
	for _, g := range s.segs {
		if t < g.t1 {
			return g.r0 + (g.r1-g.r0)*(t-g.t0)/(g.t1-g.t0)
		}
	}
	return 0
}

// Peak is the highest rate of the shape.
func (s *Shape) Peak() float64 {
	m := 0.0
	for _, g := range s.segs {
		m = max(m, g.r0, g.r1)
	}
	return m
}

// Scaled returns the shape with every rate multiplied by f (a shard's part).
func (s *Shape) Scaled(f float64) *Shape {
	out := &Shape{Name: s.Name, Duration: s.Duration, segs: make([]segment, len(s.segs)), cum: make([]float64, len(s.cum))}
	for i, g := range s.segs {
		out.segs[i] = segment{g.t0, g.t1, g.r0 * f, g.r1 * f}
	}
	for i, c := range s.cum {
		out.cum[i] = c * f
	}
	return out
}

// Profiles are the named shapes --profile takes.
var Profiles = []string{"constant", "ramp", "sine", "spike", "steps"}

// ProfileShape builds a named shape around a base rate:
//   - constant: the rate throughout;
//   - ramp: from a tenth of the rate up to the rate (a rush hour building);
//   - sine: the rate plus or minus half of it, two periods;
//   - spike: the rate, and spike times it for the middle fifth (11.11 at midnight);
//   - steps: a quarter, half, three quarters, then all of the rate.
func ProfileShape(name string, rate float64, du time.Duration, spike float64) (*Shape, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return nil, fmt.Errorf("rate %v: must be positive", rate)
	}
	at := func(f float64) time.Duration { return time.Duration(f * float64(du)) }
	var ps []Piece
	switch name {
	case "constant", "":
		ps = []Piece{{0, du, rate, rate}}
	case "ramp":
		ps = []Piece{{0, du, rate / 10, rate}}
	case "sine":
		const steps = 400 // piecewise linear, close enough to pace by
		r := func(f float64) float64 { return rate * (1 + 0.5*math.Sin(4*math.Pi*f)) }
		for i := 0; i < steps; i++ {
			f0, f1 := float64(i)/steps, float64(i+1)/steps
			ps = append(ps, Piece{at(f0), at(f1), r(f0), r(f1)})
		}
		ps[len(ps)-1].To = du
	case "spike":
		if !(spike > 0) || math.IsInf(spike, 0) {
			return nil, fmt.Errorf("spike factor %v: must be positive", spike)
		}
		ps = []Piece{{0, at(0.4), rate, rate}, {at(0.4), at(0.6), rate * spike, rate * spike}, {at(0.6), du, rate, rate}}
	case "steps":
		for i := 0; i < 4; i++ {
			r := rate * float64(i+1) / 4
			ps = append(ps, Piece{at(float64(i) / 4), at(float64(i+1) / 4), r, r})
		}
		ps[3].To = du
	default:
		return nil, fmt.Errorf("profile %q: want one of %s", name, strings.Join(Profiles, ", "))
	}
	if name == "" {
		name = "constant"
	}
	return NewShape(name, du, ps)
}

// ScenarioShape builds the shape a scenario's attack.profile describes:
// the rate times each phase's multiplier (ramping when ramp_to is set), 1
// outside the phases.
func ScenarioShape(a *scenario.Attack, rate float64, du time.Duration) (*Shape, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return nil, fmt.Errorf("rate %v: must be positive", rate)
	}
	type win struct {
		from, to time.Duration
		m0, m1   float64
	}
	var ws []win
	for i, ph := range a.Profile {
		from, err1 := time.ParseDuration(ph.From)
		to, err2 := time.ParseDuration(ph.To)
		if err1 != nil || err2 != nil || from < 0 || to <= from {
			return nil, fmt.Errorf("attack.profile[%d]: from/to must be durations with from < to", i)
		}
		w := win{from, to, ph.Multiplier, ph.Multiplier}
		if ph.RampTo != nil {
			w.m1 = *ph.RampTo
		}
		ws = append(ws, w)
	}
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].from < ws[j].from })
	var ps []Piece
	at := time.Duration(0)
	for i, w := range ws {
		if w.from < at {
			return nil, fmt.Errorf("attack.profile: phase %d starts at %s, before the previous one ends", i, w.from)
		}
		if w.from > at {
			ps = append(ps, Piece{at, w.from, rate, rate})
		}
		ps = append(ps, Piece{w.from, w.to, rate * w.m0, rate * w.m1})
		at = w.to
	}
	ps = append(ps, Piece{at, max(at, du), rate, rate})
	return NewShape("scenario", du, ps)
}
