// Package chaos runs a scenario as a child process that it SIGKILLs at
// seeded points, restarting it after each kill until it finishes, then
// audits the log and compares its digest with a run that was never killed.
// `walletsim chaos` is a thin CLI over Run.
package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/netfault"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/run"
)

// Config configures one chaos run.
type Config struct {
	// Child returns the command that runs the scenario once against the
	// broker at brokers, on the topics of prefix, writing outDir/summary.json;
	// fresh deletes the topics first. It exits 0 when the run finished and
	// its invariants held. Run starts it, SIGKILLs it and starts it again.
	Child func(brokers, prefix, outDir string, fresh bool) *exec.Cmd
	// Kills is the number of SIGKILLs to deliver, 0-10000.
	Kills int
	// KillSeed seeds the kill points and the network faults.
	KillSeed int64
	// Resets and LostResponses are network faults between the killed run
	// and the broker (package netfault), spread over the reference's wall
	// time, 0-1000000 each.
	Resets, LostResponses int
	// Out receives summary.json and logs/ (the children's output); empty:
	// a temporary directory, removed when Run returns.
	Out string
	// Progress receives a line per phase and kill (default: none).
	Progress io.Writer
}

func (c *Config) setDefaults() {
	if c.Progress == nil {
		c.Progress = io.Discard
	}
}

// Validate reports a configuration that cannot make a chaos run. Its
// messages name the setting as the CLI's flags do (kills, resets,
// lost-responses).
func (c *Config) Validate() error {
	switch {
	case c.Child == nil:
		return errors.New("chaos: Child is required")
	case c.Kills < 0 || c.Kills > 10_000:
		return fmt.Errorf("kills: want 0-10000, got %d", c.Kills)
	case c.Resets < 0 || c.Resets > 1_000_000:
		return fmt.Errorf("resets: want 0-1000000, got %d", c.Resets)
	case c.LostResponses < 0 || c.LostResponses > 1_000_000:
		return fmt.Errorf("lost-responses: want 0-1000000, got %d", c.LostResponses)
	}
	return nil
}

// Report is the "chaos" section of chaos's summary.json.
type Report struct {
	KillsRequested  int         `json:"kills_requested"`
	Kills           int         `json:"kills"`
	Attempts        int         `json:"attempts"`
	KillSeed        int64       `json:"kill_seed"`
	KillPoints      []KillPoint `json:"kill_points"`
	ReferenceDigest string      `json:"reference_digest"`
	Digest          string      `json:"digest"`
	DigestMatch     bool        `json:"digest_match"`
	ReferenceEvents int64       `json:"reference_events"`
	ReferenceS      float64     `json:"reference_s"` // wall time of the kill-free run
	ChaosS          float64     `json:"chaos_s"`     // wall time of the killed run, restarts included
	VerifyOK        bool        `json:"verify_ok"`
	// Network faults between the killed run and the broker (netfault).
	ResetsRequested int   `json:"resets_requested,omitempty"`
	LostRequested   int   `json:"lost_responses_requested,omitempty"`
	ConnResets      int64 `json:"connection_resets"`
	LostResponses   int64 `json:"lost_responses"`
}

// KillPoint records where one SIGKILL landed.
type KillPoint struct {
	Attempt int     `json:"attempt"`
	AfterS  float64 `json:"after_s"` // since that attempt started
	Events  int64   `json:"events"`  // events in the log when it died
	Phase   string  `json:"phase"`   // "recovery", "processing" or "audit"
}

// Summary is summary.json: the run's summary, audited again after the
// last restart, plus what chaos did.
type Summary struct {
	*run.Summary
	Chaos Report `json:"chaos"`
}

// Result is a finished chaos run.
type Result struct {
	Summary Summary
	Audit   audit.Report // the final audit, from the log alone
	Path    string       // summary.json
}

// Err is the verdict: nil when every invariant held after the kills and
// the digest equals the kill-free run's.
func (r *Result) Err() error {
	switch c := r.Summary.Chaos; {
	case !c.VerifyOK:
		return errors.New("chaos: invariants violated after the kills")
	case !c.DigestMatch:
		return fmt.Errorf("chaos: digest %s differs from the kill-free run's %s", c.Digest, c.ReferenceDigest)
	}
	return nil
}

