package bus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
)

// Scan reads topic[partition] over [from, to) with kafka-go's low-level
// batched fetch (Conn.ReadBatch + Batch.Read): no reader goroutine, no
// channel hop and no allocation per message. value is only valid during
// the call. It is the replay path: GUIDE.md measured it at about 1.4M
// msgs/s against 0.9-1.1M for a Reader.
//
// A connection reset or a transient broker error mid-scan redials (the
// next broker of cfg.Brokers each time) and resumes after the last record
// handed to fn, so fn sees each record once, in order (DefaultRetry; a
// connection that moved the scan forward restarts its budget). An error
// fn returns ends the scan as it is.
func Scan(ctx context.Context, cfg Config, topic string, partition int, from, to int64, fn func(offset int64, value []byte) error) error {
	if from >= to {
		return nil
	}
	cfg.SetDefaults()
	d, err := cfg.Dialer()
	if err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	off, attempt := from, 0
	err = DefaultRetry.DoProgress(ctx, func(ctx context.Context) (bool, error) {
		start := off
		broker := cfg.Brokers[attempt%len(cfg.Brokers)]
		attempt++
		err := scanOnce(ctx, d, broker, topic, partition, &off, to, &buf, fn)
		return off > start, err
	}, nil)
	return unwrapCaller(err)
}

// scanOnce is one connection's share of Scan: it reads from *off until to
// or an error, advancing *off past every record fn accepted.
func scanOnce(ctx context.Context, d *kafka.Dialer, broker, topic string, partition int, off *int64, to int64, buf *[]byte, fn func(int64, []byte) error) error {
	conn, err := d.DialLeader(ctx, "tcp", broker, topic, partition)
	if err != nil {
		return fmt.Errorf("scan %s[%d]: %w", topic, partition, err)
	}
	defer conn.Close()
	for *off < to {
		if err := ctx.Err(); err != nil {
			return callerError{err}
		}
		if _, err := conn.Seek(*off, kafka.SeekAbsolute); err != nil {
			return fmt.Errorf("scan %s[%d] seek %d: %w", topic, partition, *off, err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		batch := conn.ReadBatch(1, 4<<20)
		progressed := false
		for *off < to {
			n, err := batch.Read(*buf)
			if errors.Is(err, io.ErrShortBuffer) {
				*buf = make([]byte, 2*len(*buf)+n)
				break // the batch is spent; fetch again from off
			}
			if err != nil {
				break // io.EOF: end of this fetch
			}
			cur := batch.Offset() - 1
			if cur < *off {
				continue // a compressed batch can start before the offset asked for
			}
			if err := fn(cur, (*buf)[:n]); err != nil {
				batch.Close()
				return callerError{err}
			}
			*off, progressed = cur+1, true
		}
		// io.ErrShortBuffer: a record larger than buf, which has grown
		// for the next fetch.
		if err := batch.Close(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrShortBuffer) && !progressed {
			return fmt.Errorf("scan %s[%d] at %d: %w", topic, partition, *off, err)
		}
	}
	return nil
}
