// Package metrics exports walletsim's Prometheus metrics. Every command that
// runs part of the pipeline (run, worker, serve, attack) builds one Metrics
// on a registry, feeds it events (Observe, from engine.Config.OnEvent or
// run.Options.OnEvent) and its engine (ObserveEngine), and serves the
// registry at /metrics (Serve or Handler). The dashboards in dashboards/
// are built only on the names listed by Names; a test keeps them honest.
//
// Labels are closed sets (kinds, reasons, currencies, partitions), never
// wallet or payment IDs, so the series count stays bounded whatever the
// run's size. Payment series are created at zero up front: a rate() over a
// kind that has not happened yet is 0, not "no data".
package metrics

import (
	"fmt"
	"github.com/walletsim/walletsim/sim/audit"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/walletsim/walletsim/sim"
	"github.com/walletsim/walletsim/sim/engine"
	"github.com/walletsim/walletsim/sim/event"
	"github.com/walletsim/walletsim/sim/run"
)

// Namespace prefixes every walletsim metric.
const Namespace = "walletsim"

// Roles name the process kinds in walletsim_info{role}.
const (
	RoleRun    = "run"
	RoleWorker = "worker"
	RoleServe  = "serve"
	RoleAttack = "attack"
)

// Options label a process's metrics.
type Options struct {
	// Role is RoleRun, RoleWorker, RoleServe or RoleAttack.
	Role string
	// Policy is the interoperability policy name: the policy label of the
	// payment and fee series, so runs under different policies scraped by
	// one Prometheus stay apart.
	Policy string
	// Version is shown in walletsim_info (optional).
	Version string
}

// Metrics is one process's set of walletsim metrics. Its methods are safe
// for concurrent use; Observe is on the engine's hot path and does no
// label lookups (every child series is resolved in New).
type Metrics struct {
	names []string

	payments  [sim.NumKinds][sim.NumReasons]prometheus.Counter // reason 0: succeeded
	fallbacks [sim.NumKinds][sim.NumReasons]prometheus.Counter
	events    [event.NumTypes]prometheus.Counter
	latency   [sim.NumKinds]prometheus.Observer
	routeLat  [sim.NumKinds]prometheus.Observer
	co2       [sim.NumKinds]prometheus.Counter
	fx        [sim.NumKinds]prometheus.Counter

	sagaSteps  [3]prometheus.Counter // debited, credited, compensated
	inFlight   prometheus.Gauge
	imbalance  [sim.NumCurrencies]prometheus.Gauge
	unbalanced prometheus.Counter
	conserved  prometheus.Gauge
	moneyIn    [sim.NumCurrencies]prometheus.Counter
	moneyOut   [sim.NumCurrencies]prometheus.Counter
	suspense   [sim.NumCurrencies]prometheus.Gauge
	fees       [sim.NumRoles][sim.NumCurrencies]prometheus.Counter // received, by role
	feesPaid   [sim.NumRoles][sim.NumCurrencies]prometheus.Counter // paid, by role
	rides      [sim.NumOperators][2]prometheus.Counter             // succeeded, declined
	fares      [sim.NumOperators][sim.NumCurrencies]prometheus.Counter

	violations *prometheus.GaugeVec
	owned      prometheus.Gauge
	rebalances prometheus.Counter
	httpReqs   *prometheus.CounterVec
	httpLat    prometheus.Histogram

	eng *engineCollector

	mu          sync.Mutex
	unbalancedN int64
}

// NewRegistry returns a registry with the Go runtime and process
// collectors, for commands that serve nothing else.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// latencyBuckets span 1 ms to about 100 s: the pipeline's end-to-end
// latency is tens to hundreds of milliseconds on one machine and grows to
// seconds under overload or a rebalance.
var latencyBuckets = prometheus.ExponentialBucketsRange(0.001, 100, 26)

// routeBuckets span 1 ms to 30 s of simulated route latency.
var routeBuckets = prometheus.ExponentialBucketsRange(0.001, 30, 20)

func (o *Options) setDefaults() {
	if o.Role == "" {
		o.Role = RoleRun
	}
}

// Validate reports a role walletsim_info cannot carry.
func (o *Options) Validate() error {
	switch o.Role {
	case RoleRun, RoleWorker, RoleServe, RoleAttack:
		return nil
	}
	return fmt.Errorf("metrics: role %q: want %s, %s, %s or %s", o.Role, RoleRun, RoleWorker, RoleServe, RoleAttack)
}

