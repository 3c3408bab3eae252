package lvm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
)

// Policy defaults; lvm's doc.go ("Thin-pool policy") says where each comes
// from.
const (
	DefaultPolicyInterval   = time.Second
	DefaultDataThreshold    = 80.0
	DefaultMetaThreshold    = 80.0
	DefaultExtendPercent    = 20.0
	DefaultOverProvisioning = 1.0
	DefaultLookahead        = 30 * time.Second
	DefaultPolicyHistory    = 30
	DefaultLayoutRefresh    = time.Minute
	DefaultGrowTimeout      = 2 * time.Minute
	// MinPolicyInterval is the shortest sampling interval (perf's minimum).
	MinPolicyInterval = perf.MinInterval
	// NeverFull is the time-to-full of a pool that is not filling.
	NeverFull = time.Duration(math.MaxInt64)
	// MaxThinMetadataBytes is the largest thin-pool metadata lvm creates
	// (16 GiB; the kernel uses at most 15.81 GiB of it): the policy does
	// not ask for more.
	MaxThinMetadataBytes = 16 << 30
	// defaultExtent is assumed when the layout does not say (lvm's default
	// extent size).
	defaultExtent = 4 << 20
)

// Names of the alerts the policy raises itself (the threshold rules are
// perf.Rules, see WithDataAlertRules).
const (
	AlertCannotGrow     = "thinpool-cannot-grow"       // critical: needs space, the VG has none; switched to error-when-full
	AlertOutOfDataSpace = "thinpool-out-of-data-space" // critical: the kernel says the pool is full
	AlertPoolFailed     = "thinpool-failed"            // critical: Fail, Error or read-only (metadata failure)
	AlertExtendFailed   = "thinpool-extend-failed"     // warning: an extension failed for another reason
	AlertSampleFailed   = "thinpool-unmonitored"       // warning: three samples in a row failed
)

// Clock is the policy's time: real by default, a fake in tests.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// PolicyOption configures a Policy; NewPolicy validates them once.
type PolicyOption func(*Policy) error

func policyErr(format string, args ...any) error {
	return fmt.Errorf("lvm: thin-pool policy: "+format, args...)
}

// WithPolicyInterval sets the sampling interval (>= MinPolicyInterval;
// default 1 s).
func WithPolicyInterval(d time.Duration) PolicyOption {
	return func(p *Policy) error {
		if d < MinPolicyInterval {
			return policyErr("interval %v below %v", d, MinPolicyInterval)
		}
		p.interval = d
		return nil
	}
}

func validPercent(what string, v float64) error {
	if !(v > 0 && v < 100) {
		return policyErr("%s %v%%: want more than 0 and less than 100", what, v)
	}
	return nil
}

// WithDataThreshold sets the data use (percent) the pool must not reach:
// the policy extends when the use is at it or predicted to reach it within
// the lookahead (default 80).
func WithDataThreshold(pct float64) PolicyOption {
	return func(p *Policy) error {
		if err := validPercent("data threshold", pct); err != nil {
			return err
		}
		p.dataThr = pct
		return nil
	}
}

// WithMetaThreshold is WithDataThreshold for the metadata (default 80).
func WithMetaThreshold(pct float64) PolicyOption {
	return func(p *Policy) error {
		if err := validPercent("metadata threshold", pct); err != nil {
			return err
		}
		p.metaThr = pct
		return nil
	}
}

// WithExtendStep sets the smallest extension of the data and of the
// metadata, in percent of their current size (default 20 each). A faster
// fill gets more: enough to stay under the threshold for twice the
// lookahead at the measured rate.
func WithExtendStep(dataPct, metaPct float64) PolicyOption {
	return func(p *Policy) error {
		if !(dataPct > 0 && dataPct <= 1000) || !(metaPct > 0 && metaPct <= 1000) {
			return policyErr("extend step %v%%/%v%%: want (0, 1000]", dataPct, metaPct)
		}
		p.dataStep, p.metaStep = dataPct, metaPct
		return nil
	}
}

// WithOverProvisioning sets the largest ratio of the thin LVs' virtual
// sizes to the pool's data size that Admit accepts (default 1.0: no
// over-provisioning).
func WithOverProvisioning(ratio float64) PolicyOption {
	return func(p *Policy) error {
		if !(ratio > 0) || math.IsInf(ratio, 0) {
			return policyErr("over-provisioning ratio %v: want > 0", ratio)
		}
		p.overprov = ratio
		return nil
	}
}

