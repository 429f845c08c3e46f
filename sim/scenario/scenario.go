// Package scenario is a scenario as data: the population, merchants,
// transit operators, payment mix and amounts a run generates from its seed.
// It holds no loader (the YAML edge is package config) and validates every
// field, naming the key, so a bad file is fixed without guessing.
package scenario

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/walletsim/walletsim/sim"
)

// Dist is a lognormal amount distribution in major units (yuan, dollars).
type Dist struct {
	Median float64 `mapstructure:"median" json:"median"`
	Sigma  float64 `mapstructure:"sigma" json:"sigma"`
	Min    float64 `mapstructure:"min" json:"min,omitempty"`
	Max    float64 `mapstructure:"max" json:"max,omitempty"`
}

// Scenario is one scenario file.
type Scenario struct {
	Name        string `mapstructure:"name" json:"name"`
	Description string `mapstructure:"description" json:"description,omitempty"`
	Seed        int64  `mapstructure:"seed" json:"seed"`
	// Payments to generate; or Duration of simulated time at Rate.
	Payments int64  `mapstructure:"payments" json:"payments,omitempty"`
	Duration string `mapstructure:"duration" json:"duration,omitempty"`
	// Start of simulated time (RFC 3339).
	Start string `mapstructure:"start" json:"start"`
	// Rate is the mean payments per simulated second.
	Rate float64 `mapstructure:"rate" json:"rate"`
	// Epoch is the simulated-time slice the engine processes at once.
	Epoch      string `mapstructure:"epoch" json:"epoch"`
	Policy     string `mapstructure:"policy" json:"policy"`
	Partitions int    `mapstructure:"partitions" json:"partitions"`

	Population Population         `mapstructure:"population" json:"population"`
	Merchants  Merchants          `mapstructure:"merchants" json:"merchants"`
	Transit    Transit            `mapstructure:"transit" json:"transit"`
	Mix        map[string]float64 `mapstructure:"mix" json:"mix"`
	Amounts    map[string]Dist    `mapstructure:"amounts" json:"amounts"`
	// PayerRegions weighs where payers come from (all kinds but transit).
	PayerRegions map[string]float64 `mapstructure:"payer_regions" json:"payer_regions"`
	// CrossBorder is, per payer region, the share of scan payments made at
	// a merchant of another region: CrossBorderTo's (by default CN pays in
	// HK; HK, MO and INTL visitors pay on the mainland).
	CrossBorder   map[string]float64 `mapstructure:"cross_border" json:"cross_border,omitempty"`
	CrossBorderTo map[string]string  `mapstructure:"cross_border_to" json:"cross_border_to,omitempty"`
	// CrossBorderAmounts is, per payer region, the amount distribution of
	// its cross-border scan payments (cal:crossborder.hk-in-shenzhen-2023: Hong Kong
	// residents spend more per payment in Shenzhen than at home); a region
	// without one uses the kind's amounts.
	CrossBorderAmounts map[string]Dist `mapstructure:"cross_border_amounts" json:"cross_border_amounts,omitempty"`
	// EReceipts is the share of scan payments whose merchant issues an
	// electronic receipt (Ant Forest e-invoice: 5 g green energy).
	EReceipts float64 `mapstructure:"e_receipts" json:"e_receipts,omitempty"`
	// Profile multiplies Rate over windows of simulated time; outside every
	// phase the multiplier is 1.
	Profile []Phase `mapstructure:"profile" json:"profile,omitempty"`
	// Faults injects broker faults into the embedded broker (package
	// faults); the run must still finish with its invariants intact.
	Faults Faults `mapstructure:"faults" json:"faults,omitempty"`
	// Attack shapes `walletsim attack` runs of this scenario (attack.go).
	Attack Attack `mapstructure:"attack" json:"attack,omitempty"`
	// Fallback is what a consumer does when their wallet cannot pay.
	Fallback Fallback `mapstructure:"fallback" json:"fallback,omitempty"`
	// Compare lists the policies `walletsim compare SCENARIO` runs when no
	// --policy is given, in the order of their columns (date order for
	// interop-eras).
	Compare []string `mapstructure:"compare" json:"compare,omitempty"`
	// Departs lists the source rows this scenario deliberately does not
	// follow, each with its reason: the calibration report shows those
	// rows as "departs" instead of checking them.
	Departs []Departure `mapstructure:"departs" json:"departs,omitempty"`
	// Funding is where wallet payments' money comes from (funding.go).
	Funding Funding `mapstructure:"funding" json:"funding,omitempty"`
	// LowCarbon is WeChat Pay's low-carbon programme (lowcarbon.go).
	LowCarbon LowCarbon `mapstructure:"low_carbon" json:"low_carbon,omitempty"`
}

