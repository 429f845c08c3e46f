package scenario

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Attack is how `walletsim attack` drives the HTTP API with a scenario:
// the request rate and length, the share of deliberately invalid requests,
// and the traffic's shape. Flags override each of them.
type Attack struct {
	// Rate is the base rate in requests per wall-clock second.
	Rate float64 `mapstructure:"rate" json:"rate,omitempty"`
	// Duration of the attack, e.g. "20s".
	Duration string `mapstructure:"duration" json:"duration,omitempty"`
	// InvalidShare of requests are malformed on purpose (bad JSON, a
	// negative amount, an unknown wallet, ...): each must get its 4xx.
	InvalidShare float64 `mapstructure:"invalid_share" json:"invalid_share,omitempty"`
	// Profile multiplies Rate over windows of the attack (offsets from its
	// start): an 11.11 spike of 4x for 5 s, a rush-hour ramp.
	Profile []AttackPhase `mapstructure:"profile" json:"profile,omitempty"`
	// AbortOn are thresholds that stop the attack early, as --abort-on:
	// 'p99 > 50ms over 10s', 'errors > 5% over 30s', 'unexplained > 0'
	// (parsed and checked by loadtest.ParseThresholds).
	AbortOn []string `mapstructure:"abort_on" json:"abort_on,omitempty"`
}

// AttackPhase is one window of an attack's shape. Outside every phase the
// multiplier is 1.
type AttackPhase struct {
	From       string  `mapstructure:"from" json:"from"`
	To         string  `mapstructure:"to" json:"to"`
	Multiplier float64 `mapstructure:"multiplier" json:"multiplier"`
	// RampTo, if set, moves the multiplier linearly from Multiplier at From
	// to RampTo at To.
	RampTo *float64 `mapstructure:"ramp_to" json:"ramp_to,omitempty"`
}

// Validate checks the attack section, naming each bad key.
func (a *Attack) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("attack.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if !(a.Rate >= 0) || math.IsInf(a.Rate, 0) {
		bad("rate", "%v must be a non-negative number of requests per second", a.Rate)
	}
	if a.Duration != "" {
		if d, err := time.ParseDuration(a.Duration); err != nil || d <= 0 {
			bad("duration", "%q is not a positive duration", a.Duration)
		}
	}
	if !(a.InvalidShare >= 0 && a.InvalidShare <= 1) {
		bad("invalid_share", "%v must be within 0-1", a.InvalidShare)
	}
	for i, ph := range a.Profile {
		key := fmt.Sprintf("profile[%d]", i)
		from, err1 := time.ParseDuration(ph.From)
		to, err2 := time.ParseDuration(ph.To)
		if err1 != nil || err2 != nil || from < 0 || to <= from {
			bad(key, "from/to must be durations with from < to")
		}
		if !(ph.Multiplier >= 0) || ph.Multiplier > 1000 {
			bad(key+".multiplier", "%v out of range 0-1000", ph.Multiplier)
		}
		if ph.RampTo != nil && (!(*ph.RampTo >= 0) || *ph.RampTo > 1000) {
			bad(key+".ramp_to", "%v out of range 0-1000", *ph.RampTo)
		}
	}
	return errors.Join(errs...)
}