// New registers walletsim's metrics on reg. Registering twice on one
// registry is an error (one Metrics per registry), as are invalid options.
func New(reg prometheus.Registerer, o Options) (*Metrics, error) {
	o.setDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	m := &Metrics{}
	var regErr error
	register := func(c prometheus.Collector) {
		if err := reg.Register(c); err != nil && regErr == nil {
			regErr = fmt.Errorf("metrics: %w", err)
		}
	}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
		register(v)
		m.names = append(m.names, Namespace+"_"+name)
		return v
	}
	gaugeVec := func(name, help string, labels ...string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, labels)
		register(v)
		m.names = append(m.names, Namespace+"_"+name)
		return v
	}
	histVec := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
		register(v)
		m.names = append(m.names, Namespace+"_"+name)
		return v
	}

	info := gaugeVec("info", "Always 1: the process's role, policy and version.", "role", "policy", "version")
	info.WithLabelValues(o.Role, o.Policy, o.Version).Set(1)

	pay := counterVec("payments_total", "Payment outcomes by kind, policy, outcome (succeeded or declined) and decline reason (none when succeeded).", "kind", "policy", "outcome", "reason")
	fb := counterVec("payment_fallbacks_total", "Wallet attempts declined before the consumer's next wallet tried the payment (multi-homing fallback), by kind, policy and reason.", "kind", "policy", "reason")
	lat := histVec("payment_latency_seconds", "End-to-end latency of payments processed in this process, command written to outcome appended, by kind.", latencyBuckets, "kind")
	rl := histVec("route_latency_seconds", "Simulated route latency of settled payments and transfer debits, by kind.", routeBuckets, "kind")
	co2 := counterVec("green_energy_points_total", "Ant Forest green-energy points (its method, not certified CO2) credited to settled payments, by kind.", "kind", "policy")
	fx := counterVec("fx_conversions_total", "Payments and transfers settled through an FX conversion, by kind.", "kind", "policy")
	for _, k := range sim.PaymentKinds() {
		ks := k.String()
		m.payments[k][0] = pay.With(prometheus.Labels{"kind": ks, "policy": o.Policy, "outcome": "succeeded", "reason": "none"})
		for _, r := range sim.Reasons() {
			m.payments[k][r] = pay.With(prometheus.Labels{"kind": ks, "policy": o.Policy, "outcome": "declined", "reason": r.String()})
			m.fallbacks[k][r] = fb.With(prometheus.Labels{"kind": ks, "policy": o.Policy, "reason": r.String()})
		}
		m.latency[k] = lat.WithLabelValues(ks)
		m.routeLat[k] = rl.WithLabelValues(ks)
		m.co2[k] = co2.WithLabelValues(ks, o.Policy)
		m.fx[k] = fx.WithLabelValues(ks, o.Policy)
	}
	ev := counterVec("events_total", "Events appended to the log by this process, by type.", "type")
	for t := event.Type(1); t < event.NumTypes; t++ {
		m.events[t] = ev.WithLabelValues(t.String())
	}
	steps := counterVec("saga_steps_total", "Cross-partition transfer saga steps: debited (funds held in suspense), credited, compensated.", "step")
	for i, s := range []string{"debited", "credited", "compensated"} {
		m.sagaSteps[i] = steps.WithLabelValues(s)
	}
	m.inFlight = gaugeVec("sagas_in_flight", "Transfers debited but not yet credited or compensated, as seen by this process's processors; sum over processes for the cluster (a worker may hold the credit side of another's debit, so one process's value can be negative).").WithLabelValues()
	imb := gaugeVec("money_imbalance_minor", "Sum of every posting of every event seen, minor units, by currency: 0 while money is conserved (each event is double-entry).", "currency")
	m.unbalanced = counterVec("unbalanced_events_total", "Events whose postings do not sum to zero per currency.").WithLabelValues()
	m.conserved = gaugeVec("money_conserved", "1 while money is conserved: no unbalanced event seen and, after a run's audit, the audit's verdict; 0 otherwise.").WithLabelValues()
	m.conserved.Set(1)
	in := counterVec("money_in_minor_total", "Money that entered from the holders' banks and cards (opening balances, top-ups, card-funded payments), minor units, by currency.", "currency")
	out := counterVec("money_out_minor_total", "Money that went back to the holders' banks and cards (withdrawals, refunds of card-funded transfers), minor units, by currency.", "currency")
	susp := gaugeVec("suspense_minor", "Money held in suspense by transfers in flight, minor units, by currency (sum over processes for the cluster).", "currency")
	for c := sim.Currency(1); c < sim.NumCurrencies; c++ {
		m.imbalance[c] = imb.WithLabelValues(c.String())
		m.moneyIn[c] = in.WithLabelValues(c.String())
		m.moneyOut[c] = out.WithLabelValues(c.String())
		m.suspense[c] = susp.WithLabelValues(c.String())
	}
	fees := counterVec("fees_minor_total", "Fees received by institutions, minor units, by policy, party (the role: acquirer, issuer, wallet, network, clearing) and currency; less fees_paid_minor_total it is summary.json fees.", "policy", "party", "currency")
	paid := counterVec("fees_paid_minor_total", "Fees paid by institutions to others, minor units, by policy, party (role) and currency.", "policy", "party", "currency")
	for _, role := range sim.Roles() {
		for c := sim.Currency(1); c < sim.NumCurrencies; c++ {
			l := prometheus.Labels{"policy": o.Policy, "party": role.String(), "currency": c.String()}
			m.fees[role][c] = fees.With(l)
			m.feesPaid[role][c] = paid.With(l)
		}
	}
	rides := counterVec("transit_rides_total", "Transit fares paid or declined, by operator and outcome.", "operator", "outcome")
	fares := counterVec("transit_fares_minor_total", "Transit fares collected, minor units, by operator and currency.", "operator", "currency")
	for op := sim.Operator(1); op < sim.NumOperators; op++ {
		m.rides[op][0] = rides.WithLabelValues(op.String(), "succeeded")
		m.rides[op][1] = rides.WithLabelValues(op.String(), "declined")
		for c := sim.Currency(1); c < sim.NumCurrencies; c++ {
			m.fares[op][c] = fares.WithLabelValues(op.String(), c.String())
		}
	}
	m.violations = gaugeVec("invariant_violations", "Violations of each invariant found by the run's audit of the log (0 until and unless the audit finds some).", "invariant")
	for _, n := range invariantNames {
		m.violations.WithLabelValues(n).Set(0)
	}
	m.owned = gaugeVec("partitions_owned", "Partitions whose processors run in this process (all for run, the assignment for a worker, 0 for a producer-only run).").WithLabelValues()
	m.rebalances = counterVec("rebalances_total", "Consumer-group generations this worker has joined (each one reassigns partitions).").WithLabelValues()
	m.httpReqs = counterVec("http_requests_total", "HTTP payment requests by status code (serve: answered; attack: received by the load generator; code 0 is a transport error).", "code")
	m.httpLat = histVec("http_request_duration_seconds", "HTTP payment request latency (serve: in the server; attack: at the client).", latencyBuckets).WithLabelValues().(prometheus.Histogram)

	m.eng = newEngineCollector()
	register(m.eng)
	m.names = append(m.names, m.eng.names()...)
	sort.Strings(m.names)
	if regErr != nil {
		return nil, regErr
	}
	return m, nil
}

