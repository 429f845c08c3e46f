package engine_test

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/run"
)

// Tail prints a run's events as JSON lines, bounded by Limit and filtered
// by Wallet; every line decodes as an EventJSON with its postings.
func TestTail(t *testing.T) {
	b, err := embedded.Start(embedded.Config{Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	bc, topics := bus.Config{Brokers: []string{b.Addr()}}, bus.DefaultTopics("tail")
	o := workerRun(t)
	o.Bus, o.Topics = bc, topics
	if _, err := run.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	lines := func(cfg engine.TailConfig) []engine.EventJSON {
		var out strings.Builder
		cfg.Bus, cfg.Topic, cfg.Out = bc, topics.Events, &out
		if err := engine.Tail(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		var evs []engine.EventJSON
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			var j engine.EventJSON
			if err := json.Unmarshal(sc.Bytes(), &j); err != nil || j.Error != "" {
				t.Fatalf("line %q: %v %s", sc.Text(), err, j.Error)
			}
			evs = append(evs, j)
		}
		return evs
	}
	first := lines(engine.TailConfig{Limit: 3})
	if len(first) != 3 || first[0].Type != event.WalletOpened.String() || len(first[0].Apps) == 0 {
		t.Fatalf("--limit 3: %+v", first)
	}
	all := lines(engine.TailConfig{})
	w, want := all[len(all)-1].Wallet, 0 // the last event paid or was paid
	for _, e := range all {
		if e.Wallet == w {
			want++
		}
	}
	mine := lines(engine.TailConfig{Wallet: w})
	if len(mine) != want || want < 2 {
		t.Fatalf("wallet %d: %d events, the whole log has %d", w, len(mine), want)
	}
	for i, e := range mine {
		if e.Wallet != w || e.Seq != uint64(i+1) {
			t.Errorf("event %d of wallet %d: wallet %d seq %d", i, w, e.Wallet, e.Seq)
		}
	}
}