// WithLookahead sets how far ahead the fill is predicted (default 30 s):
// a pool predicted to reach its threshold within it is extended now.
func WithLookahead(d time.Duration) PolicyOption {
	return func(p *Policy) error {
		if d < 0 {
			return policyErr("negative lookahead %v", d)
		}
		p.lookahead = d
		return nil
	}
}

// WithHistory sets how many samples per pool the fill rate is fitted over
// (>= 2; default 30).
func WithHistory(n int) PolicyOption {
	return func(p *Policy) error {
		if n < 2 {
			return policyErr("history %d < 2", n)
		}
		p.history = n
		return nil
	}
}

// WithLayoutRefresh sets how often a pool's layout (VG free space, sizes,
// thin LVs) is re-read besides before every extension (default 1 min).
func WithLayoutRefresh(d time.Duration) PolicyOption {
	return func(p *Policy) error {
		if d <= 0 {
			return policyErr("layout refresh %v <= 0", d)
		}
		p.layoutEvery = d
		return nil
	}
}

// WithGrowTimeout bounds one extension or full-mode switch (default 2
// min). Cancelling Run does not cut them short (lvm killed between
// suspend and resume would leave the pool suspended): Run returns once the
// one in progress has finished, within this time.
func WithGrowTimeout(d time.Duration) PolicyOption {
	return func(p *Policy) error {
		if d <= 0 {
			return policyErr("grow timeout %v <= 0", d)
		}
		p.growTimeout = d
		return nil
	}
}

// WithGrower lets the policy extend pools (without one it only watches,
// predicts and alerts). A grower that is also a FullModeSetter lets it
// switch a pool that cannot grow to error-when-full.
func WithGrower(g PoolGrower) PolicyOption {
	return func(p *Policy) error {
		if g == nil {
			return policyErr("nil grower")
		}
		p.grower = g
		return nil
	}
}

// WithPolicyClock replaces the clock (tests).
func WithPolicyClock(c Clock) PolicyOption {
	return func(p *Policy) error {
		if c == nil {
			return policyErr("nil clock")
		}
		p.clock = c
		return nil
	}
}

// WithPolicyLogger sets the logger (nil discards).
func WithPolicyLogger(l *slog.Logger) PolicyOption {
	return func(p *Policy) error { p.log = l; return nil }
}

// WithAlertHandler adds a handler for alert events. Handlers run one event
// at a time, outside the policy's locks, on the goroutine that checked (or,
// under Run, the one that extended the pool); a slow handler delays the
// next sample.
func WithAlertHandler(h perf.AlertHandler) PolicyOption {
	return func(p *Policy) error {
		if h == nil {
			return policyErr("nil alert handler")
		}
		p.handlers = append(p.handlers, h)
		return nil
	}
}

// WithDataAlertRules replaces the default alert rules on the pools' data
// use. They are perf threshold or deviation rules evaluated by a
// perf.Alerter on one value per pool and interval, the percent used, which
// the rules name as perf.MetricUtil; Rule.Device is "" (every pool) or
// "vg/pool".
func WithDataAlertRules(rules ...perf.Rule) PolicyOption {
	return func(p *Policy) error {
		p.dataRules = append([]perf.Rule{}, rules...)
		p.dataRulesSet = true
		return nil
	}
}

// WithMetaAlertRules is WithDataAlertRules for the metadata use.
func WithMetaAlertRules(rules ...perf.Rule) PolicyOption {
	return func(p *Policy) error {
		p.metaRules = append([]perf.Rule{}, rules...)
		p.metaRulesSet = true
		return nil
	}
}

// Policy keeps thin pools from filling: it samples their data and metadata
// use every interval, keeps a short history per pool, fits the fill rate by
// least squares over it, extends a pool from its VG's free space before it
// reaches a threshold (data and metadata separately), switches a pool that
// can no longer grow to error-when-full, raises alerts through perf's alert
// rules, and admits new thin LVs only within an over-provisioning ratio.
// It is safe for concurrent use.
type Policy struct {
	usage       UsageSource
	layout      LayoutSource
	grower      PoolGrower
	clock       Clock
	log         *slog.Logger
	handlers    []perf.AlertHandler
	interval    time.Duration
	dataThr     float64
	metaThr     float64
	dataStep    float64
	metaStep    float64
	overprov    float64
	lookahead   time.Duration
	history     int
	layoutEvery time.Duration
	growTimeout time.Duration

	dataRules, metaRules       []perf.Rule
	dataRulesSet, metaRulesSet bool

	checkMu   sync.Mutex // one Check at a time
	deliverMu sync.Mutex // one event delivery at a time
	growWG    sync.WaitGroup
	mu        sync.Mutex // the fields below
	pools     map[string]*poolState
	dataAl    *perf.Alerter
	metaAl    *perf.Alerter
	gone      []perf.DeviceChange // unwatched since the last check
}

