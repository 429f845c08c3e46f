package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Kill is when to kill. A progress kill fires once the log holds Frac of
// the reference's events and this child has written something (a
// threshold an earlier child crossed kills this one right after its
// recovery), plus a Jitter so it lands inside an epoch's writes rather
// than at poll ticks. A Recovery kill fires at a share At of the
// reference's wall time after the start, typically while the child
// rebuilds its state or, over a finished log, audits it.
type Kill struct {
	Frac     float64
	Jitter   time.Duration
	Recovery bool
	At       float64
}

// Plan draws n kill points from the seed: the same seed kills at the same
// points of the log's progress (wall time varies by machine). Progress
// thresholds are sorted, so the kills walk through the whole run.
func Plan(seed int64, n int) []Kill {
	rng := rand.New(rand.NewPCG(uint64(seed), 0xc4a05))
	plan := make([]Kill, n)
	var fr []float64
	for i := range plan {
		k := &plan[i]
		k.Recovery = rng.IntN(5) == 0
		k.At = 0.3 * rng.Float64()
		k.Jitter = time.Duration(rng.IntN(100)) * time.Millisecond
		k.Frac = 0.02 + 0.96*rng.Float64()
		if !k.Recovery {
			fr = append(fr, k.Frac)
		}
	}
	sort.Float64s(fr)
	for i := range plan {
		if !plan[i].Recovery {
			plan[i].Frac, fr = fr[0], fr[1:]
		}
	}
	return plan
}

// runChild runs a child to completion; a non-zero exit is an error.
func runChild(ctx context.Context, c *exec.Cmd, logPath string) error {
	kp, err := (&killer{}).run(ctx, c, logPath)
	if err == nil && kp != nil {
		err = errors.New("killed unexpectedly")
	}
	return err
}

// killer kills one child at its planned point: kill nil runs it to the
// end. events counts the log's events; refEvents and refS are the
// reference run's events and wall time the kill point is a share of.
type killer struct {
	kill      *Kill
	refEvents int64
	refS      float64
	events    func() int64
}

// run runs c and SIGKILLs it at the planned point. It returns where the
// kill landed, or nil if the child exited 0 first; any other exit is an
// error.
func (k *killer) run(ctx context.Context, c *exec.Cmd, logPath string) (*KillPoint, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	var startEvents int64
	if k.events != nil {
		startEvents = k.events()
	}
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
	if p := k.kill; p != nil {
		if p.Recovery {
			trigger = time.After(time.Duration(p.At * k.refS * float64(time.Second)))
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
				return nil, fmt.Errorf("%s exited: %v: %s", strings.Join(c.Args[1:min(3, len(c.Args))], " "), err, tail(logPath, 1))
			}
			return nil, nil
		case <-ctx.Done():
			_ = c.Process.Kill()
			<-done
			return nil, ctx.Err()
		case <-poll:
			if n := k.events(); float64(n) >= k.kill.Frac*float64(k.refEvents) && n > startEvents {
				poll, trigger = nil, time.After(k.kill.Jitter)
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
			kp := &KillPoint{AfterS: time.Since(start).Seconds(), Events: k.events()}
			switch {
			case kp.Events == startEvents:
				kp.Phase = "recovery" // nothing written yet by this child
			case kp.Events < k.refEvents:
				kp.Phase = "processing"
			default:
				kp.Phase = "audit"
			}
			return kp, nil
		}
	}
}
