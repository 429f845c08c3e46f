package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
)

// Retry bounds how long one call keeps trying through transient failures.
// A real cluster's connections drop at every leader election, rolling
// restart and idle timeout, and a connection reset under a request fails
// it even though the next one, on a fresh connection, would go through.
// So every request this package sends is repeated with backoff, on a new
// connection, until it succeeds or has failed for Budget in a row; only
// an error that will not go away (or that budget) ends the caller.
type Retry struct {
	// Budget: how long a call may fail in a row (a broker that stays
	// away is an error, not a wait). Default 60 s.
	Budget time.Duration
	// UnknownTopic: how long UNKNOWN_TOPIC_OR_PARTITION is retried (it
	// can lag topic creation by a moment on a real cluster; a topic
	// deleted under a run must end it, not hang it). Default 10 s.
	UnknownTopic time.Duration
	// Min and Max bound the backoff between attempts (doubling, with
	// jitter). The first retries come quickly: a reset connection is
	// redialed at once, and a request that fits between two resets gets
	// through. Defaults 5 ms and 500 ms.
	Min, Max time.Duration
}

// DefaultRetry is the policy of every call in this package.
var DefaultRetry = Retry{Budget: 60 * time.Second, UnknownTopic: 10 * time.Second, Min: 5 * time.Millisecond, Max: 500 * time.Millisecond}

// Transient reports whether err is worth another attempt on a new
// connection: a reset, refused or timed-out connection, EOF from a
// connection closed under a response, kafka-go's UNKNOWN for a split
// request (ListOffsets) whose connection failed, or a Kafka error the
// protocol calls retriable (UNKNOWN_TOPIC_OR_PARTITION among them; Retry
// bounds that one separately). Not io.ErrClosedPipe: kafka-go's answer
// from a Writer already closed.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var ke kafka.Error
	if errors.As(err, &ke) {
		return ke.Temporary() || ke == kafka.Unknown || ke == kafka.BrokerNotAvailable
	}
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne):
		return true
	}
	return false
}

// Do calls fn until it succeeds, fails with an error that is not
// Transient, ctx ends, or it has failed for the policy's budget in a row;
// onRetry (if set) sees each failure that is retried. The error returned
// is fn's last.
func (r Retry) Do(ctx context.Context, fn func(ctx context.Context) error, onRetry func(error)) error {
	return r.DoProgress(ctx, func(ctx context.Context) (bool, error) { return false, fn(ctx) }, onRetry)
}

// DoProgress is Do for a call that can get part of its work done before
// it fails (a scan that read some records): an attempt that reports
// progress starts the budget and the backoff afresh, so a long read under
// frequent resets goes on as long as each connection moves it forward.
func (r Retry) DoProgress(ctx context.Context, fn func(ctx context.Context) (progressed bool, err error), onRetry func(error)) error {
	r = r.withDefaults()
	start := time.Now()
	var unknownSince time.Time
	backoff := r.Min
	for {
		progressed, err := fn(ctx)
		if err == nil || !Transient(err) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		now := time.Now()
		if progressed {
			start, backoff, unknownSince = now, r.Min, time.Time{}
		}
		if errors.Is(err, kafka.UnknownTopicOrPartition) {
			if unknownSince.IsZero() {
				unknownSince = now
			}
			if now.Sub(unknownSince) >= r.UnknownTopic {
				return err
			}
		} else {
			unknownSince = time.Time{}
		}
		if now.Sub(start) >= r.Budget {
			return fmt.Errorf("failing for %s: %w", now.Sub(start).Round(time.Millisecond), err)
		}
		if onRetry != nil {
			onRetry(err)
		}
		// Jitter over [backoff/2, backoff]: callers reset together do
		// not come back together.
		d := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff = min(2*backoff, r.Max)
	}
}

// callerError carries an error of a caller's callback through a retry
// loop untouched: it has no Unwrap, so Transient never looks inside it
// (a callback's own timeout is not the connection's).
type callerError struct{ err error }

func (c callerError) Error() string { return c.err.Error() }

// unwrapCaller returns the callback's error if err carries one.
func unwrapCaller(err error) error {
	var c callerError
	if errors.As(err, &c) {
		return c.err
	}
	return err
}

func (r Retry) withDefaults() Retry {
	d := DefaultRetry
	if r.Budget <= 0 {
		r.Budget = d.Budget
	}
	if r.UnknownTopic <= 0 {
		r.UnknownTopic = d.UnknownTopic
	}
	if r.Min <= 0 {
		r.Min = d.Min
	}
	if r.Max < r.Min {
		r.Max = max(d.Max, r.Min)
	}
	return r
}
