package engine

import (
	"context"
	"errors"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim/bus"
)

// callbackError marks an error of the caller's fn, which a retry must not
// swallow.
type callbackError struct{ err error }

func (c callbackError) Error() string { return c.err.Error() }

// scanRetrying is bus.Scan that rides through transient broker
// errors: a fetch answered NOT_LEADER_OR_FOLLOWER, a connection dropped by
// a broker restart. It redials and resumes after the last record handed to
// fn, so fn still sees each record once, in order. The audit reads the
// whole log this way; without it one injected fetch error failed the run's
// verdict after the engine had ridden through every other one.
func scanRetrying(ctx context.Context, bc bus.Config, topic string, p int, from, to int64, fn func(offset int64, value []byte) error) error {
	backoff, failures, lastFrom := 20*time.Millisecond, 0, from
	for {
		err := bus.Scan(ctx, bc, topic, p, from, to, func(off int64, v []byte) error {
			if err := fn(off, v); err != nil {
				return callbackError{err}
			}
			from = off + 1
			return nil
		})
		var cb callbackError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &cb):
			return cb.err
		case ctx.Err() != nil:
			return ctx.Err()
		}
		var ke kafka.Error
		if errors.As(err, &ke) && !ke.Temporary() {
			return err
		}
		// A broker that stays away is an error, not a wait: give up after
		// 20 failures in a row without a record read (about half a minute
		// of backoff).
		if from != lastFrom {
			failures, lastFrom, backoff = 0, from, 20*time.Millisecond
		}
		if failures++; failures > 20 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}
