package perf

import (
	"fmt"
	"time"
)

// Severity ranks alerts.
type Severity int

const (
	SeverityInfo Severity = iota + 1
	SeverityWarning
	SeverityCritical
)

func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityCritical:
		return "critical"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Metric names a per-device value that windows, baselines and alert rules
// follow.
type Metric int

const (
	MetricIOPS       Metric = iota + 1 // completed requests per second (Rates.IOPS)
	MetricThroughput                   // bytes per second read+written+discarded
	MetricAwait                        // ms per request over reads, writes, discards
	MetricReadAwait                    // r_await
	MetricWriteAwait                   // w_await
	MetricUtil                         // %util
	MetricQueueSize                    // aqu-sz
)

// Metrics lists every Metric.
var Metrics = []Metric{MetricIOPS, MetricThroughput, MetricAwait, MetricReadAwait, MetricWriteAwait, MetricUtil, MetricQueueSize}

func (m Metric) String() string {
	switch m {
	case MetricIOPS:
		return "iops"
	case MetricThroughput:
		return "throughput_bytes"
	case MetricAwait:
		return "await_ms"
	case MetricReadAwait:
		return "r_await_ms"
	case MetricWriteAwait:
		return "w_await_ms"
	case MetricUtil:
		return "util_percent"
	case MetricQueueSize:
		return "aqu_sz"
	}
	return fmt.Sprintf("metric(%d)", int(m))
}

// Value extracts the metric from r.
func (m Metric) Value(r *Rates) float64 {
	switch m {
	case MetricIOPS:
		return r.IOPS
	case MetricThroughput:
		return r.BytesPerSec
	case MetricAwait:
		return r.Await
	case MetricReadAwait:
		return r.ReadAwait
	case MetricWriteAwait:
		return r.WriteAwait
	case MetricUtil:
		return r.Util
	case MetricQueueSize:
		return r.QueueSize
	}
	return 0
}

func (m Metric) valid() bool { return m >= MetricIOPS && m <= MetricQueueSize }

// RuleKind selects how a rule decides.
type RuleKind int

const (
	// Threshold fires when the value is above Rule.Above.
	Threshold RuleKind = iota + 1
	// Deviation fires when the value is above the device's learned baseline
	// mean + K standard deviations (and at least MinDelta above the mean).
	Deviation
)

// Rule is one alert rule. A rule fires after its condition held for For
// consecutive intervals, and resolves after the value stayed at or below the
// clear level for ClearFor consecutive intervals. The clear level sits below
// the fire level (hysteresis), so a value hovering at the limit does not
// flap. While firing, a rule does not fire again (de-duplication).
type Rule struct {
	Name     string // unique
	Kind     RuleKind
	Metric   Metric
	Device   string // "" applies the rule to every device
	Severity Severity

	Above float64 // Threshold: fire level
	Clear float64 // Threshold: clear level (<= Above; 0 means Above)

	K        float64 // Deviation: fire at mean + K*sigma (K > 0)
	ClearK   float64 // Deviation: clear at mean + ClearK*sigma (0 means K/2)
	MinDelta float64 // Deviation: the value must also exceed the mean by this much

	For      int // consecutive intervals to fire (0 means 1)
	ClearFor int // consecutive intervals to resolve (0 means 1)
}

func (r *Rule) validate() error {
	if r.Name == "" {
		return optErr("alert rule without a name")
	}
	if !r.Metric.valid() {
		return optErr("rule %q: unknown metric %d", r.Name, r.Metric)
	}
	if r.Severity == 0 {
		r.Severity = SeverityWarning
	}
	if r.For < 0 || r.ClearFor < 0 {
		return optErr("rule %q: negative For/ClearFor", r.Name)
	}
	if r.For == 0 {
		r.For = 1
	}
	if r.ClearFor == 0 {
		r.ClearFor = 1
	}
	switch r.Kind {
	case Threshold:
		if r.Clear == 0 {
			r.Clear = r.Above
		}
		if r.Clear > r.Above {
			return optErr("rule %q: clear level %v above fire level %v", r.Name, r.Clear, r.Above)
		}
	case Deviation:
		if r.K <= 0 {
			return optErr("rule %q: deviation rule needs K > 0", r.Name)
		}
		if r.ClearK == 0 {
			r.ClearK = r.K / 2
		}
		if r.ClearK > r.K || r.MinDelta < 0 {
			return optErr("rule %q: ClearK above K or negative MinDelta", r.Name)
		}
	default:
		return optErr("rule %q: unknown kind %d", r.Name, r.Kind)
	}
	return nil
}