type poolSample struct {
	at                   time.Time
	dataUsed, metaUsed   int64
	dataTotal, metaTotal int64
}

// Extension is one extension the policy made.
type Extension struct {
	At       time.Time
	Space    string // "data" or "metadata"
	From, To int64
	Reason   string
	Took     time.Duration // how long the grower took
}

type nativeAlert struct {
	firing bool
	since  time.Time
	sev    perf.Severity
}

type poolState struct {
	vg, pool   string
	samples    []poolSample
	last       PoolUsage
	lastAt     time.Time
	layout     PoolLayout
	layoutAt   time.Time
	fails      int
	lastErr    error
	extends    []Extension
	nData      int
	nMeta      int
	switched   bool // we set error-when-full
	growing    bool // an extension runs (Run's asynchronous checks)
	cannotGrow bool
	native     map[string]*nativeAlert
}

// NewPolicy builds a policy that samples through usage and reads layouts
// through layout (a ReportSource serves as both).
func NewPolicy(usage UsageSource, layout LayoutSource, opts ...PolicyOption) (*Policy, error) {
	if usage == nil || layout == nil {
		return nil, policyErr("nil usage or layout source")
	}
	p := &Policy{usage: usage, layout: layout, clock: realClock{}, interval: DefaultPolicyInterval,
		dataThr: DefaultDataThreshold, metaThr: DefaultMetaThreshold, dataStep: DefaultExtendPercent,
		metaStep: DefaultExtendPercent, overprov: DefaultOverProvisioning, lookahead: DefaultLookahead,
		history: DefaultPolicyHistory, layoutEvery: DefaultLayoutRefresh, growTimeout: DefaultGrowTimeout, pools: map[string]*poolState{}}
	for _, o := range opts {
		if err := o(p); err != nil {
			return nil, err
		}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if !p.dataRulesSet {
		p.dataRules = DefaultDataAlertRules(p.dataThr)
	}
	if !p.metaRulesSet {
		p.metaRules = DefaultMetaAlertRules(p.metaThr)
	}
	var err error
	if p.dataAl, err = newPoolAlerter(p.dataRules); err != nil {
		return nil, err
	}
	if p.metaAl, err = newPoolAlerter(p.metaRules); err != nil {
		return nil, err
	}
	return p, nil
}

func newPoolAlerter(rules []perf.Rule) (*perf.Alerter, error) {
	rs := append([]perf.Rule(nil), rules...)
	for i := range rs {
		if rs[i].Metric == 0 {
			rs[i].Metric = perf.MetricUtil
		}
		if rs[i].Metric != perf.MetricUtil {
			return nil, policyErr("rule %q: pool rules follow the percent used (perf.MetricUtil), not %v", rs[i].Name, rs[i].Metric)
		}
	}
	return perf.NewAlerter(rs, 0.05, 30)
}

// DefaultDataAlertRules are the data rules: a warning above the extension
// threshold (it should not stay there: the policy extends), clearing 5
// points below it, and a critical alert above 95%, the level dmeventd's
// thin plugin names for unmounting a pool's thin LVs after a failed
// extension.
func DefaultDataAlertRules(threshold float64) []perf.Rule {
	return []perf.Rule{
		{Name: "thinpool-data-high", Kind: perf.Threshold, Metric: perf.MetricUtil, Severity: perf.SeverityWarning,
			Above: threshold, Clear: max(threshold-5, 0)},
		{Name: "thinpool-data-critical", Kind: perf.Threshold, Metric: perf.MetricUtil, Severity: perf.SeverityCritical,
			Above: 95, Clear: 90},
	}
}

// DefaultMetaAlertRules are the metadata rules: a warning above the
// threshold and a critical alert above 95%, where lvm-operator stops
// trusting a pool (metadata overflow cannot be recovered online).
func DefaultMetaAlertRules(threshold float64) []perf.Rule {
	return []perf.Rule{
		{Name: "thinpool-metadata-high", Kind: perf.Threshold, Metric: perf.MetricUtil, Severity: perf.SeverityWarning,
			Above: threshold, Clear: max(threshold-5, 0)},
		{Name: "thinpool-metadata-critical", Kind: perf.Threshold, Metric: perf.MetricUtil, Severity: perf.SeverityCritical,
			Above: 95, Clear: 90},
	}
}

func poolKey(vg, pool string) string { return vg + "/" + pool }

// Watch starts watching vg/pool: it reads the pool's layout now (so a name
// that is not a thin pool fails here) and samples it from the next Check.
func (p *Policy) Watch(ctx context.Context, vg, pool string) error {
	l, err := p.layout.PoolLayout(ctx, vg, pool)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k := poolKey(vg, pool)
	if _, ok := p.pools[k]; !ok {
		p.pools[k] = &poolState{vg: vg, pool: pool, layout: l, layoutAt: p.clock.Now(), native: map[string]*nativeAlert{}}
	}
	return nil
}

// Unwatch stops watching vg/pool; its alerts resolve at the next check.
func (p *Policy) Unwatch(vg, pool string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := poolKey(vg, pool)
	if _, ok := p.pools[k]; ok {
		delete(p.pools, k)
		p.gone = append(p.gone, perf.DeviceChange{Name: k, Change: perf.Vanished})
	}
}

// Run checks every interval until ctx is done, waits for the extensions it
// started, and returns ctx's error. Unlike Check, its checks do not wait
// for an extension: sampling and alerts go on while lvm extends a pool.
func (p *Policy) Run(ctx context.Context) error {
	for {
		_ = p.check(ctx, true)
		select {
		case <-ctx.Done():
			p.growWG.Wait()
			return ctx.Err()
		case <-p.clock.After(p.interval):
		}
	}
}

// Check samples every watched pool once, updates predictions and alerts,
// and extends or switches pools as needed. It returns the sampling and
// extension errors (they are also logged and kept in Status).
func (p *Policy) Check(ctx context.Context) error { return p.check(ctx, false) }

func (p *Policy) check(ctx context.Context, async bool) error {
	p.checkMu.Lock()
	defer p.checkMu.Unlock()
	p.mu.Lock()
	pools := make([]*poolState, 0, len(p.pools))
	for _, ps := range p.pools {
		pools = append(pools, ps)
	}
	gone := p.gone
	p.gone = nil
	p.mu.Unlock()
	sort.Slice(pools, func(i, j int) bool { return poolKey(pools[i].vg, pools[i].pool) < poolKey(pools[j].vg, pools[j].pool) })

	now := p.clock.Now()
	var events []perf.AlertEvent
	var errs []error
	var dataRates, metaRates []perf.Rates
	if len(gone) > 0 {
		p.mu.Lock()
		events = p.dataAl.Observe(now, nil, gone, events)
		events = p.metaAl.Observe(now, nil, gone, events)
		p.mu.Unlock()
	}
	for _, ps := range pools {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		evs, err := p.checkPool(ctx, ps, now, async)
		events = append(events, evs...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s/%s: %w", ps.vg, ps.pool, err))
		}
		p.mu.Lock()
		if !ps.lastAt.IsZero() && ps.lastAt.Equal(now) {
			k := poolKey(ps.vg, ps.pool)
			dataRates = append(dataRates, perf.Rates{Name: k, Util: ps.last.DataPercent()})
			metaRates = append(metaRates, perf.Rates{Name: k, Util: ps.last.MetaPercent()})
		}
		p.mu.Unlock()
	}
	p.mu.Lock()
	events = p.dataAl.Observe(now, dataRates, nil, events)
	events = p.metaAl.Observe(now, metaRates, nil, events)
	p.mu.Unlock()
	p.deliver(ctx, events)
	return errors.Join(errs...)
}

// deliver logs events and hands them to the handlers, one event at a time.
func (p *Policy) deliver(ctx context.Context, events []perf.AlertEvent) {
	if len(events) == 0 {
		return
	}
	p.deliverMu.Lock()
	defer p.deliverMu.Unlock()
	for _, e := range events {
		lvl := slog.LevelInfo
		if e.State == perf.Firing && e.Severity >= perf.SeverityWarning {
			lvl = slog.LevelWarn
		}
		p.log.Log(ctx, lvl, "thin-pool alert", "rule", e.Rule, "pool", e.Device, "state", e.State.String(),
			"severity", e.Severity.String(), "value", e.Value, "reason", e.Reason)
		for _, h := range p.handlers {
			h(e)
		}
	}
}

// space is the view of data or metadata the decisions work on.
type space struct {
	name      string
	used      int64
	total     int64
	threshold float64
	step      float64
	rate      float64 // bytes per second, least squares
}

func (p *Policy) checkPool(ctx context.Context, ps *poolState, now time.Time, async bool) ([]perf.AlertEvent, error) {
	var events []perf.AlertEvent
	u, err := p.usage.PoolUsage(ctx, ps.vg, ps.pool)
	p.mu.Lock()
	if err != nil {
		ps.fails++
		ps.lastErr = err
		if ps.fails >= 3 {
			events = p.native(ps, AlertSampleFailed, perf.SeverityWarning, true, 0, err.Error(), now, events)
		}
		p.mu.Unlock()
		p.log.Warn("thin-pool policy: sample failed", "pool", poolKey(ps.vg, ps.pool), "err", err)
		return events, err
	}
	ps.fails = 0
	events = p.native(ps, AlertSampleFailed, perf.SeverityWarning, false, 0, "", now, events)
	ps.last, ps.lastAt = u, now
	ps.samples = append(ps.samples, poolSample{at: now, dataUsed: u.DataUsed, metaUsed: u.MetaUsed, dataTotal: u.DataTotal, metaTotal: u.MetaTotal})
	if len(ps.samples) > p.history {
		ps.samples = append(ps.samples[:0], ps.samples[len(ps.samples)-p.history:]...)
	}
	data := space{name: "data", used: u.DataUsed, total: u.DataTotal, threshold: p.dataThr, step: p.dataStep,
		rate: fillRate(ps.samples, func(s poolSample) int64 { return s.dataUsed })}
	meta := space{name: "metadata", used: u.MetaUsed, total: u.MetaTotal, threshold: p.metaThr, step: p.metaStep,
		rate: fillRate(ps.samples, func(s poolSample) int64 { return s.metaUsed })}
	events = p.native(ps, AlertOutOfDataSpace, perf.SeverityCritical, u.Mode == "out_of_data_space", u.DataPercent(),
		"the kernel reports the pool out of data space", now, events)
	failed := u.Mode == "Fail" || u.Mode == "Error" || u.Mode == "ro"
	events = p.native(ps, AlertPoolFailed, perf.SeverityCritical, failed, u.MetaPercent(), "pool mode "+u.Mode, now, events)
	layoutStale := now.Sub(ps.layoutAt) >= p.layoutEvery
	growing, cannotGrow := ps.growing, ps.cannotGrow
	p.mu.Unlock()

	if growing {
		return events, nil // an extension is running: sample, alert, wait for it
	}
	if layoutStale {
		p.refreshLayout(ctx, ps, now)
	}
	if p.grower == nil || failed {
		return events, nil
	}
	needData, whyData := p.needs(data)
	needMeta, whyMeta := p.needs(meta)
	if !needData && !needMeta {
		p.mu.Lock()
		if ps.cannotGrow && u.DataPercent() < p.dataThr-5 && u.MetaPercent() < p.metaThr-5 {
			ps.cannotGrow = false
			events = p.native(ps, AlertCannotGrow, perf.SeverityCritical, false, u.DataPercent(), "use fell below the threshold", now, events)
		}
		p.mu.Unlock()
		return events, nil
	}
	if cannotGrow && !layoutStale {
		// Already switched and alerted: look for new VG space at the layout
		// refresh, not with an lvs every interval.
		return events, nil
	}
	if !async {
		evs, err := p.grow(ctx, ps, u, data, meta, needData, needMeta, whyData, whyMeta, now)
		return append(events, evs...), err
	}
	// Run's checks go on sampling (and alerting) while lvm extends the
	// pool, which can take seconds; the next extension of this pool waits
	// for this one.
	p.mu.Lock()
	ps.growing = true
	p.mu.Unlock()
	p.growWG.Add(1)
	go func() {
		defer p.growWG.Done()
		evs, _ := p.grow(ctx, ps, u, data, meta, needData, needMeta, whyData, whyMeta, now)
		p.mu.Lock()
		ps.growing = false
		p.mu.Unlock()
		p.deliver(ctx, evs)
	}()
	return events, nil
}

// grow extends ps as the check decided, or handles a VG that cannot give
// the space.
func (p *Policy) grow(ctx context.Context, ps *poolState, u PoolUsage, data, meta space, needData, needMeta bool, whyData, whyMeta string, now time.Time) ([]perf.AlertEvent, error) {
	var events []perf.AlertEvent
	// Decide on a fresh layout: the VG's free space may have changed.
	l, err := p.refreshLayout(ctx, ps, now)
	if err != nil {
		return events, err
	}
	plan := planGrowth(l, data, meta, needData, needMeta, p.lookahead)
	if plan.data == 0 && plan.meta == 0 {
		why := whyData
		if needMeta {
			why = whyMeta
		}
		return p.exhausted(ctx, ps, u, why, now, events)
	}
	// Cancelling the policy does not kill an extension in progress: lvm
	// killed between suspending and resuming the pool's devices would
	// leave them suspended, every write to the pool blocked.
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.growTimeout)
	defer cancel()
	start := p.clock.Now()
	err = p.grower.GrowPool(gctx, ps.vg, ps.pool, plan.data, plan.meta)
	took := p.clock.Now().Sub(start)
	if err != nil {
		if errors.Is(err, ErrNoSpace) {
			return p.exhausted(ctx, ps, u, err.Error(), now, events)
		}
		p.mu.Lock()
		ps.lastErr = err
		events = p.native(ps, AlertExtendFailed, perf.SeverityWarning, true, u.DataPercent(), err.Error(), now, events)
		p.mu.Unlock()
		p.log.Error("thin-pool policy: extension failed", "pool", poolKey(ps.vg, ps.pool), "err", err)
		return events, err
	}
	p.mu.Lock()
	events = p.native(ps, AlertExtendFailed, perf.SeverityWarning, false, 0, "", now, events)
	if plan.meta > 0 {
		ps.nMeta++
		ps.extends = appendExt(ps.extends, Extension{At: now, Space: "metadata", From: l.MetaBytes, To: plan.meta, Reason: whyMeta, Took: took})
		p.log.Info("thin-pool policy: extended metadata", "pool", poolKey(ps.vg, ps.pool), "from", l.MetaBytes, "to", plan.meta, "reason", whyMeta)
	}
	if plan.data > 0 {
		ps.nData++
		ps.extends = appendExt(ps.extends, Extension{At: now, Space: "data", From: l.DataBytes, To: plan.data, Reason: whyData, Took: took})
		p.log.Info("thin-pool policy: extended data", "pool", poolKey(ps.vg, ps.pool), "from", l.DataBytes, "to", plan.data, "reason", whyData)
	}
	partial := (needData && plan.data == 0) || (needMeta && plan.meta == 0)
	wasSwitched := ps.switched
	if !partial && ps.cannotGrow {
		ps.cannotGrow = false
		events = p.native(ps, AlertCannotGrow, perf.SeverityCritical, false, u.DataPercent(), "the pool grew", now, events)
	}
	// The layout as it is now (the next extension re-reads it anyway).
	if plan.meta > 0 {
		ps.layout.VGFree -= 2 * (plan.meta - l.MetaBytes)
		ps.layout.MetaBytes = plan.meta
	}
	if plan.data > 0 {
		ps.layout.VGFree -= plan.data - l.DataBytes
		ps.layout.DataBytes = plan.data
	}
	p.mu.Unlock()
	// stratisd's rule: a pool that has room again queues writes when full
	// rather than failing them (only if we were the ones who switched it).
	if wasSwitched && !partial {
		if fm, ok := p.grower.(FullModeSetter); ok {
			if err := fm.SetErrorWhenFull(gctx, ps.vg, ps.pool, false); err == nil {
				p.mu.Lock()
				ps.switched = false
				p.mu.Unlock()
			}
		}
	}
	return events, nil
}

