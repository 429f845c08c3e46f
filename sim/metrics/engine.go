package metrics

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/walletsim/walletsim/sim/engine"
)

// engineCollector exports an engine's counters and the cluster's
// per-partition progress. Counters are the totals of every engine it has
// seen, so a worker's new engine per generation does not make them go
// backwards (a counter reset would make rate() spike). Progress (lag and
// checkpointed epoch) is polled in the background rather than at scrape
// time: reading it costs a few Kafka requests per partition, and the last
// snapshot must outlive the broker of a run that has finished.
type engineCollector struct {
	produced, resolved, deadLetters, retries *prometheus.Desc
	lag, epoch                               *prometheus.Desc

	mu       sync.Mutex
	e        *engine.Engine
	base     [4]int64 // produced, resolved, dead letters, retries of engines past
	progress []engine.PartitionProgress
	stopPoll chan struct{}
	pollDone chan struct{}
}

const (
	pollEvery   = 500 * time.Millisecond
	pollTimeout = 2 * time.Second
)

func newEngineCollector() *engineCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(Namespace+"_"+name, help, labels, nil)
	}
	return &engineCollector{
		produced:    d("payments_produced_total", "Payments written to the commands topic by this process's producer."),
		resolved:    d("payments_resolved_total", "Payment outcomes written by this process's processors."),
		deadLetters: d("dead_letters_total", "Records this process sent to the dead-letter topic (undecodable or misrouted)."),
		retries:     d("write_retries_total", "Kafka requests this process repeated after an error."),
		lag:         d("consumer_lag_records", "Records of the commands topic beyond each partition's latest checkpoint: what its processor, wherever it runs, has yet to consume (read from the cluster).", "partition"),
		epoch:       d("epoch_done", "Last simulated-time epoch each partition checkpointed, wherever its processor runs (read from the cluster).", "partition"),
	}
}

func (c *engineCollector) names() []string {
	return []string{
		Namespace + "_payments_produced_total", Namespace + "_payments_resolved_total", Namespace + "_dead_letters_total",
		Namespace + "_write_retries_total", Namespace + "_consumer_lag_records", Namespace + "_epoch_done",
	}
}

// set switches to engine e (nil: detach), folding the previous engine's
// counters into the base and moving the progress poller to e.
func (c *engineCollector) set(e *engine.Engine) {
	c.mu.Lock()
	if c.e == e {
		c.mu.Unlock()
		return
	}
	old, stop, done := c.e, c.stopPoll, c.pollDone
	c.e, c.stopPoll, c.pollDone = e, nil, nil
	if old != nil {
		c.base[0] += old.Produced()
		c.base[1] += old.Resolved()
		c.base[2] += old.DeadLetters()
		c.base[3] += old.Retries()
	}
	if e != nil {
		c.stopPoll, c.pollDone = make(chan struct{}), make(chan struct{})
		go c.poll(e, c.stopPoll, c.pollDone)
	}
	c.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// poll refreshes the progress of e until stopped.
func (c *engineCollector) poll(e *engine.Engine, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel()
	}()
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		pctx, pcancel := context.WithTimeout(ctx, pollTimeout)
		p, err := e.Progress(pctx)
		pcancel()
		if err == nil {
			c.mu.Lock()
			if c.e == e {
				c.progress = p
			}
			c.mu.Unlock()
		}
		// An error (a broker restarting) keeps the last snapshot.
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// finish detaches the engine of a completed run: every partition has
// checkpointed done, so nothing is left to consume. The broker may be gone
// by now, so the last epochs come from the engine's own processors: a run
// shorter than one poll interval would otherwise export none.
func (c *engineCollector) finish(lastEpoch int64) {
	c.mu.Lock()
	e := c.e
	c.mu.Unlock()
	c.set(nil)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e != nil {
		done := e.DoneEpochs()
		if len(c.progress) < len(done) {
			c.progress = append(c.progress, make([]engine.PartitionProgress, len(done)-len(c.progress))...)
		}
		for p, d := range done {
			switch {
			case d >= 1<<31:
				c.progress[p].Epoch, c.progress[p].Done = lastEpoch, true
			case d > c.progress[p].Epoch:
				c.progress[p].Epoch = d
			}
		}
	}
	for i := range c.progress {
		c.progress[i].Lag = 0
	}
}

func (c *engineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.produced, c.resolved, c.deadLetters, c.retries, c.lag, c.epoch} {
		ch <- d
	}
}

func (c *engineCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	vals := c.base
	if e := c.e; e != nil {
		vals[0] += e.Produced()
		vals[1] += e.Resolved()
		vals[2] += e.DeadLetters()
		vals[3] += e.Retries()
	}
	for i, d := range []*prometheus.Desc{c.produced, c.resolved, c.deadLetters, c.retries} {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(vals[i]))
	}
	for p, v := range c.progress {
		part := strconv.Itoa(p)
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(v.Lag), part)
		if v.Epoch >= 0 {
			ch <- prometheus.MustNewConstMetric(c.epoch, prometheus.GaugeValue, float64(v.Epoch), part)
		}
	}
}