// invariantNames are the audit's invariant counters (run.Invariants).
var invariantNames = func() (n []string) {
	for _, c := range (audit.Invariants{}).Counts() {
		n = append(n, c.Name)
	}
	return n
}()

// Names lists the metric names this package exports (histograms by their
// base name; Prometheus adds _bucket, _sum and _count).
func (m *Metrics) Names() []string { return append([]string(nil), m.names...) }

// Observe counts one event appended to the log. It is meant for
// engine.Config.OnEvent / run.Options.OnEvent.
func (m *Metrics) Observe(ev *event.Event) {
	if ev.Type < event.NumTypes && m.events[ev.Type] != nil {
		m.events[ev.Type].Inc()
	}
	k := ev.Kind
	kindOK := k.IsPayment()
	switch ev.Type {
	case event.PaymentSettled, event.ToppedUp, event.TransferCredited, event.Withdrawn:
		if kindOK {
			m.payments[k][0].Inc()
			if ev.FXRate != 0 {
				m.fx[k].Inc()
			}
			if ev.GreenGrams != 0 {
				m.co2[k].Add(float64(ev.GreenGrams))
			}
		}
	case event.PaymentDeclined, event.TransferCompensated:
		if kindOK && ev.Reason.Valid() {
			m.payments[k][ev.Reason].Inc()
		}
	case event.AttemptDeclined:
		if kindOK && ev.Reason.Valid() {
			m.fallbacks[k][ev.Reason].Inc()
		}
	}
	switch ev.Type {
	case event.TransferDebited:
		m.sagaSteps[0].Inc()
		m.inFlight.Inc()
	case event.TransferCredited:
		m.sagaSteps[1].Inc()
		m.inFlight.Dec()
	case event.TransferCompensated:
		m.sagaSteps[2].Inc()
		m.inFlight.Dec()
	}
	if (ev.Type == event.PaymentSettled || ev.Type == event.TransferDebited) && kindOK && ev.LatencyUS > 0 {
		m.routeLat[k].Observe(float64(ev.LatencyUS) / 1e6)
	}
	if k == sim.Transit && ev.Type.IsOutcome() {
		if op := sim.Operator(ev.Counterparty); op.Valid() {
			if ev.Type.Succeeded() {
				m.rides[op][0].Inc()
				if ev.Currency.Valid() {
					m.fares[op][ev.Currency].Add(float64(ev.Amount))
				}
			} else {
				m.rides[op][1].Inc()
			}
		}
	}
	var sum [sim.NumCurrencies]int64
	for _, p := range ev.Legs() {
		c := p.Currency
		if !c.Valid() {
			m.unbalancedEvent()
			return
		}
		sum[c] += p.Amount
		switch p.Account.Type() {
		case event.AccExternal:
			// Counters only rise: money back out to banks (withdrawals,
			// refunds to cards) has its own.
			if p.Amount <= 0 {
				m.moneyIn[c].Add(float64(-p.Amount))
			} else {
				m.moneyOut[c].Add(float64(p.Amount))
			}
		case event.AccSuspense:
			m.suspense[c].Add(float64(p.Amount))
		case event.AccParty:
			if _, role := p.Account.Party(); role.Valid() {
				if p.Amount >= 0 {
					m.fees[role][c].Add(float64(p.Amount))
				} else {
					m.feesPaid[role][c].Add(float64(-p.Amount))
				}
			}
		}
	}
	bad := false
	for c := sim.Currency(1); c < sim.NumCurrencies; c++ {
		if sum[c] != 0 {
			m.imbalance[c].Add(float64(sum[c]))
			bad = true
		}
	}
	if bad {
		m.unbalancedEvent()
	}
}

