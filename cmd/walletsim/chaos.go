package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/walletsim/walletsim/internal/cli"
	"github.com/walletsim/walletsim/scenarios"
	"github.com/walletsim/walletsim/sim/audit"
	"github.com/walletsim/walletsim/sim/bus"
	"github.com/walletsim/walletsim/sim/bus/embedded"
	"github.com/walletsim/walletsim/sim/bus/netfault"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/run"
	"github.com/walletsim/walletsim/sim/scenario"
)

func init() { rootCmd.AddCommand(newChaosCmd()) }

type chaosFlags struct {
	kills      int
	payments   int64
	seed       int64
	killSeed   int64
	policy     string
	partitions int
	out        string
	quiet      bool
	resets     int
	lost       int
}

// ChaosReport is the "chaos" section of chaos's summary.json.
type ChaosReport struct {
	KillsRequested  int         `json:"kills_requested"`
	Kills           int         `json:"kills"`
	Attempts        int         `json:"attempts"`
	KillSeed        int64       `json:"kill_seed"`
	KillPoints      []killPoint `json:"kill_points"`
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

// killPoint records where one SIGKILL landed.
type killPoint struct {
	Attempt int     `json:"attempt"`
	AfterS  float64 `json:"after_s"` // since that attempt started
	Events  int64   `json:"events"`  // events in the log when it died
	Phase   string  `json:"phase"`   // "recovery", "processing" or "audit"
}

// chaosSummary is summary.json: the run's summary, audited again after the
// last restart, plus what chaos did.
type chaosSummary struct {
	*run.Summary
	Chaos ChaosReport `json:"chaos"`
}

func newChaosCmd() *cobra.Command {
	f := &chaosFlags{}
	cmd := &cobra.Command{
		Use:   "chaos SCENARIO --kills N",
		Short: "Run a scenario in a child process, SIGKILL it N times, and prove nothing was lost or doubled",
		Long: `Chaos starts an embedded broker, runs the scenario once without faults as a
reference, then runs it again as a separate 'walletsim run' process that it
SIGKILLs N times at seeded random points (a random share of the reference's
wall time after each start, so kills land in recovery, in processing and in
the final audit), restarting it after each kill until it finishes. It then audits the log
(as 'verify' does) and compares the events digest with the reference's.
Exit 0: every command has exactly one outcome, money is conserved, every
invariant holds and the digests are equal; 1: any of that failed; 2: bad
arguments.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runChaos(cmd, f, args[0]) },
	}
	fs := cmd.Flags()
	fs.IntVar(&f.kills, "kills", 5, "SIGKILLs to deliver during the run")
	fs.Int64Var(&f.payments, "payments", 0, "number of payments (overrides the scenario)")
	fs.Int64Var(&f.seed, "seed", 0, "random seed of the scenario (overrides the scenario)")
	fs.Int64Var(&f.killSeed, "kill-seed", 0, "seed of the kill points (default: the scenario seed)")
	fs.StringVar(&f.policy, "policy", "", "interoperability policy (overrides the scenario)")
	fs.IntVar(&f.partitions, "partitions", 0, "partitions per topic (overrides the scenario)")
	fs.StringVar(&f.out, "out", "", "directory for summary.json and the child processes' logs")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output")
	fs.IntVar(&f.resets, "resets", 0, "connection resets between the run and the broker, spread over the reference's wall time (a TCP proxy resets every open connection)")
	fs.IntVar(&f.lost, "lost-responses", 0, "produce responses the proxy drops after the broker appended (the client resends: records land twice)")
	return cmd
}

func runChaos(cmd *cobra.Command, f *chaosFlags, name string) error {
	// Check the input here, so a typo exits 2 before anything starts; the
	// child processes load the same files the same way.
	sc, _, err := scenarios.LoadScenario(name)
	if err != nil {
		return cli.Usage(err)
	}
	if sc.Faults != (scenario.Faults{}) {
		return cli.Usagef("%s: chaos kills the engine, it does not inject broker faults: run a scenario with a faults key with `walletsim run`", name)
	}
	if f.kills < 0 || f.kills > 10_000 {
		return cli.Usagef("--kills: want 0-10000, got %d", f.kills)
	}
	if f.resets < 0 || f.resets > 1_000_000 {
		return cli.Usagef("--resets: want 0-1000000, got %d", f.resets)
	}
	if f.lost < 0 || f.lost > 1_000_000 {
		return cli.Usagef("--lost-responses: want 0-1000000, got %d", f.lost)
	}
	fl := cmd.Flags()
	if fl.Changed("payments") && f.payments <= 0 {
		return cli.Usagef("--payments: must be positive, got %d", f.payments)
	}
	if fl.Changed("partitions") && (f.partitions < 1 || f.partitions > 1024) {
		return cli.Usagef("--partitions: want 1-1024, got %d", f.partitions)
	}
	policy := sc.Policy
	if f.policy != "" {
		policy = f.policy
	}
	if policy != "" {
		if _, _, _, err := scenarios.LoadPolicy(policy); err != nil {
			return cli.Usage(err)
		}
	}
	seed := sc.Seed
	if fl.Changed("seed") {
		seed = f.seed
	}
	killSeed := seed
	if fl.Changed("kill-seed") {
		killSeed = f.killSeed
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("chaos: find own binary: %w", err)
	}
	work, err := os.MkdirTemp("", "walletsim-chaos-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	out := f.out
	if out == "" {
		out = filepath.Join(work, "out")
	}
	logs := filepath.Join(out, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return err
	}
	progress := io.Discard
	if !f.quiet {
		progress = cmd.ErrOrStderr()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// One broker for both runs, in this process: the child is what dies.
	b, err := embedded.Start(embedded.Config{DataDir: filepath.Join(work, "broker")})
	if err != nil {
		return err
	}
	defer b.Close()
	bc := bus.Config{Brokers: []string{b.Addr()}}
	admin, err := bus.NewClient(bc)
	if err != nil {
		return err
	}
	// The killed run reaches the broker through a proxy that resets
	// connections and loses responses (--resets, --lost-responses); the
	// reference and the final audit go direct.
	px, err := netfault.Start("", b.Addr())
	if err != nil {
		return err
	}
	defer px.Close()
	runArgs := func(prefix, outDir string, fresh bool) []string {
		addr := b.Addr()
		if prefix == "chaos" {
			addr = px.Addr()
		}
		a := []string{"run", name, "--brokers", addr, "--topic-prefix", prefix, "--out", outDir, "--quiet", "--fresh=" + strconv.FormatBool(fresh)}
		if fl.Changed("payments") {
			a = append(a, "--payments", strconv.FormatInt(f.payments, 10))
		}
		if fl.Changed("seed") {
			a = append(a, "--seed", strconv.FormatInt(f.seed, 10))
		}
		if f.policy != "" {
			a = append(a, "--policy", f.policy)
		}
		if fl.Changed("partitions") {
			a = append(a, "--partitions", strconv.Itoa(f.partitions))
		}
		return a
	}

	// The reference: the same scenario, never killed, on its own topics.
	rep := ChaosReport{KillsRequested: f.kills, KillSeed: killSeed}
	refOut := filepath.Join(work, "reference")
	fmt.Fprintf(progress, "chaos: reference run (no kills) on %s\n", b.Addr())
	t0 := time.Now()
	if err := runChild(ctx, self, runArgs("chaos-ref", refOut, true), filepath.Join(logs, "reference.log")); err != nil {
		return fmt.Errorf("chaos: reference run: %w (log: %s)", err, filepath.Join(logs, "reference.log"))
	}
	rep.ReferenceS = time.Since(t0).Seconds()
	ref, err := readSummaryFile(refOut)
	if err != nil {
		return fmt.Errorf("chaos: reference run: %w", err)
	}
	rep.ReferenceDigest, rep.ReferenceEvents = ref.Events.Digest, ref.Events.Written
	// Its topics are no longer needed: free the broker's memory for the
	// killed run.
	_ = admin.DeleteTopics(ctx, append(bus.DefaultTopics("chaos-ref").Partitioned(), "chaos-ref.deadletters", "chaos-ref.producer")...)
	fmt.Fprintf(progress, "chaos: reference done in %.1fs: %d events, digest %s\n", rep.ReferenceS, rep.ReferenceEvents, rep.ReferenceDigest)

	// The killed run.
	topics := bus.DefaultTopics("chaos")
	rep.ResetsRequested, rep.LostRequested = f.resets, f.lost
	stopFaults := make(chan struct{})
	faultsDone := make(chan struct{})
	plan := netfault.Plan{Resets: f.resets, LostResponses: f.lost, Over: time.Duration(rep.ReferenceS * float64(time.Second)), LoseTopic: topics.Events, Seed: killSeed}
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
	kills := killPlan(killSeed, f.kills)
	runOut := filepath.Join(work, "run")
	var finished time.Duration // how long the last attempt that ran to the end took
	t0 = time.Now()
	for attempt := 0; ; attempt++ {
		if attempt > 3*f.kills+20 {
			return fmt.Errorf("chaos: gave up after %d attempts without a finished run", attempt)
		}
		var next *plannedKill
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
		kp, err := runKilled(ctx, self, runArgs("chaos", runOut, attempt == 0), logPath, next, rep.ReferenceEvents, span, func() int64 { return b.Records(topics.Events) })
		rep.Attempts = attempt + 1
		if err != nil {
			return fmt.Errorf("chaos: attempt %d: %w (log: %s)", attempt+1, err, logPath)
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
				kills[i].recovery = true
			}
			continue
		}
		kp.Attempt = attempt + 1
		rep.KillPoints = append(rep.KillPoints, *kp)
		rep.Kills++
		fmt.Fprintf(progress, "chaos: kill %d/%d: attempt %d after %.2fs, in %s, %d events in the log (%.0f%% of the reference)\n",
			rep.Kills, f.kills, attempt+1, kp.AfterS, kp.Phase, kp.Events, 100*float64(kp.Events)/max(1, float64(rep.ReferenceEvents)))
	}
	rep.ChaosS = time.Since(t0).Seconds()
	endFaults()
	rep.ConnResets, rep.LostResponses = px.Resets(), px.Lost()
	sum, err := readSummaryFile(runOut)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}

	// The audit, from the log alone, as `walletsim verify` does it.
	_, ar, err := engine.Verify(ctx, bc, topics)
	if err != nil {
		return fmt.Errorf("chaos: verify: %w", err)
	}
	applyAudit(sum, ar)
	sum.DeadLetters = b.Records(topics.DeadLetters)
	rep.Digest = ar.Digest
	rep.DigestMatch = ar.Digest == rep.ReferenceDigest
	rep.VerifyOK = ar.OK()
	cs := chaosSummary{Summary: sum, Chaos: rep}
	p, err := writeJSON(out, "summary.json", cs)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "chaos: %d kills over %d attempts, %.1fs (reference %.1fs)\n", rep.Kills, rep.Attempts, rep.ChaosS, rep.ReferenceS)
	if f.resets > 0 || f.lost > 0 {
		fmt.Fprintf(w, "network: %d connections reset, %d produce responses lost; %d events redelivered (skipped)\n", rep.ConnResets, rep.LostResponses, ar.Redelivered)
	}
	fmt.Fprintf(w, "payments %d attempted, %d succeeded, %d declined; events %d\n", ar.Attempted, ar.Succeeded, ar.Declined, ar.Events)
	fmt.Fprintf(w, "money conserved %v, unresolved commands %d, duplicate outcomes %d, duplicate events %d, sequence gaps %d\n",
		ar.MoneyConserved, ar.UnresolvedCommands, ar.DuplicateOutcomes, ar.DuplicateEvents, ar.SequenceGaps)
	fmt.Fprintf(w, "digest    %s\nreference %s\n", rep.Digest, rep.ReferenceDigest)
	fmt.Fprintln(w, "wrote", p)
	switch {
	case !rep.VerifyOK:
		return &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("chaos: invariants violated after the kills")}
	case !rep.DigestMatch:
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("chaos: digest %s differs from the kill-free run's %s", rep.Digest, rep.ReferenceDigest)}
	}
	fmt.Fprintln(w, "chaos: OK")
	return nil
}

// plannedKill is when to kill. A progress kill fires once the log holds
// frac of the reference's events and this child has written something
// (a threshold an earlier child crossed kills this one right after its
// recovery), plus a jitter so it lands inside an epoch's writes rather than
// at poll ticks. A recovery kill fires at a share of the reference's wall
// time after the start, typically while the child rebuilds its state or,
// over a finished log, audits it.
type plannedKill struct {
	frac     float64
	jitter   time.Duration
	recovery bool
	at       float64
}

// killPlan draws the kill points from the seed: the same seed kills at the
// same points of the log's progress (wall time varies by machine).
// Progress thresholds are sorted, so the kills walk through the whole run.
func killPlan(seed int64, n int) []plannedKill {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xc4a05))
	plan := make([]plannedKill, n)
	var fr []float64
	for i := range plan {
		k := &plan[i]
		k.recovery = rng.IntN(5) == 0
		k.at = 0.3 * rng.Float64()
		k.jitter = time.Duration(rng.IntN(100)) * time.Millisecond
		k.frac = 0.02 + 0.96*rng.Float64()
		if !k.recovery {
			fr = append(fr, k.frac)
		}
	}
	sort.Float64s(fr)
	for i := range plan {
		if !plan[i].recovery {
			plan[i].frac, fr = fr[0], fr[1:]
		}
	}
	return plan
}

// runChild runs a child to completion; a non-zero exit is an error.
func runChild(ctx context.Context, self string, args []string, logPath string) error {
	kp, err := runKilled(ctx, self, args, logPath, nil, 0, 0, nil)
	if err == nil && kp != nil {
		err = errors.New("killed unexpectedly")
	}
	return err
}

// runKilled runs one child and SIGKILLs it at the planned point. It
// returns where the kill landed, or nil if the child exited 0 first; any
// other exit is an error.
func runKilled(ctx context.Context, self string, args []string, logPath string, k *plannedKill, refEvents int64, refS float64, events func() int64) (*killPoint, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	var startEvents int64
	if events != nil {
		startEvents = events()
	}
	c := exec.Command(self, args...)
	c.Stdout, c.Stderr = logf, logf
	// Its own process group, so a Ctrl-C at the terminal reaches only us
	// (we kill the child ourselves); and it dies with us, since the broker
	// it talks to lives in this process.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := c.Start(); err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	var trigger, poll <-chan time.Time
	if k != nil {
		if k.recovery {
			trigger = time.After(time.Duration(k.at * refS * float64(time.Second)))
		} else {
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			poll = t.C
		}
	}
	for {
		select {
		case err := <-done:
			if err != nil {
				return nil, fmt.Errorf("%s exited: %v: %s", strings.Join(args[:2], " "), err, tail(logPath, 1))
			}
			return nil, nil
		case <-ctx.Done():
			_ = c.Process.Kill()
			<-done
			return nil, ctx.Err()
		case <-poll:
			if n := events(); float64(n) >= k.frac*float64(refEvents) && n > startEvents {
				poll, trigger = nil, time.After(k.jitter)
			}
		case <-trigger:
			if err := c.Process.Signal(syscall.SIGKILL); err != nil {
				trigger = nil
				continue // it exited meanwhile; done will say how
			}
			if err := <-done; err == nil {
				return nil, nil // it finished just before the signal
			}
			// Counted after death, so it is exactly what the child left.
			kp := &killPoint{AfterS: time.Since(start).Seconds(), Events: events()}
			switch {
			case kp.Events == startEvents:
				kp.Phase = "recovery" // nothing written yet by this child
			case kp.Events < refEvents:
				kp.Phase = "processing"
			default:
				kp.Phase = "audit"
			}
			return kp, nil
		}
	}
}

func readSummaryFile(dir string) (*run.Summary, error) {
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
