// Package diff finds where two runs' event logs part. Each run's
// summary.json holds rolling per-partition hashes of its event stream
// (audit.StreamHashes); comparing them names the first partition and
// window that differ without reading either log. When both logs are still
// reachable (an embedded broker's data dir, or topics on a cluster) the
// window is read and the first differing event printed from both sides,
// with the rule and route that decided it.
package diff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/route"
)

// ErrBadInput marks errors in what the caller gave (a missing run
// directory, a summary without stream hashes): exit 2, not 1.
var ErrBadInput = errors.New("bad input")

// Run is one side of a diff: a run directory's summary.json.
type Run struct {
	Path     string
	Scenario string `json:"scenario"`
	Policy   string `json:"policy"`
	Seed     int64  `json:"seed"`
	Events   struct {
		Written int64  `json:"written"`
		Digest  string `json:"digest"`
	} `json:"events"`
	Streams *audit.StreamHashes `json:"stream_hashes"`
	Engine  struct {
		Partitions int `json:"partitions"`
	} `json:"engine"`
}

// Load reads a run directory (or a summary.json path).
func Load(path string) (*Run, error) {
	p := path
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		p = filepath.Join(p, "summary.json")
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v (want a run directory written by `walletsim run --out DIR`)", ErrBadInput, path, err)
	}
	r := &Run{Path: p}
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadInput, p, err)
	}
	if r.Events.Digest == "" {
		return nil, fmt.Errorf("%w: %s: no events.digest: not a run summary", ErrBadInput, p)
	}
	return r, nil
}

// Log is where one side's events can be read.
type Log struct {
	Bus    bus.Config
	Topics bus.Topics
	// DataDir, when set, is an embedded broker's data dir to open.
	DataDir string
}

// Config is one diff.
type Config struct {
	A, B *Run
	// LogA and LogB override where the logs are read; nil takes what the
	// summaries recorded, if anything.
	LogA, LogB *Log
	// NoLogs compares the summaries only.
	NoLogs bool
}

// Report is the answer.
type Report struct {
	A, B      *Run
	Identical bool
	// Divergence is the first partition and window that differ (nil
	// when identical, or when the runs differ but the hashes cannot
	// locate it).
	Divergence *audit.Divergence
	// First is the first differing event, when both logs were read.
	First *Pair
	// FirstOutcome is the first pair that differs in more than the route
	// ID (a rule inserted above shifts every ID after it without changing
	// what happens): what the payment did, its amounts, reason, balance.
	// Nil when it is First, or not within the events read.
	FirstOutcome *Pair
	// LogNote says why the logs were not read.
	LogNote string
}

// Pair is the first place the two logs differ: the events at the same
// position of the partition's accepted stream (nil on the side whose
// stream ended first).
type Pair struct {
	Partition int
	Index     int64 // 1-based position in the partition's stream
	A, B      *Located
}

// Located is an event with its log offset and what decided it.
type Located struct {
	Offset int64
	Event  event.Event
	// Rule and Route name the policy rule and route that decided the
	// event, when the event took a route.
	Rule, Route string
}

// Compare diffs two runs.
func Compare(ctx context.Context, c Config) (*Report, error) {
	if c.A == nil || c.B == nil {
		return nil, fmt.Errorf("%w: two runs are needed", ErrBadInput)
	}
	rep := &Report{A: c.A, B: c.B}
	if c.A.Events.Digest == c.B.Events.Digest && c.A.Events.Written == c.B.Events.Written {
		rep.Identical = true
		return rep, nil
	}
	d, err := audit.FirstDivergence(c.A.Streams, c.B.Streams)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	if d == nil {
		// Same streams, different digests: the partitions hold the same
		// events but the audit saw different ones (a log read twice
		// differently). Say so rather than call them identical.
		rep.LogNote = "every partition's stream hashes agree but the digests differ: the logs were audited differently"
		return rep, nil
	}
	rep.Divergence = d
	if c.NoLogs {
		rep.LogNote = "logs not read (--no-logs)"
		return rep, nil
	}
	la, lb := c.LogA, c.LogB
	if la == nil {
		la = recorded(c.A)
	}
	if lb == nil {
		lb = recorded(c.B)
	}
	if la == nil || lb == nil {
		rep.LogNote = "logs not reachable: the runs used a temporary broker; run with --data DIR (or --brokers) to keep them, or give --data-a/--data-b"
		return rep, nil
	}
	pa, err := readWindow(ctx, la, d.Partition, d.OffsetA+1, maxRead)
	if err != nil {
		rep.LogNote = fmt.Sprintf("log of %s not readable: %v", c.A.Path, err)
		return rep, nil
	}
	pb, err := readWindow(ctx, lb, d.Partition, d.OffsetB+1, maxRead)
	if err != nil {
		rep.LogNote = fmt.Sprintf("log of %s not readable: %v", c.B.Path, err)
		return rep, nil
	}
	ta, tb := policyTable(c.A.Policy), policyTable(c.B.Policy)
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var ea, eb *Located
		if i < len(pa) {
			ea = pa[i].located(ta)
		}
		if i < len(pb) {
			eb = pb[i].located(tb)
		}
		if ea != nil && eb != nil && bytes.Equal(pa[i].raw, pb[i].raw) {
			continue
		}
		pair := &Pair{Partition: d.Partition, Index: d.After + int64(i) + 1, A: ea, B: eb}
		if rep.First == nil {
			rep.First = pair
		}
		if ea == nil || eb == nil || !sameButRoute(&ea.Event, &eb.Event) {
			if pair.Index != rep.First.Index {
				rep.FirstOutcome = pair
			}
			break
		}
	}
	if rep.First == nil {
		rep.LogNote = "the hashed window reads the same from both logs: the logs changed since the runs"
	}
	return rep, nil
}