// AlertState is the state an event reports.
type AlertState int

const (
	Firing AlertState = iota + 1
	Resolved
)

func (s AlertState) String() string {
	if s == Firing {
		return "firing"
	}
	return "resolved"
}

// AlertEvent is one transition of one rule on one device.
type AlertEvent struct {
	Rule     string
	Device   string
	Metric   Metric
	Severity Severity
	State    AlertState
	Value    float64   // the value that caused the transition
	Limit    float64   // the fire level (Firing) or clear level (Resolved) it was compared with
	Since    time.Time // when the alert started firing
	At       time.Time // when this event happened
	Reason   string    // set when resolved for another reason, such as "device vanished"
}

// AlertHandler receives alert events. Handlers registered on a Monitor run
// on the Monitor's delivery goroutine, never on the sampling one.
type AlertHandler func(AlertEvent)

type ruleState struct {
	firing bool
	above  int // consecutive intervals over the fire level
	below  int // consecutive intervals at or under the clear level
	since  time.Time
}

// alertDev is everything the Alerter keeps for one device: one map lookup
// per device and interval, instead of one per rule and metric with a
// string-keyed hash each time (that was most of a 1,000-device Monitor's
// sampling cost).
type alertDev struct {
	name      string
	states    []ruleState  // by rule index
	baselines [7]*Baseline // by Metric-1; nil until a deviation rule needs it
}

// Alerter evaluates rules against each interval's rates and keeps the
// per-device baselines the deviation rules compare with. Not safe for
// concurrent use (the Monitor serialises it).
type Alerter struct {
	rules   []Rule
	alpha   float64
	warmup  int
	devs    map[string]*alertDev
	order   []*alertDev // order[i]: the device last seen at index i of the rates; skips the map
	nfiring int         // alerts firing now: lets appendFiring skip the scan when none
	metrics []Metric    // scratch for deviationMetrics
}

// NewAlerter validates the rules. alpha and warmup configure the baselines
// (see Baseline).
func NewAlerter(rules []Rule, alpha float64, warmup int) (*Alerter, error) {
	if _, err := NewBaseline(alpha, warmup); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	rs := make([]Rule, len(rules))
	for i := range rules {
		rs[i] = rules[i]
		if err := rs[i].validate(); err != nil {
			return nil, err
		}
		if names[rs[i].Name] {
			return nil, optErr("duplicate rule name %q", rs[i].Name)
		}
		names[rs[i].Name] = true
	}
	return &Alerter{rules: rs, alpha: alpha, warmup: warmup, devs: map[string]*alertDev{}}, nil
}

// Baseline returns the learned baseline of a metric on a device, if any.
func (a *Alerter) Baseline(device string, m Metric) (mean, stddev float64, ready bool) {
	d := a.devs[device]
	if d == nil || !m.valid() || d.baselines[m-1] == nil {
		return 0, 0, false
	}
	b := d.baselines[m-1]
	return b.Mean(), b.StdDev(), b.Ready()
}

// Observe evaluates one interval and appends the resulting events to out.
// Devices in changes that restarted or vanished lose their baselines and
// states; a firing alert on such a device resolves with a Reason.
func (a *Alerter) Observe(at time.Time, rates []Rates, changes []DeviceChange, out []AlertEvent) []AlertEvent {
	out = a.forget(at, changes, out)
	for i := range rates {
		out = a.observe(at, &rates[i], i, out)
	}
	return out
}

// forget drops the state of devices that restarted or vanished.
func (a *Alerter) forget(at time.Time, changes []DeviceChange, out []AlertEvent) []AlertEvent {
	if len(a.devs) == 0 {
		return out
	}
	for _, c := range changes {
		if c.Change == Appeared {
			continue
		}
		d := a.devs[c.Name]
		if d == nil {
			continue
		}
		for ri := range d.states {
			if st := &d.states[ri]; st.firing {
				r := &a.rules[ri]
				out = append(out, AlertEvent{Rule: r.Name, Device: c.Name, Metric: r.Metric, Severity: r.Severity,
					State: Resolved, Since: st.since, At: at, Reason: "device " + c.Change.String()})
				a.nfiring--
			}
		}
		delete(a.devs, c.Name)
		clear(a.order) // the forgotten state must not be found by place
	}
	return out
}