func appendExt(xs []Extension, x Extension) []Extension {
	xs = append(xs, x)
	if len(xs) > 100 {
		xs = append(xs[:0], xs[len(xs)-100:]...)
	}
	return xs
}

// needs says whether a space must grow now: at or above its threshold, or
// predicted by the fitted rate to reach it within the lookahead.
func (p *Policy) needs(s space) (bool, string) {
	if s.total <= 0 {
		return false, ""
	}
	limit := s.threshold / 100 * float64(s.total)
	if float64(s.used) >= limit {
		return true, fmt.Sprintf("%s at %.2f%%, threshold %.0f%%", s.name, pct(s.used, s.total), s.threshold)
	}
	if s.rate > 0 {
		// Compared in seconds: a slow fill's time in nanoseconds would
		// overflow a Duration.
		if secs := (limit - float64(s.used)) / s.rate; secs <= p.lookahead.Seconds() {
			eta := time.Duration(secs * float64(time.Second))
			return true, fmt.Sprintf("%s at %.2f%% filling %.0f B/s reaches %.0f%% in %v (lookahead %v)",
				s.name, pct(s.used, s.total), s.rate, s.threshold, eta.Round(time.Millisecond), p.lookahead)
		}
	}
	return false, ""
}

type growthPlan struct{ data, meta int64 } // new sizes; 0 keeps