// Recorded is the log location a summary names, if it still exists.
func Recorded(r *Run) *Log { return recorded(r) }

// maxRead bounds the events read from each log past the last shared
// window while looking for the first difference in outcome.
const maxRead = 200_000

// sameButRoute: the events are equal once their route IDs are set aside.
func sameButRoute(a, b *event.Event) bool {
	x, y := *a, *b
	x.Route, y.Route = 0, 0
	return x == y
}

// recorded is the log location a summary names, if any.
func recorded(r *Run) *Log {
	if r.Streams == nil || r.Streams.Log == nil {
		return nil
	}
	l := r.Streams.Log
	t := bus.Topics{Events: l.Events, Commands: l.Commands, Transfers: l.Transfers}
	switch {
	case l.DataDir != "":
		if _, err := os.Stat(l.DataDir); err != nil {
			return nil
		}
		return &Log{DataDir: l.DataDir, Topics: t}
	case len(l.Brokers) > 0:
		c := bus.Config{Brokers: l.Brokers}
		c.SetDefaults()
		return &Log{Bus: c, Topics: t}
	}
	return nil
}

type rawEvent struct {
	off int64
	raw []byte
	ev  event.Event
}

func (r *rawEvent) located(t *route.Table) *Located {
	l := &Located{Offset: r.off, Event: r.ev}
	if t != nil && r.ev.Route != 0 {
		if int(r.ev.Route) < len(t.Routes) {
			l.Route = t.Routes[r.ev.Route].Name
		}
		if rr := t.RuleOf(r.ev.Route); rr != nil {
			l.Rule = rr.ID
		}
	}
	return l
}

// readWindow reads up to n accepted events (n <= 0: to the end) of a
// partition from offset from, skipping what the audit skips: undecodable
// records and redeliveries (a wallet's sequence number not above the last
// seen).
func readWindow(ctx context.Context, l *Log, part int, from, n int64) ([]rawEvent, error) {
	bc := l.Bus
	if l.DataDir != "" {
		b, err := embedded.Start(embedded.Config{DataDir: l.DataDir})
		if err != nil {
			return nil, err
		}
		defer b.Close()
		bc = bus.Config{Brokers: []string{b.Addr()}}
		bc.SetDefaults()
	}
	admin, err := bus.NewClient(bc)
	if err != nil {
		return nil, err
	}
	parts, err := admin.Partitions(ctx, l.Topics.Events)
	if err != nil {
		return nil, err
	}
	if part >= parts {
		return nil, fmt.Errorf("topic %s has %d partitions, not %d", l.Topics.Events, parts, part+1)
	}
	_, next, err := admin.Offsets(ctx, l.Topics.Events, parts)
	if err != nil {
		return nil, err
	}
	var out []rawEvent
	seqs := map[uint64]uint64{}
	stop := errors.New("enough")
	err = bus.Scan(ctx, bc, l.Topics.Events, part, max(from, 0), next[part], func(off int64, v []byte) error {
		var e event.Event
		if event.DecodeEvent(v, &e) != nil || e.Validate() != nil {
			return nil
		}
		if last, ok := seqs[e.Wallet]; ok && e.Seq <= last {
			return nil
		}
		seqs[e.Wallet] = e.Seq
		out = append(out, rawEvent{off: off, raw: append([]byte(nil), v...), ev: e})
		if n > 0 && int64(len(out)) >= n {
			return stop
		}
		return nil
	})
	if err != nil && !errors.Is(err, stop) {
		return nil, err
	}
	return out, nil
}

// policyTable loads a run's policy by name, for rule IDs and route names;
// nil when it is not a built-in or readable file.
func policyTable(name string) *route.Table {
	if name == "" {
		return nil
	}
	t, _, _, err := scenarios.LoadPolicy(name)
	if err != nil {
		return nil
	}
	return t
}