// Departure is a source row a scenario does not follow, cited as
// cal:<id> (scenarios/calibration/sources.yaml), and why.
type Departure struct {
	Row    string `mapstructure:"row" json:"row"`
	Reason string `mapstructure:"reason" json:"reason"`
}

// DepartsFrom reports whether s departs from source row id (without "cal:")
// and why.
func (s *Scenario) DepartsFrom(id string) (string, bool) {
	for _, d := range s.Departs {
		if d.Row == "cal:"+id {
			return d.Reason, true
		}
	}
	return "", false
}

// Fallback is what a consumer does when their wallet cannot pay.
type Fallback struct {
	// GiveUp is the chance that a consumer stops at each further wallet
	// instead of scanning again [A] (cal:assume.fallback-giveup).
	GiveUp float64 `mapstructure:"give_up" json:"give_up,omitempty"`
}

// Faults are broker-side faults for the embedded broker.
type Faults struct {
	ProduceErrorRate float64 `mapstructure:"produce_error_rate" json:"produce_error_rate,omitempty"`
	FetchErrorRate   float64 `mapstructure:"fetch_error_rate" json:"fetch_error_rate,omitempty"`
	CommitErrorRate  float64 `mapstructure:"commit_error_rate" json:"commit_error_rate,omitempty"`
	// Latency added to every request, e.g. "2ms".
	Latency string `mapstructure:"latency" json:"latency,omitempty"`
	// RestartAfter restarts the broker once after this much wall time.
	RestartAfter string `mapstructure:"restart_after" json:"restart_after,omitempty"`
	// Seed of the fault dice (default: the scenario seed).
	Seed int64 `mapstructure:"seed" json:"seed,omitempty"`
	// Network faults (package netfault), against the embedded broker or
	// --brokers alike: a TCP proxy between the engine and the broker
	// resets every open connection Resets times and drops LostResponses
	// produce responses after the broker appended, at seeded moments over
	// NetworkOver (default "10s"), and with ResetEvery resets them at that
	// interval for the whole run (e.g. "300ms").
	Resets        int    `mapstructure:"resets" json:"resets,omitempty"`
	LostResponses int    `mapstructure:"lost_responses" json:"lost_responses,omitempty"`
	NetworkOver   string `mapstructure:"network_over" json:"network_over,omitempty"`
	ResetEvery    string `mapstructure:"reset_every" json:"reset_every,omitempty"`
}

// Phase multiplies the rate over a window of simulated time (rush hour, the
// 11.11 midnight spike).
type Phase struct {
	From       string  `mapstructure:"from" json:"from"` // offset from start, e.g. "30m"
	To         string  `mapstructure:"to" json:"to"`
	Multiplier float64 `mapstructure:"multiplier" json:"multiplier"`
}

// Population is who holds which wallets.
type Population struct {
	// Consumers per region.
	Consumers map[string]int64 `mapstructure:"consumers" json:"consumers"`
	// Wallets per region and provider; each consumer holds at most one
	// wallet of a provider.
	Wallets map[string]map[string]int64 `mapstructure:"wallets" json:"wallets"`
	// Preference per region: the share of payments each provider's wallets
	// start (the value shares of cal:defaults.wallet-shares).
	Preference map[string]map[string]float64 `mapstructure:"preference" json:"preference"`
	// Classes per provider: KYC class shares.
	Classes map[string]map[string]float64 `mapstructure:"classes" json:"classes"`
	// InitialBalance in the wallet's home currency.
	InitialBalance Dist `mapstructure:"initial_balance" json:"initial_balance"`
	// Multihoming per region is the share of consumers holding both big
	// wallets, Alipay and Weixin (cal:market.multihoming: at least 47% in
	// 2017, at least 77% in 2023); 0 = holdings independent.
	Multihoming map[string]float64 `mapstructure:"multihoming" json:"multihoming,omitempty"`
	// PaymentsPerDay is how many payments one consumer makes a day. Set, it
	// makes the population a sample of a market that carries the
	// scenario's rate: each consumer's day lasts consumers x
	// payments_per_day / rate seconds of simulated time, and daily and
	// yearly limits count those days (so a run's decline mix does not
	// drift with its length). 0: limits count civil days.
	PaymentsPerDay float64 `mapstructure:"payments_per_day" json:"payments_per_day,omitempty"`
}