// WriteText prints what chaos did and found.
func (r *Result) WriteText(w io.Writer) {
	rep, ar := r.Summary.Chaos, r.Audit
	fmt.Fprintf(w, "chaos: %d kills over %d attempts, %.1fs (reference %.1fs)\n", rep.Kills, rep.Attempts, rep.ChaosS, rep.ReferenceS)
	if rep.ResetsRequested > 0 || rep.LostRequested > 0 {
		fmt.Fprintf(w, "network: %d connections reset, %d produce responses lost; %d events redelivered (skipped)\n", rep.ConnResets, rep.LostResponses, ar.Redelivered)
	}
	fmt.Fprintf(w, "payments %d attempted, %d succeeded, %d declined; events %d\n", ar.Attempted, ar.Succeeded, ar.Declined, ar.Events)
	fmt.Fprintf(w, "money conserved %v, unresolved commands %d, duplicate outcomes %d, duplicate events %d, sequence gaps %d\n",
		ar.MoneyConserved, ar.UnresolvedCommands, ar.DuplicateOutcomes, ar.DuplicateEvents, ar.SequenceGaps)
	fmt.Fprintf(w, "digest    %s\nreference %s\n", rep.Digest, rep.ReferenceDigest)
	fmt.Fprintln(w, "wrote", r.Path)
}

// Run starts an embedded broker, runs the scenario once without faults as
// a reference, then runs it again as a child it SIGKILLs cfg.Kills times
// and audits the result. An error means chaos could not finish; a
// finished run's verdict is Result.Err.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	progress := cfg.Progress
	work, err := os.MkdirTemp("", "walletsim-chaos-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	out := cfg.Out
	if out == "" {
		out = filepath.Join(work, "out")
	}
	logs := filepath.Join(out, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, err
	}

	// One broker for both runs, in this process: the child is what dies.
	b, err := embedded.Start(embedded.Config{DataDir: filepath.Join(work, "broker")})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	admin, err := bus.NewClient(bc)
	if err != nil {
		return nil, err
	}
	// The killed run reaches the broker through a proxy that resets
	// connections and loses responses; the reference and the final audit
	// go direct.
	px, err := netfault.Start("", b.Addr())
	if err != nil {
		return nil, err
	}
	defer px.Close()

	// The reference: the same scenario, never killed, on its own topics.
	rep := Report{KillsRequested: cfg.Kills, KillSeed: cfg.KillSeed}
	refOut := filepath.Join(work, "reference")
	fmt.Fprintf(progress, "chaos: reference run (no kills) on %s\n", b.Addr())
	t0 := time.Now()
	refLog := filepath.Join(logs, "reference.log")
	if err := runChild(ctx, cfg.Child(b.Addr(), "chaos-ref", refOut, true), refLog); err != nil {
		return nil, fmt.Errorf("chaos: reference run: %w (log: %s)", err, refLog)
	}
	rep.ReferenceS = time.Since(t0).Seconds()
	ref, err := readSummary(refOut)
	if err != nil {
		return nil, fmt.Errorf("chaos: reference run: %w", err)
	}
	rep.ReferenceDigest, rep.ReferenceEvents = ref.Events.Digest, ref.Events.Written
	// Its topics are no longer needed: free the broker's memory for the
	// killed run.
	_ = admin.DeleteTopics(ctx, append(bus.DefaultTopics("chaos-ref").Partitioned(), "chaos-ref.deadletters", "chaos-ref.producer")...)
	fmt.Fprintf(progress, "chaos: reference done in %.1fs: %d events, digest %s\n", rep.ReferenceS, rep.ReferenceEvents, rep.ReferenceDigest)

	// The killed run.
	topics := bus.DefaultTopics("chaos")
	rep.ResetsRequested, rep.LostRequested = cfg.Resets, cfg.LostResponses
	stopFaults := make(chan struct{})
	faultsDone := make(chan struct{})
	plan := netfault.Plan{Resets: cfg.Resets, LostResponses: cfg.LostResponses, Over: time.Duration(rep.ReferenceS * float64(time.Second)), LoseTopic: topics.Events, Seed: cfg.KillSeed}
	go func() { defer close(faultsDone); plan.Run(px, stopFaults) }()
	endFaults := func() {
		select {
		case <-stopFaults:
		default:
			close(stopFaults)
			<-faultsDone
		}
	}
	defer endFaults()
	kills := Plan(cfg.KillSeed, cfg.Kills)
	runOut := filepath.Join(work, "run")
	var finished time.Duration // how long the last attempt that ran to the end took
	t0 = time.Now()
	for attempt := 0; ; attempt++ {
		if attempt > 3*cfg.Kills+20 {
			return nil, fmt.Errorf("chaos: gave up after %d attempts without a finished run", attempt)
		}
		var next *Kill
		if rep.Kills < len(kills) {
			next = &kills[rep.Kills]
		}
		logPath := filepath.Join(logs, fmt.Sprintf("run-%02d.log", attempt))
		// Recovery kills land within the first 30% of the reference's
		// duration; over a finished log, within the last clean attempt's.
		span := rep.ReferenceS
		if finished > 0 {
			span = finished.Seconds() / 0.3
		}
		t := time.Now()
		k := killer{kill: next, refEvents: rep.ReferenceEvents, refS: span, events: func() int64 { return b.Records(topics.Events) }}
		kp, err := k.run(ctx, cfg.Child(px.Addr(), "chaos", runOut, attempt == 0), logPath)
		rep.Attempts = attempt + 1
		if err != nil {
			return nil, fmt.Errorf("chaos: attempt %d: %w (log: %s)", attempt+1, err, logPath)
		}
		if kp == nil {
			finished = time.Since(t)
			if rep.Kills == len(kills) {
				break
			}
			// The run finished before every kill landed: restart it over
			// the finished log (it recovers, finds every partition done and
			// audits) and keep killing, early: the path of a crash after
			// the last event, before the result was reported.
			for i := rep.Kills; i < len(kills); i++ {
				kills[i].Recovery = true
			}
			continue
		}
		kp.Attempt = attempt + 1
		rep.KillPoints = append(rep.KillPoints, *kp)
		rep.Kills++
		fmt.Fprintf(progress, "chaos: kill %d/%d: attempt %d after %.2fs, in %s, %d events in the log (%.0f%% of the reference)\n",
			rep.Kills, cfg.Kills, attempt+1, kp.AfterS, kp.Phase, kp.Events, 100*float64(kp.Events)/max(1, float64(rep.ReferenceEvents)))
	}
	rep.ChaosS = time.Since(t0).Seconds()
	endFaults()
	rep.ConnResets, rep.LostResponses = px.Resets(), px.Lost()
	sum, err := readSummary(runOut)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}

	// The audit, from the log alone, as `walletsim verify` does it.
	_, ar, err := engine.Verify(ctx, bc, topics)
	if err != nil {
		return nil, fmt.Errorf("chaos: verify: %w", err)
	}
	applyAudit(sum, ar)
	sum.DeadLetters = b.Records(topics.DeadLetters)
	rep.Digest = ar.Digest
	rep.DigestMatch = ar.Digest == rep.ReferenceDigest
	rep.VerifyOK = ar.OK()
	res := &Result{Summary: Summary{Summary: sum, Chaos: rep}, Audit: ar}
	if res.Path, err = writeJSON(out, "summary.json", res.Summary); err != nil {
		return nil, err
	}
	return res, nil
}

