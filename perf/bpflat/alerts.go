package bpflat

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// Rule is an alert rule on a latency quantile of one operation: "the p99
// of reads above 20 ms for 3 intervals". It has perf.Rule's semantics
// (threshold or baseline + K sigma, For and ClearFor intervals, hysteresis,
// one alert per episode) and is evaluated by perf's own Alerter, once per
// Collect, on the quantile of the requests that completed in that interval.
// An interval in which the device completed no request of the operation
// counts as zero latency, as iostat's await does: a device that goes idle
// resolves its alert.
type Rule struct {
	Name     string // unique among the collector's rules
	Device   string // "" applies the rule to every device
	Op       latency.Op
	Stage    latency.Stage // 0 means latency.Total
	Quantile float64       // in (0, 1]; 0 means 0.99
	Severity perf.Severity // 0 means perf.SeverityWarning

	Kind         perf.RuleKind // perf.Threshold or perf.Deviation
	Above, Clear time.Duration // Threshold: fire above Above, clear at or below Clear (0: Above)
	K, ClearK    float64       // Deviation: fire at mean + K sigma, clear at mean + ClearK sigma (0: K/2)
	MinDelta     time.Duration // Deviation: and at least this far above the mean

	For, ClearFor int // consecutive intervals to fire and to resolve (0 means 1)
}

// Alert is one transition of a latency rule on one device. The embedded
// event's Value and Limit are in seconds and its Metric is zero (the
// quantile is not a perf.Metric); Op, Stage and Quantile say what was
// measured.
type Alert struct {
	perf.AlertEvent
	Op       latency.Op
	Stage    latency.Stage
	Quantile float64
}

// AlertHandler receives alerts, on the collector's delivery goroutine.
type AlertHandler func(Alert)

type signal struct {
	op    latency.Op
	stage latency.Stage
	q     float64
}

// ruleGroup is the rules that watch one signal, with a perf.Alerter of
// their own: each device's quantile is handed to it as the await of a
// perf.Rates named after the device.
type ruleGroup struct {
	sig     signal
	alerter *perf.Alerter
	rates   []perf.Rates
	changes []perf.DeviceChange
}

// alerting evaluates the rules and delivers their events.
type alerting struct {
	groups   []*ruleGroup
	handlers []AlertHandler
	log      *slog.Logger
	events   chan Alert
	wg       sync.WaitGroup
}

const ms = float64(time.Millisecond)

func newAlerting(rules []Rule, handlers []AlertHandler, alpha float64, warmup int, log *slog.Logger) (*alerting, error) {
	a := &alerting{handlers: handlers, log: log}
	bySig := map[signal][]perf.Rule{}
	var order []signal
	names := map[string]bool{}
	for _, r := range rules {
		if r.Name == "" {
			return nil, optErr("alert rule without a name")
		}
		if names[r.Name] {
			return nil, optErr("duplicate rule name %q", r.Name)
		}
		names[r.Name] = true
		if r.Op < latency.Read || r.Op > latency.Other {
			return nil, optErr("rule %q: unknown op %d", r.Name, r.Op)
		}
		if r.Stage == 0 {
			r.Stage = latency.Total
		}
		if r.Stage < latency.Device || r.Stage > latency.Total {
			return nil, optErr("rule %q: unknown stage %d", r.Name, r.Stage)
		}
		if r.Quantile == 0 {
			r.Quantile = 0.99
		}
		if !(r.Quantile > 0 && r.Quantile <= 1) {
			return nil, optErr("rule %q: quantile %v not in (0, 1]", r.Name, r.Quantile)
		}
		if r.Above < 0 || r.Clear < 0 || r.MinDelta < 0 {
			return nil, optErr("rule %q: negative duration", r.Name)
		}
		s := signal{r.Op, r.Stage, r.Quantile}
		if _, ok := bySig[s]; !ok {
			order = append(order, s)
		}
		bySig[s] = append(bySig[s], perf.Rule{Name: r.Name, Kind: r.Kind, Metric: perf.MetricAwait, Device: r.Device,
			Severity: r.Severity, Above: float64(r.Above) / ms, Clear: float64(r.Clear) / ms,
			K: r.K, ClearK: r.ClearK, MinDelta: float64(r.MinDelta) / ms, For: r.For, ClearFor: r.ClearFor})
	}
	for _, s := range order {
		al, err := perf.NewAlerter(bySig[s], alpha, warmup)
		if err != nil {
			return nil, fmt.Errorf("bpflat: %w", err)
		}
		a.groups = append(a.groups, &ruleGroup{sig: s, alerter: al})
	}
	if len(a.groups) > 0 && len(handlers) > 0 {
		events := make(chan Alert, 1024)
		a.events = events
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			for e := range events {
				for _, h := range handlers {
					h(e)
				}
			}
		}()
	}
	return a, nil
}

// observe evaluates one interval and appends its transitions to out.
// intervals holds the interval histogram of every series now reported, in a
// stable order; gone lists devices that vanished or were replaced since the
// last interval.
func (a *alerting) observe(at time.Time, intervals []seriesView, gone []perf.DeviceChange, out []perf.AlertEvent) []perf.AlertEvent {
	for _, g := range a.groups {
		g.rates = g.rates[:0]
		for i := range intervals {
			v := &intervals[i]
			if v.op != g.sig.op || v.stage != g.sig.stage {
				continue
			}
			// Idle: zero latency, as iostat's await.
			q := float64(v.delta.Quantile(g.sig.q)) / ms
			g.rates = append(g.rates, perf.Rates{Name: v.device, Await: q})
		}
		for _, e := range g.alerter.Observe(at, g.rates, gone, nil) {
			al := g.alert(e)
			a.deliver(al)
			out = append(out, al.AlertEvent)
		}
	}
	return out
}

func (g *ruleGroup) alert(e perf.AlertEvent) Alert {
	e.Metric = 0
	e.Value /= 1000
	e.Limit /= 1000
	return Alert{AlertEvent: e, Op: g.sig.op, Stage: g.sig.stage, Quantile: g.sig.q}
}

func (a *alerting) deliver(e Alert) {
	if a.events == nil {
		return
	}
	select {
	case a.events <- e:
	default:
		a.log.Error("bpflat: alert handlers too slow, event dropped", "rule", e.Rule, "device", e.Device, "state", e.State.String())
	}
}

// firing lists the alerts firing now.
func (a *alerting) firing() []Alert {
	var out []Alert
	for _, g := range a.groups {
		for _, e := range g.alerter.Active() {
			out = append(out, g.alert(e))
		}
	}
	return out
}

// stop ends delivery after the queued events were handled.
func (a *alerting) stop() {
	if a.events != nil {
		close(a.events)
		a.events = nil
	}
	a.wg.Wait()
}