// Merchants is the merchant population.
type Merchants struct {
	Count map[string]int64 `mapstructure:"count" json:"count"`
	// Codes per region: shares of code sets shown, as "+"-joined schemes
	// ("weixin+alipay").
	Codes map[string]map[string]float64 `mapstructure:"codes" json:"codes"`
	// Scanners per region: shares of consumer-code networks their
	// scanners read.
	Scanners map[string]map[string]float64 `mapstructure:"scanners" json:"scanners"`
	// StaticShare is the share of merchants with static (printed) codes.
	StaticShare float64 `mapstructure:"static_share" json:"static_share"`
	// Eras are code mixes by date: the last era whose From is not after
	// the scenario's start replaces Codes and Scanners (regions it names),
	// so a 2017 scenario shows 2017's codes and a 2024 one aggregated ones.
	Eras []CodeEra `mapstructure:"eras" json:"eras,omitempty"`
	// Tiers per region: shares of merchants by discount-rate contract
	// (standard, sme, preferential); empty: every merchant standard.
	Tiers map[string]map[string]float64 `mapstructure:"tiers" json:"tiers,omitempty"`
}

// CodeEra is the merchant code mix from a date on.
type CodeEra struct {
	From     string                        `mapstructure:"from" json:"from"` // YYYY-MM-DD
	Codes    map[string]map[string]float64 `mapstructure:"codes" json:"codes,omitempty"`
	Scanners map[string]map[string]float64 `mapstructure:"scanners" json:"scanners,omitempty"`
	Note     string                        `mapstructure:"note" json:"note,omitempty"`
}

// Transit is the transit traffic.
type Transit struct {
	// Riders weighs operators (thousands of daily riders); empty = the
	// calibration defaults.
	Riders map[string]float64 `mapstructure:"riders" json:"riders,omitempty"`
	// PayerRegions weighs where riders' wallets come from.
	PayerRegions map[string]float64 `mapstructure:"payer_regions" json:"payer_regions"`
}

// Compiled is a validated scenario in the units the generator uses.
type Compiled struct {
	*Scenario
	StartMS   int64
	EpochMS   int64
	Payments  int64 // 0 when Duration decides
	EndMS     int64 // 0 when Payments decides
	Kinds     []sim.Kind
	KindShare []float64
	Phases    []CompiledPhase
	// Codes and Scanners are the merchant mixes in force at the start
	// (Merchants.Eras applied).
	Codes, Scanners map[string]map[string]float64
	// DayMS is the length of a consumer's day in simulated time (see
	// Population.PaymentsPerDay); 0 = civil days.
	DayMS int64
}

// CompiledPhase is a Phase in milliseconds from the start.
type CompiledPhase struct {
	FromMS, ToMS int64
	Multiplier   float64
}

// maxPerEpoch keeps payment IDs (epoch<<24 | index) unique.
const maxPerEpoch = 1 << 24