// observe evaluates every rule on one device's interval; pos is where the
// device sits in the caller's list, a hint that skips the map lookup while
// devices keep their places.
func (a *Alerter) observe(at time.Time, rt *Rates, pos int, out []AlertEvent) []AlertEvent {
	if len(a.rules) == 0 {
		return out
	}
	var d *alertDev
	if pos < len(a.order) && a.order[pos] != nil && a.order[pos].name == rt.Name {
		d = a.order[pos]
	} else {
		d = a.devs[rt.Name]
		if d == nil {
			d = &alertDev{name: rt.Name, states: make([]ruleState, len(a.rules))}
			a.devs[rt.Name] = d
		}
		if pos >= len(a.order) {
			a.order = append(a.order, make([]*alertDev, pos+1-len(a.order))...)
		}
		a.order[pos] = d
	}
	for ri := range a.rules {
		r := &a.rules[ri]
		if r.Device != "" && r.Device != rt.Name {
			continue
		}
		out = a.evaluate(ri, r, rt, at, d, out)
	}
	// Learn after evaluating, so an interval is judged against the normal
	// that came before it; a deviating interval is not learned while its
	// alert is pending or firing.
	for _, m := range a.deviationMetrics(rt.Name) {
		if a.deviating(m, d) {
			continue
		}
		b := d.baselines[m-1]
		if b == nil {
			b = &Baseline{Alpha: a.alpha, Warmup: a.warmup}
			d.baselines[m-1] = b
		}
		b.Add(m.Value(rt))
	}
	return out
}

// deviationMetrics lists the metrics deviation rules follow on device, in
// a scratch slice valid until the next call.
func (a *Alerter) deviationMetrics(device string) []Metric {
	ms := a.metrics[:0]
	for i := range a.rules {
		r := &a.rules[i]
		if r.Kind == Deviation && (r.Device == "" || r.Device == device) {
			dup := false
			for _, m := range ms {
				dup = dup || m == r.Metric
			}
			if !dup {
				ms = append(ms, r.Metric)
			}
		}
	}
	a.metrics = ms
	return ms
}

func (a *Alerter) deviating(m Metric, d *alertDev) bool {
	for i := range a.rules {
		r := &a.rules[i]
		if r.Kind != Deviation || r.Metric != m {
			continue
		}
		if st := &d.states[i]; st.firing || st.above > 0 {
			return true
		}
	}
	return false
}

func (a *Alerter) evaluate(ri int, r *Rule, rt *Rates, at time.Time, d *alertDev, out []AlertEvent) []AlertEvent {
	v := r.Metric.Value(rt)
	var fire, clear float64
	switch r.Kind {
	case Threshold:
		fire, clear = r.Above, r.Clear
	case Deviation:
		b := d.baselines[r.Metric-1]
		if b == nil || !b.Ready() {
			return out
		}
		sd := b.StdDev()
		fire = b.Mean() + max(r.K*sd, r.MinDelta)
		clear = b.Mean() + max(r.ClearK*sd, r.MinDelta/2)
	}
	st := &d.states[ri]
	if !st.firing {
		if v > fire {
			st.above++
		} else {
			st.above = 0
		}
		if st.above >= r.For {
			st.firing, st.below, st.since = true, 0, at
			a.nfiring++
			out = append(out, AlertEvent{Rule: r.Name, Device: rt.Name, Metric: r.Metric, Severity: r.Severity,
				State: Firing, Value: v, Limit: fire, Since: at, At: at})
		}
		return out
	}
	if v <= clear {
		st.below++
	} else {
		st.below = 0
	}
	if st.below >= r.ClearFor {
		out = append(out, AlertEvent{Rule: r.Name, Device: rt.Name, Metric: r.Metric, Severity: r.Severity,
			State: Resolved, Value: v, Limit: clear, Since: st.since, At: at})
		*st = ruleState{}
		a.nfiring--
	}
	return out
}

// Active returns the alerts currently firing.
func (a *Alerter) Active() []AlertEvent { return a.appendFiring(nil) }

// appendFiring appends the alerts firing now to out.
func (a *Alerter) appendFiring(out []AlertEvent) []AlertEvent {
	if a.nfiring == 0 {
		return out
	}
	for dev, d := range a.devs {
		for ri := range d.states {
			if st := &d.states[ri]; st.firing {
				r := &a.rules[ri]
				out = append(out, AlertEvent{Rule: r.Name, Device: dev, Metric: r.Metric, Severity: r.Severity,
					State: Firing, Since: st.since, At: st.since})
			}
		}
	}
	return out
}
