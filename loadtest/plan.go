package loadtest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/walletsim/walletsim/sim/scenario"
)

// ParseRate reads vegeta-style rates: "2000/s", "500/100ms", "120/m" or
// a bare number per second.
func ParseRate(s string) (float64, error) {
	num, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || !(n > 0) || n > 1e7 {
		return 0, fmt.Errorf("rate %q: want a positive number of requests, e.g. 2000/s", s)
	}
	if !ok {
		return n, nil
	}
	switch per {
	case "s":
		per = "1s"
	case "m":
		per = "1m"
	case "ms":
		per = "1ms"
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("rate %q: %q is not a time unit", s, per)
	}
	return n / d.Seconds(), nil
}

// ParseShard reads "i/n" with 0 <= i < n <= 1024.
func ParseShard(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n || n > 1024 {
		return 0, 0, fmt.Errorf("shard %q: want i/n with 0 <= i < n <= 1024", s)
	}
	return i, n, nil
}

// Plan is what an attack's flags leave open, resolved against the
// scenario's attack: section: a flag set wins, then the section, then the
// default (1000/s, 10s, constant, no invalid requests, no thresholds).
type Plan struct {
	Rate         string // "" : the section's, else 1000/s
	Duration     time.Duration
	Profile      string
	Spike        float64
	InvalidShare *float64 // nil: the section's
	AbortOn      []string // added to the section's
}

// Resolved is a Plan made concrete.
type Resolved struct {
	Rate         float64
	Shape        *Shape
	InvalidShare float64
	AbortOn      []Threshold
}

// Resolve applies the plan to the scenario's attack section; errors name
// the flag or key at fault.
func (p Plan) Resolve(at *scenario.Attack) (Resolved, error) {
	var r Resolved
	if err := at.Validate(); err != nil {
		return r, err
	}
	r.Rate = at.Rate
	if p.Rate != "" || r.Rate == 0 {
		s := p.Rate
		if s == "" {
			s = "1000/s"
		}
		var err error
		if r.Rate, err = ParseRate(s); err != nil {
			return r, fmt.Errorf("--rate: %w", err)
		}
	}
	du := p.Duration
	if du == 0 {
		du = 10 * time.Second
		if at.Duration != "" {
			du, _ = time.ParseDuration(at.Duration)
		}
	}
	if du <= 0 || du > 24*time.Hour {
		return r, fmt.Errorf("--duration %s: want more than 0 and at most 24h", du)
	}
	r.InvalidShare = at.InvalidShare
	if p.InvalidShare != nil {
		r.InvalidShare = *p.InvalidShare
	}
	if !(r.InvalidShare >= 0 && r.InvalidShare <= 1) {
		return r, fmt.Errorf("--invalid-share %v: want 0-1", r.InvalidShare)
	}
	var err error
	if p.Profile == "" && len(at.Profile) > 0 {
		r.Shape, err = ScenarioShape(at, r.Rate, du)
	} else {
		r.Shape, err = ProfileShape(p.Profile, r.Rate, du, p.Spike)
	}
	if err != nil {
		return r, fmt.Errorf("--profile: %w", err)
	}
	sec, err := ParseThresholds("attack.abort_on", at.AbortOn)
	if err != nil {
		return r, err
	}
	fl, err := ParseThresholds("--abort-on", p.AbortOn)
	if err != nil {
		return r, err
	}
	r.AbortOn = append(sec, fl...)
	return r, nil
}

// Verdict is the attack's pass or fail: the API answered as defined
// often enough, the end state is explained, no threshold fired, and (in
// process) the log kept every invariant. The error says every reason.
func (r *Report) Verdict(minSuccess float64) error {
	var why []string
	if r.Requests == 0 {
		why = append(why, "no request was sent")
	}
	if r.Valid.Requests > 0 && r.Valid.SuccessRatio < minSuccess {
		why = append(why, fmt.Sprintf("valid success ratio %.4f < %v", r.Valid.SuccessRatio, minSuccess))
	}
	if r.Requests > 0 && r.SuccessRatio < minSuccess {
		why = append(why, fmt.Sprintf("success ratio %.4f < %v", r.SuccessRatio, minSuccess))
	}
	if r.Invariants != nil && !r.Invariants.OK {
		why = append(why, "invariants violated")
	}
	if es := r.EndState; es != nil && !es.OK {
		why = append(why, fmt.Sprintf("money unexplained on %d accounts (%d minor units lost, %d created)", es.UnexplainedAccounts, es.LostMinor, es.CreatedMinor))
	}
	if f := r.Fired; f != nil {
		if f.StoppedEarly {
			why = append(why, fmt.Sprintf("threshold '%s' fired at %.1fs (value %.4g): attack stopped early", f.Threshold, f.AtS, f.Value))
		} else {
			why = append(why, fmt.Sprintf("threshold '%s' crossed by the end-state check (value %.4g)", f.Threshold, f.Value))
		}
	}
	if len(why) > 0 {
		return errors.New(strings.Join(why, "; "))
	}
	return nil
}