// Compile validates s and converts it. Every error names the key.
func Compile(s *Scenario) (*Compiled, error) {
	c := &Compiled{Scenario: s}
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, a...)))
	}
	if s.Name == "" {
		bad("name", "empty")
	}
	seen := map[string]bool{}
	for i, d := range s.Departs {
		key := fmt.Sprintf("departs[%d]", i)
		switch {
		case !strings.HasPrefix(d.Row, "cal:") || len(d.Row) < 5:
			bad(key+".row", "%q: want a source row cited as cal:<id>", d.Row)
		case seen[d.Row]:
			bad(key+".row", "%s listed twice", d.Row)
		}
		seen[d.Row] = true
		if strings.TrimSpace(d.Reason) == "" {
			bad(key+".reason", "empty: say why the scenario departs from %s", d.Row)
		}
	}
	if s.Payments < 0 {
		bad("payments", "negative payment count %d", s.Payments)
	}
	if s.Payments == 0 && s.Duration == "" {
		bad("payments", "set payments or duration")
	}
	if s.Duration != "" {
		d, err := time.ParseDuration(s.Duration)
		if err != nil || d <= 0 {
			bad("duration", "%q is not a positive duration", s.Duration)
		}
		c.EndMS = d.Milliseconds()
	}
	start, err := time.Parse(time.RFC3339, s.Start)
	if err != nil {
		bad("start", "%q is not an RFC 3339 time", s.Start)
	}
	c.StartMS = start.UnixMilli()
	if c.EndMS > 0 {
		c.EndMS += c.StartMS
	}
	c.Payments = s.Payments
	if !(s.Rate > 0) || math.IsInf(s.Rate, 0) {
		bad("rate", "must be positive, got %v", s.Rate)
	}
	ep, err := time.ParseDuration(s.Epoch)
	if err != nil || ep < time.Millisecond {
		bad("epoch", "%q is not a duration of at least 1ms", s.Epoch)
	} else {
		c.EpochMS = ep.Milliseconds()
		if s.Rate*ep.Seconds()*maxMultiplier(s.Profile) >= maxPerEpoch {
			bad("epoch", "rate x epoch must stay under %d payments", maxPerEpoch)
		}
	}
	if s.Partitions < 0 || s.Partitions > 1024 {
		bad("partitions", "%d out of range 1-1024", s.Partitions)
	}
	for i, ph := range s.Profile {
		key := fmt.Sprintf("profile[%d]", i)
		from, err1 := time.ParseDuration(ph.From)
		to, err2 := time.ParseDuration(ph.To)
		if err1 != nil || err2 != nil || from < 0 || to <= from {
			bad(key, "from/to must be durations with from < to")
		}
		if !(ph.Multiplier >= 0) || ph.Multiplier > 1000 {
			bad(key+".multiplier", "%v out of range 0-1000", ph.Multiplier)
		}
		c.Phases = append(c.Phases, CompiledPhase{FromMS: from.Milliseconds(), ToMS: to.Milliseconds(), Multiplier: ph.Multiplier})
	}
	// Mix.
	kinds := sortedKeys(s.Mix)
	sum := 0.0
	for _, k := range kinds {
		kind, err := sim.ParseKind(k)
		if err != nil || !kind.IsPayment() {
			bad("mix."+k, "not a payment kind (want one of scan_mpm, scan_cpm, p2p, cross_transfer, red_packet, transit, topup)")
			continue
		}
		if v := s.Mix[k]; !(v >= 0) {
			bad("mix."+k, "share %v must be >= 0", v)
			continue
		}
		c.Kinds = append(c.Kinds, kind)
		c.KindShare = append(c.KindShare, s.Mix[k])
		sum += s.Mix[k]
		if _, ok := s.Amounts[k]; !ok && kind != sim.Transit && s.Mix[k] > 0 {
			bad("amounts."+k, "missing: every kind in the mix needs an amount distribution")
		}
	}
	if len(s.Mix) == 0 || !(sum > 0) {
		bad("mix", "needs at least one kind with a positive share")
	}
	for _, k := range sortedKeys(s.Amounts) {
		if kind, err := sim.ParseKind(k); err != nil || !kind.IsPayment() {
			bad("amounts."+k, "not a payment kind")
			continue
		}
		checkDist(bad, "amounts."+k, s.Amounts[k])
	}
	checkDist(bad, "population.initial_balance", s.Population.InitialBalance)
	checkRegionWeights(bad, "payer_regions", s.PayerRegions, true)
	checkRegionWeights(bad, "transit.payer_regions", s.Transit.PayerRegions, false)
	for _, r := range sortedKeys(s.CrossBorder) {
		if _, err := sim.ParseRegion(r); err != nil {
			bad("cross_border."+r, "%v", err)
		}
		if v := s.CrossBorder[r]; !(v >= 0 && v <= 1) {
			bad("cross_border."+r, "share %v must be within 0-1", v)
		}
	}
	for _, r := range sortedKeys(s.CrossBorderTo) {
		from, err1 := sim.ParseRegion(r)
		to, err2 := sim.ParseRegion(s.CrossBorderTo[r])
		if err1 != nil || err2 != nil || from == to {
			bad("cross_border_to."+r, "want two different regions (CN, HK, MO), got %s -> %q", r, s.CrossBorderTo[r])
		}
	}
	if !(s.Fallback.GiveUp >= 0 && s.Fallback.GiveUp <= 1) {
		bad("fallback.give_up", "share %v must be within 0-1", s.Fallback.GiveUp)
	}
	if !(s.EReceipts >= 0 && s.EReceipts <= 1) {
		bad("e_receipts", "share %v must be within 0-1", s.EReceipts)
	}
	for _, r := range sortedKeys(s.CrossBorderAmounts) {
		if _, err := sim.ParseRegion(r); err != nil {
			bad("cross_border_amounts."+r, "%v", err)
			continue
		}
		checkDist(bad, "cross_border_amounts."+r, s.CrossBorderAmounts[r])
	}
	// Population.
	p := &s.Population
	if len(p.Consumers) == 0 {
		bad("population.consumers", "empty")
	}
	for _, r := range sortedKeys(p.Consumers) {
		if _, err := sim.ParseRegion(r); err != nil {
			bad("population.consumers."+r, "%v", err)
		}
		if n := p.Consumers[r]; n < 0 || n > 100_000_000 {
			bad("population.consumers."+r, "%d out of range", n)
		}
	}
	total := int64(0)
	for _, r := range sortedKeys(p.Wallets) {
		if _, err := sim.ParseRegion(r); err != nil {
			bad("population.wallets."+r, "%v", err)
			continue
		}
		for _, pr := range sortedKeys(p.Wallets[r]) {
			key := "population.wallets." + r + "." + pr
			if _, err := sim.ParseProvider(pr); err != nil {
				bad(key, "%v", err)
			}
			n := p.Wallets[r][pr]
			if n < 0 {
				bad(key, "negative wallet count %d", n)
			}
			if n > p.Consumers[r] {
				bad(key, "%d wallets but only %d consumers in %s (a consumer holds at most one wallet per provider)", n, p.Consumers[r], r)
			}
			total += n
		}
	}
	if total == 0 {
		bad("population.wallets", "no wallets")
	}
	for _, r := range sortedKeys(p.Preference) {
		if _, err := sim.ParseRegion(r); err != nil {
			bad("population.preference."+r, "%v", err)
			continue
		}
		for _, pr := range sortedKeys(p.Preference[r]) {
			if _, err := sim.ParseProvider(pr); err != nil {
				bad("population.preference."+r+"."+pr, "%v", err)
			}
			if v := p.Preference[r][pr]; !(v >= 0) {
				bad("population.preference."+r+"."+pr, "share %v must be >= 0", v)
			}
		}
	}
	for _, pr := range sortedKeys(p.Classes) {
		if _, err := sim.ParseProvider(pr); err != nil {
			bad("population.classes."+pr, "%v", err)
			continue
		}
		for _, cl := range sortedKeys(p.Classes[pr]) {
			if _, err := sim.ParseClass(cl); err != nil {
				bad("population.classes."+pr+"."+cl, "%v", err)
			}
			if v := p.Classes[pr][cl]; !(v >= 0) {
				bad("population.classes."+pr+"."+cl, "share %v must be >= 0", v)
			}
		}
	}
	for _, r := range sortedKeys(p.Multihoming) {
		key := "population.multihoming." + r
		reg, err := sim.ParseRegion(r)
		if err != nil {
			bad(key, "%v", err)
			continue
		}
		v := p.Multihoming[r]
		if !(v >= 0 && v <= 1) {
			bad(key, "share %v must be within 0-1", v)
			continue
		}
		var nc, na, nw int64
		for k, n := range p.Consumers {
			if rr, _ := sim.ParseRegion(k); rr == reg {
				nc = n
			}
		}
		for k, ws := range p.Wallets {
			if rr, _ := sim.ParseRegion(k); rr == reg {
				na, nw = ws["alipay"], ws["weixin"]
			}
		}
		// Scaled scenarios round counts: allow 1% of the consumers of
		// slack (the generator clamps into the feasible range).
		nb, slack := int64(math.Round(v*float64(nc))), nc/100+1
		if nb > min(na, nw)+slack || na+nw-nb > nc+slack {
			bad(key, "%v of %d consumers (%d) cannot hold both with %d alipay and %d weixin wallets: need both <= min(alipay, weixin) and alipay + weixin - both <= consumers", v, nc, nb, na, nw)
		}
	}
	// Merchants.
	m := &s.Merchants
	c.Codes, c.Scanners = applyCodeEras(m, start, bad)
	for _, r := range sortedKeys(m.Count) {
		if _, err := sim.ParseRegion(r); err != nil {
			bad("merchants.count."+r, "%v", err)
		}
		if n := m.Count[r]; n < 0 || n > 100_000_000 {
			bad("merchants.count."+r, "%d out of range", n)
		}
	}
	checkCodeSets(bad, "merchants.codes", m.Codes)
	checkCodeSets(bad, "merchants.scanners", m.Scanners)
	if !(m.StaticShare >= 0 && m.StaticShare <= 1) {
		bad("merchants.static_share", "%v must be within 0-1", m.StaticShare)
	}
	for _, o := range sortedKeys(s.Transit.Riders) {
		if _, err := sim.ParseOperator(o); err != nil {
			bad("transit.riders."+o, "%v", err)
		}
		if v := s.Transit.Riders[o]; !(v >= 0) {
			bad("transit.riders."+o, "weight %v must be >= 0", v)
		}
	}
	if v := p.PaymentsPerDay; !(v >= 0) || v > 10_000 {
		bad("population.payments_per_day", "%v out of range 0-10000", v)
	} else if v > 0 && s.Rate > 0 {
		var consumers int64
		for _, n := range p.Consumers {
			consumers += max(n, 0)
		}
		if d := float64(consumers) * v / s.Rate * 1000; d >= 1 && d < 86_400_000 {
			c.DayMS = int64(d)
		}
	}
	for _, r := range sortedKeys(m.Tiers) {
		if _, err := sim.ParseRegion(r); err != nil {
			bad("merchants.tiers."+r, "%v", err)
			continue
		}
		for _, t := range sortedKeys(m.Tiers[r]) {
			if _, err := sim.ParseTier(t); err != nil {
				bad("merchants.tiers."+r+"."+t, "%v", err)
			}
			if v := m.Tiers[r][t]; !(v >= 0) {
				bad("merchants.tiers."+r+"."+t, "share %v must be >= 0", v)
			}
		}
	}
	s.Funding.check(bad)
	s.LowCarbon.check(bad)
	f := &s.Faults
	for key, v := range map[string]float64{"faults.produce_error_rate": f.ProduceErrorRate, "faults.fetch_error_rate": f.FetchErrorRate, "faults.commit_error_rate": f.CommitErrorRate} {
		if !(v >= 0 && v < 1) {
			bad(key, "%v must be within 0 and 1 (exclusive)", v)
		}
	}
	if f.Resets < 0 || f.Resets > 1_000_000 {
		bad("faults.resets", "%d: want 0-1000000", f.Resets)
	}
	if f.LostResponses < 0 || f.LostResponses > 1_000_000 {
		bad("faults.lost_responses", "%d: want 0-1000000", f.LostResponses)
	}
	for key, v := range map[string]string{"faults.latency": f.Latency, "faults.restart_after": f.RestartAfter, "faults.network_over": f.NetworkOver, "faults.reset_every": f.ResetEvery} {
		if v == "" {
			continue
		}
		if d, err := time.ParseDuration(v); err != nil || d < 0 {
			bad(key, "%q is not a duration", v)
		}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// CrossTo is where each payer region's cross-border scans go: the
// scenario's cross_border_to over the defaults (mainland consumers cross
// to Hong Kong; Hong Kong and Macau residents and inbound visitors pay on
// the mainland, cal:crossborder.saturday-2024).
func (c *Compiled) CrossTo() [sim.NumRegions]sim.Region {
	to := [sim.NumRegions]sim.Region{sim.CN: sim.HK, sim.HK: sim.CN, sim.MO: sim.CN, sim.INTL: sim.CN}
	for k, v := range c.CrossBorderTo {
		from, _ := sim.ParseRegion(k)
		dst, _ := sim.ParseRegion(v)
		if from.Valid() && dst.Valid() {
			to[from] = dst
		}
	}
	return to
}

// applyCodeEras is the merchants' code and scanner mixes in force at
// start: the scenario's, region by region replaced by the latest era that
// has begun. Eras must be in date order. The scenario is not changed.
func applyCodeEras(m *Merchants, start time.Time, bad func(string, string, ...any)) (codes, scanners map[string]map[string]float64) {
	codes, scanners = map[string]map[string]float64{}, map[string]map[string]float64{}
	for r, mix := range m.Codes {
		codes[r] = mix
	}
	for r, mix := range m.Scanners {
		scanners[r] = mix
	}
	last := ""
	for i, e := range m.Eras {
		key := fmt.Sprintf("merchants.eras[%d]", i)
		d, err := time.Parse("2006-01-02", e.From)
		if err != nil {
			bad(key+".from", "%q is not a date (YYYY-MM-DD)", e.From)
			continue
		}
		if e.From <= last {
			bad(key+".from", "%s is not after the era before it (%s): list eras in date order", e.From, last)
		}
		last = e.From
		checkCodeSets(bad, key+".codes", e.Codes)
		checkCodeSets(bad, key+".scanners", e.Scanners)
		if d.After(start) {
			continue
		}
		for r, mix := range e.Codes {
			codes[r] = mix
		}
		for r, mix := range e.Scanners {
			scanners[r] = mix
		}
	}
	return codes, scanners
}

func maxMultiplier(ps []Phase) float64 {
	m := 1.0
	for _, p := range ps {
		m = max(m, p.Multiplier)
	}
	return m
}

func checkDist(bad func(string, string, ...any), key string, d Dist) {
	if !(d.Median > 0) || math.IsInf(d.Median, 0) {
		bad(key+".median", "must be positive, got %v", d.Median)
	}
	if !(d.Sigma >= 0) || d.Sigma > 5 {
		bad(key+".sigma", "%v out of range 0-5", d.Sigma)
	}
	if d.Min < 0 || d.Max < 0 || (d.Max > 0 && d.Max < d.Min) {
		bad(key, "min %v / max %v invalid", d.Min, d.Max)
	}
	if d.Max > 1e9 {
		bad(key+".max", "%v too large", d.Max)
	}
}

func checkRegionWeights(bad func(string, string, ...any), key string, w map[string]float64, required bool) {
	if required && len(w) == 0 {
		bad(key, "empty: weigh CN, HK, MO and/or INTL")
	}
	for _, r := range sortedKeys(w) {
		if _, err := sim.ParseRegion(r); err != nil {
			bad(key+"."+r, "%v", err)
		}
		if v := w[r]; !(v >= 0) {
			bad(key+"."+r, "weight %v must be >= 0", v)
		}
	}
}

func checkCodeSets(bad func(string, string, ...any), key string, sets map[string]map[string]float64) {
	for _, r := range sortedKeys(sets) {
		if _, err := sim.ParseRegion(r); err != nil {
			bad(key+"."+r, "%v", err)
			continue
		}
		for _, set := range sortedKeys(sets[r]) {
			if _, err := ParseCodeSet(set); err != nil {
				bad(key+"."+r+"."+set, "%v", err)
			}
			if v := sets[r][set]; !(v >= 0) {
				bad(key+"."+r+"."+set, "share %v must be >= 0", v)
			}
		}
	}
}

// ParseCodeSet turns "weixin+alipay" into a bit set of providers.
func ParseCodeSet(s string) (uint16, error) {
	var mask uint16
	for _, name := range strings.Split(s, "+") {
		p, err := sim.ParseProvider(strings.TrimSpace(name))
		if err != nil {
			return 0, err
		}
		mask |= 1 << p
	}
	return mask, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SortedKeys returns m's keys in order: generation must never depend on
// map iteration order.
func SortedKeys[V any](m map[string]V) []string { return sortedKeys(m) }