// WriteText prints the report as `walletsim diff` does.
func (r *Report) WriteText(w io.Writer) error {
	if r.Identical {
		_, err := fmt.Fprintf(w, "identical: %s and %s hold the same events (digest %s, %d events)\n", r.A.Path, r.B.Path, r.A.Events.Digest, r.A.Events.Written)
		return err
	}
	fmt.Fprintf(w, "runs differ: %s (policy %s, seed %d, digest %s) and %s (policy %s, seed %d, digest %s)\n",
		r.A.Path, r.A.Policy, r.A.Seed, short(r.A.Events.Digest), r.B.Path, r.B.Policy, r.B.Seed, short(r.B.Events.Digest))
	r.WritePointer(w)
	return nil
}

// WritePointer prints where the runs part: the partition and window, and
// the first differing event when the logs were read. gate prints it under
// a failed digest comparison.
func (r *Report) WritePointer(w io.Writer) {
	if d := r.Divergence; d != nil {
		upto := "its end"
		if d.Before > 0 {
			upto = fmt.Sprintf("event %d", d.Before)
		}
		fmt.Fprintf(w, "first divergence: partition %d, after its first %d events (offsets %d / %d), by %s (partition holds %d / %d events)\n",
			d.Partition, d.After, d.OffsetA, d.OffsetB, upto, d.EventsA, d.EventsB)
	}
	if p := r.First; p != nil {
		fmt.Fprintf(w, "first differing event: partition %d, event %d of the partition, offset %s / %s\n", p.Partition, p.Index, off(p.A), off(p.B))
		r.writePair(w, p)
	}
	if p := r.FirstOutcome; p != nil {
		fmt.Fprintf(w, "first event that differs in more than its route ID: partition %d, event %d, offset %s / %s\n", p.Partition, p.Index, off(p.A), off(p.B))
		r.writePair(w, p)
	}
	if r.LogNote != "" {
		fmt.Fprintln(w, "note:", r.LogNote)
	}
}

func off(l *Located) string {
	if l == nil {
		return "—"
	}
	return fmt.Sprint(l.Offset)
}

// writePair prints two events side by side, marking the fields that differ.
func (r *Report) writePair(w io.Writer, p *Pair) {
	{
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "field\t%s\t%s\n", label("A", r.A), label("B", r.B))
		ra, rb := rows(p.A), rows(p.B)
		for i := range ra {
			mark := ""
			if ra[i][1] != rb[i][1] {
				mark = "  <-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s%s\n", ra[i][0], ra[i][1], rb[i][1], mark)
		}
		tw.Flush()
	}
}

func label(side string, r *Run) string {
	return fmt.Sprintf("%s (%s, seed %d)", side, r.Policy, r.Seed)
}

func short(d string) string {
	if len(d) > 15 {
		return d[:15]
	}
	return d
}

// rows lays an event out field by field; both sides get the same names.
func rows(l *Located) [][2]string {
	names := []string{"offset", "type", "wallet", "seq", "command", "kind", "amount", "balance_after", "counterparty", "rule", "route", "reason", "attempt", "peer", "hops", "latency_us", "postings"}
	out := make([][2]string, len(names))
	for i, n := range names {
		out[i][0] = n
		out[i][1] = "—"
	}
	if l == nil {
		return out
	}
	e := &l.Event
	route := l.Route
	if e.Route != 0 && route == "" {
		route = fmt.Sprintf("route %d", e.Route)
	}
	var legs []string
	for _, p := range e.Legs() {
		legs = append(legs, fmt.Sprintf("%s %+d %s", p.Account, p.Amount, p.Currency))
	}
	vals := []string{
		fmt.Sprint(l.Offset), e.Type.String(), fmt.Sprint(e.Wallet), fmt.Sprint(e.Seq), fmt.Sprint(e.Command),
		e.Kind.String(), fmt.Sprintf("%d %s", e.Amount, e.Currency), fmt.Sprint(e.BalanceAfter), fmt.Sprint(e.Counterparty),
		dash(l.Rule), dash(route), reason(e.Reason), fmt.Sprint(e.Attempt), provider(e.Peer), fmt.Sprint(e.Hops),
		fmt.Sprint(e.LatencyUS), strings.Join(legs, ", "),
	}
	for i, v := range vals {
		out[i][1] = v
	}
	return out
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func reason(r sim.Reason) string {
	if r == sim.ReasonNone {
		return "—"
	}
	return r.String()
}

func provider(p sim.Provider) string {
	if p == sim.ProviderNone {
		return "—"
	}
	return p.String()
}

// LogAt is where to read a log the caller names: an embedded broker's data
// dir when given, else the cluster bc when it has brokers, else nil (the
// summary's own record, Recorded).
func LogAt(dataDir string, bc bus.Config, topics bus.Topics) *Log {
	switch {
	case dataDir != "":
		return &Log{DataDir: dataDir, Topics: topics}
	case len(bc.Brokers) > 0:
		return &Log{Bus: bc, Topics: topics}
	}
	return nil
}
