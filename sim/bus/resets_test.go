package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/netfault"
)

// record is partition p's record i: 2 kB, so that a scan of a partition
// takes several fetches (4 MiB each), with resets between them.
func record(p, i int) []byte {
	b := fmt.Appendf(nil, "%d-%06d-", p, i)
	for len(b) < 2000 {
		b = append(b, 'x')
	}
	return b
}

// TestReadsThroughResets: with every connection to the broker reset every
// 100 ms, each read path of the package (Offsets over 8 partitions,
// Scan, ReadRange) keeps answering, and right: the scans, slow enough to
// span several resets, see every record once, in order. Idle connections the resets killed make the
// first attempt after a pause fail, so the retries are exercised on every
// round (Client.Retries). Without Client's retry Offsets fails, without
// Scan's the scan does (a reset between two of its fetches). ReadRange
// rides on PartitionReader, which redials by itself; its own retry is
// for an error the reader gives up on.
func TestReadsThroughResets(t *testing.T) {
	const parts, per = 8, 3000
	b := startBroker(t, embedded.Config{Partitions: parts, Topics: []string{"r"}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w, err := bus.NewWriter(bus.Config{Brokers: []string{b.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([]kafka.Message, 0, parts*per)
	for p := 0; p < parts; p++ {
		for i := 0; i < per; i++ {
			msgs = append(msgs, kafka.Message{Topic: "r", Partition: p, Value: record(p, i)})
		}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	w.Close()

	px, err := netfault.Start("", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); netfault.Plan{Every: 100 * time.Millisecond}.Run(px, stop) }()
	defer func() { close(stop); <-done }()
	bc := bus.Config{Brokers: []string{px.Addr()}}
	admin, err := bus.NewClient(bc)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	inOrder := func(p int, seen *int) func(v []byte) error {
		return func(v []byte) error {
			if want := record(p, *seen); string(v) != string(want) {
				return fmt.Errorf("partition %d record %d is %.12q..., want %.12q...", p, *seen, v, want)
			}
			*seen++
			if *seen%10 == 0 {
				// A slow reader: the scan spans several resets.
				time.Sleep(time.Millisecond)
			}
			return nil
		}
	}
	for round := 0; round < 5; round++ {
		first, next, err := admin.Offsets(ctx, "r", parts)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for p := 0; p < parts; p++ {
			if next[p]-first[p] != per {
				t.Fatalf("round %d: partition %d spans [%d, %d), want %d records", round, p, first[p], next[p], per)
			}
		}
		p := round % parts
		seen := 0
		check := inOrder(p, &seen)
		if err := bus.Scan(ctx, bc, "r", p, first[p], next[p], func(_ int64, v []byte) error { return check(v) }); err != nil {
			t.Fatalf("round %d: scan: %v", round, err)
		}
		seen2 := 0
		check2 := inOrder(p, &seen2)
		if err := bus.ReadRange(ctx, bc, "r", p, first[p], next[p], func(m kafka.Message) error { return check2(m.Value) }); err != nil {
			t.Fatalf("round %d: read range: %v", round, err)
		}
		if seen != per || seen2 != per {
			t.Fatalf("round %d: scan saw %d, read range %d records, want %d", round, seen, seen2, per)
		}
		time.Sleep(150 * time.Millisecond) // idle: the resets kill the pooled connections
	}
	if px.Resets() == 0 || admin.Retries() == 0 {
		t.Fatalf("%d connections reset, %d requests retried: the test did not test", px.Resets(), admin.Retries())
	}
	t.Logf("%d connections reset, %d admin requests retried", px.Resets(), admin.Retries())
}