func (m *Metrics) unbalancedEvent() {
	m.unbalanced.Inc()
	m.mu.Lock()
	m.unbalancedN++
	m.mu.Unlock()
	m.conserved.Set(0)
}

// ObserveEngine exports an engine's counters (payments produced and
// resolved, dead letters, write retries), its per-partition epoch progress
// and consumer lag, and records its processors' end-to-end latencies. Call
// it before the engine's Process (run.Options.OnEngine does). A worker
// that builds a new engine per consumer-group generation calls it again
// with each: counters carry on from the previous engine's totals.
func (m *Metrics) ObserveEngine(e *engine.Engine) {
	if e != nil {
		e.OnLatency(func(k sim.Kind, us int64) {
			if k < sim.NumKinds && m.latency[k] != nil {
				m.latency[k].Observe(float64(us) / 1e6)
			}
		})
	}
	m.eng.set(e)
}

// SetPartitionsOwned records how many partitions this process processes.
func (m *Metrics) SetPartitionsOwned(n int) { m.owned.Set(float64(n)) }

// Rebalanced counts one consumer-group generation (worker).
func (m *Metrics) Rebalanced() { m.rebalances.Inc() }

// ObserveSummary records a finished run's audit: money_conserved becomes
// the audit's verdict (and stays 0 if an unbalanced event was seen live),
// invariant_violations the audit's counts. The engine is detached: its
// final counters stay exported, and the lag is no longer polled (the
// embedded broker is gone once a run returns).
func (m *Metrics) ObserveSummary(s *run.Summary) {
	inv := s.Invariants
	for _, c := range inv.Counts() {
		m.violations.WithLabelValues(c.Name).Set(float64(c.Value))
	}
	m.mu.Lock()
	live := m.unbalancedN == 0
	m.mu.Unlock()
	if inv.MoneyConserved && live {
		m.conserved.Set(1)
	} else {
		m.conserved.Set(0)
	}
	m.eng.finish(s.Engine.Epochs - 1)
}

// ObserveHTTP counts one HTTP payment request: serve calls it per answered
// request, attack per result (code 0: transport error).
func (m *Metrics) ObserveHTTP(code int, d time.Duration) {
	m.httpReqs.WithLabelValues(strconv.Itoa(code)).Inc()
	m.httpLat.Observe(d.Seconds())
}
