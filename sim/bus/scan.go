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
func Scan(ctx context.Context, cfg Config, topic string, partition int, from, to int64, fn func(offset int64, value []byte) error) error {
	if from >= to {
		return nil
	}
	cfg.SetDefaults()
	d, err := cfg.Dialer()
	if err != nil {
		return err
	}
	conn, err := d.DialLeader(ctx, "tcp", cfg.Brokers[0], topic, partition)
	if err != nil {
		return fmt.Errorf("scan %s[%d]: %w", topic, partition, err)
	}
	defer conn.Close()
	buf := make([]byte, 64<<10)
	off := from
	for off < to {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := conn.Seek(off, kafka.SeekAbsolute); err != nil {
			return fmt.Errorf("scan %s[%d] seek %d: %w", topic, partition, off, err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		batch := conn.ReadBatch(1, 4<<20)
		progressed := false
		for off < to {
			n, err := batch.Read(buf)
			if errors.Is(err, io.ErrShortBuffer) {
				buf = make([]byte, 2*len(buf)+n)
				break // the batch is spent; fetch again from off
			}
			if err != nil {
				break // io.EOF: end of this fetch
			}
			cur := batch.Offset() - 1
			if cur < off {
				continue // a compressed batch can start before the offset asked for
			}
			if err := fn(cur, buf[:n]); err != nil {
				batch.Close()
				return err
			}
			off, progressed = cur+1, true
		}
		if err := batch.Close(); err != nil && !errors.Is(err, io.EOF) && !progressed {
			return fmt.Errorf("scan %s[%d] at %d: %w", topic, partition, off, err)
		}
	}
	return nil
}