func readSummary(dir string) (*run.Summary, error) {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, err
	}
	var s run.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "summary.json"), err)
	}
	return &s, nil
}

// applyAudit puts the final audit's verdict into the summary: the summary
// the last child wrote came from the same log, but the verdict chaos
// reports is its own.
func applyAudit(s *run.Summary, r audit.Report) {
	s.Payments.Attempted, s.Payments.Succeeded, s.Payments.Declined = r.Attempted, r.Succeeded, r.Declined
	s.Events.Written, s.Events.Digest, s.Events.Redelivered = r.Events, r.Digest, r.Redelivered
	s.Invariants = r.Invariants
}

func writeJSON(dir, name string, v any) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, append(b, '\n'), 0o644)
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// WalletsimChild is the Child of `walletsim chaos`: bin (the walletsim
// binary) runs scenario against the broker, quietly, with args (the run's
// overrides, as `walletsim run` takes them) appended.
func WalletsimChild(bin, scenario string, args ...string) func(brokers, prefix, outDir string, fresh bool) *exec.Cmd {
	return func(brokers, prefix, outDir string, fresh bool) *exec.Cmd {
		a := []string{"run", scenario, "--brokers", brokers, "--topic-prefix", prefix, "--out", outDir, "--quiet", "--fresh=" + strconv.FormatBool(fresh)}
		return exec.Command(bin, append(a, args...)...)
	}
}