// planGrowth sizes the extensions within the VG's free space. Each space
// that needs to grow gets its step, or more when the fill is fast: enough
// to stay under the threshold for twice the lookahead at the fitted rate.
// Sizes are whole extents. Metadata comes first, counts twice (lvm grows
// the pool metadata spare, pmspare, with it) and stops at
// MaxThinMetadataBytes. The result never exceeds the free space and never
// shrinks anything.
func planGrowth(l PoolLayout, data, meta space, needData, needMeta bool, lookahead time.Duration) growthPlan {
	ext := l.ExtentSize
	if ext <= 0 {
		ext = defaultExtent
	}
	free := max(l.VGFree, 0) / ext // in extents
	want := func(s space, cur int64) int64 {
		t := float64(cur) * (1 + s.step/100)
		if s.rate > 0 {
			t = max(t, (float64(s.used)+s.rate*2*lookahead.Seconds())/(s.threshold/100))
		}
		t = min(t, float64(cur)+float64(l.VGFree)+float64(ext)) // bounded before the conversion
		delta := int64(math.Ceil(t)) - cur
		return max((delta+ext-1)/ext, 1) // extents
	}
	var plan growthPlan
	if needMeta && l.MetaBytes > 0 {
		d := min(want(meta, l.MetaBytes), free/2, max(MaxThinMetadataBytes-l.MetaBytes, 0)/ext)
		if d > 0 {
			free -= 2 * d
			plan.meta = l.MetaBytes + d*ext
		}
	}
	if needData && l.DataBytes > 0 {
		d := min(want(data, l.DataBytes), free)
		if d > 0 {
			plan.data = l.DataBytes + d*ext
		}
	}
	return plan
}

// exhausted handles a pool that needs space its VG does not have: switch
// it to error-when-full (a full pool then fails writes at once instead of
// queueing them for 60 s and then failing them, lvmthin(7)) and raise a
// critical alert.
func (p *Policy) exhausted(ctx context.Context, ps *poolState, u PoolUsage, why string, now time.Time, events []perf.AlertEvent) ([]perf.AlertEvent, error) {
	var err error
	if fm, ok := p.grower.(FullModeSetter); ok && !u.ErrorWhenFull {
		p.mu.Lock()
		l := ps.layout
		p.mu.Unlock()
		if !l.ErrorWhenFull {
			gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.growTimeout)
			err = fm.SetErrorWhenFull(gctx, ps.vg, ps.pool, true)
			cancel()
			if err == nil {
				p.mu.Lock()
				ps.switched = true
				ps.layout.ErrorWhenFull = true
				p.mu.Unlock()
				p.log.Warn("thin-pool policy: switched to error-when-full", "pool", poolKey(ps.vg, ps.pool))
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ps.cannotGrow = true
	reason := "cannot grow: the VG has no free space (" + why + ")"
	if ps.switched || u.ErrorWhenFull {
		reason += "; the pool fails writes when full"
	}
	if err != nil {
		ps.lastErr = err
		reason += "; switching to error-when-full failed: " + err.Error()
	}
	return p.native(ps, AlertCannotGrow, perf.SeverityCritical, true, u.DataPercent(), reason, now, events), err
}

func (p *Policy) refreshLayout(ctx context.Context, ps *poolState, now time.Time) (PoolLayout, error) {
	l, err := p.layout.PoolLayout(ctx, ps.vg, ps.pool)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		ps.lastErr = err
		return ps.layout, err
	}
	ps.layout, ps.layoutAt = l, now
	return l, nil
}

// native raises or resolves one of the policy's own alerts on ps; called
// with p.mu held.
func (p *Policy) native(ps *poolState, rule string, sev perf.Severity, on bool, value float64, reason string, now time.Time, out []perf.AlertEvent) []perf.AlertEvent {
	a := ps.native[rule]
	if a == nil {
		a = &nativeAlert{}
		ps.native[rule] = a
	}
	if on == a.firing {
		return out
	}
	e := perf.AlertEvent{Rule: rule, Device: poolKey(ps.vg, ps.pool), Metric: perf.MetricUtil, Severity: sev,
		Value: value, At: now, Reason: reason}
	if on {
		a.firing, a.since, a.sev = true, now, sev
		e.State, e.Since = perf.Firing, now
	} else {
		e.State, e.Since = perf.Resolved, a.since
		*a = nativeAlert{}
	}
	return append(out, e)
}

// fillRate is the least-squares slope of a use over the samples, in bytes
// per second: robust to the noise of single samples (a discard, a
// percentage rounded to two decimals), unlike the last difference. Zero
// with fewer than two samples.
func fillRate(ss []poolSample, v func(poolSample) int64) float64 {
	n := float64(len(ss))
	if len(ss) < 2 {
		return 0
	}
	t0 := ss[0].at
	var mt, mv float64
	for _, s := range ss {
		mt += s.at.Sub(t0).Seconds()
		mv += float64(v(s))
	}
	mt /= n
	mv /= n
	var sxy, sxx float64
	for _, s := range ss {
		dt := s.at.Sub(t0).Seconds() - mt
		sxy += dt * (float64(v(s)) - mv)
		sxx += dt * dt
	}
	if sxx == 0 {
		return 0
	}
	return sxy / sxx
}

// timeTo is when a use reaches level bytes at rate, NeverFull if not
// filling.
func timeTo(used int64, level float64, rate float64) time.Duration {
	if float64(used) >= level {
		return 0
	}
	if rate <= 0 {
		return NeverFull
	}
	s := (level - float64(used)) / rate
	if s >= float64(NeverFull/time.Second) {
		return NeverFull
	}
	return time.Duration(s * float64(time.Second))
}

// PoolStatus is what the policy knows of one pool.
type PoolStatus struct {
	VG, Pool  string
	Usage     PoolUsage
	SampledAt time.Time // zero before the first successful sample
	Samples   int
	Layout    PoolLayout
	// DataRate and MetaRate are the fitted fill rates in bytes per second.
	DataRate, MetaRate float64
	// Time to 100% and to the threshold at the fitted rate; NeverFull when
	// not filling.
	DataTimeToFull, MetaTimeToFull           time.Duration
	DataTimeToThreshold, MetaTimeToThreshold time.Duration
	DataExtends, MetaExtends                 int
	Extensions                               []Extension // the last 100
	// SwitchedErrorWhenFull: the policy switched the pool to error-when-full.
	SwitchedErrorWhenFull bool
	CannotGrow            bool
	LastError             error
}

// Status returns what the policy knows of vg/pool.
func (p *Policy) Status(vg, pool string) (PoolStatus, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ps := p.pools[poolKey(vg, pool)]
	if ps == nil {
		return PoolStatus{}, false
	}
	dr := fillRate(ps.samples, func(s poolSample) int64 { return s.dataUsed })
	mr := fillRate(ps.samples, func(s poolSample) int64 { return s.metaUsed })
	u := ps.last
	return PoolStatus{VG: vg, Pool: pool, Usage: u, SampledAt: ps.lastAt, Samples: len(ps.samples), Layout: ps.layout,
		DataRate: dr, MetaRate: mr,
		DataTimeToFull: timeTo(u.DataUsed, float64(u.DataTotal), dr), MetaTimeToFull: timeTo(u.MetaUsed, float64(u.MetaTotal), mr),
		DataTimeToThreshold: timeTo(u.DataUsed, p.dataThr/100*float64(u.DataTotal), dr),
		MetaTimeToThreshold: timeTo(u.MetaUsed, p.metaThr/100*float64(u.MetaTotal), mr),
		DataExtends:         ps.nData, MetaExtends: ps.nMeta, Extensions: append([]Extension(nil), ps.extends...),
		SwitchedErrorWhenFull: ps.switched, CannotGrow: ps.cannotGrow, LastError: ps.lastErr}, true
}

// Alerts lists the alerts firing now: the rules' and the policy's own.
func (p *Policy) Alerts() []perf.AlertEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := append(p.dataAl.Active(), p.metaAl.Active()...)
	for _, ps := range p.pools {
		for name, a := range ps.native {
			if a.firing {
				out = append(out, perf.AlertEvent{Rule: name, Device: poolKey(ps.vg, ps.pool), Metric: perf.MetricUtil,
					Severity: a.sev, State: perf.Firing, Since: a.since, At: a.since})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Device != out[j].Device {
			return out[i].Device < out[j].Device
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}
