package perf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// MinInterval is the shortest sampling interval a Monitor accepts.
const MinInterval = 100 * time.Millisecond

// Option configures a Monitor. Options are validated once, by NewMonitor.
type Option func(*Monitor) error

// WithRoot reads /proc and /sys under the directory dir instead of the live
// system ("" or "/"): a fake tree, a container's root, a --sysroot.
func WithRoot(dir string) Option {
	return func(m *Monitor) error {
		r, err := newRoot(dir)
		if err != nil {
			return err
		}
		m.root = r
		return nil
	}
}

// WithSysfsRoot is WithRoot for callers inside this module that already
// hold the root seam.
func WithSysfsRoot(r sysfs.Root) Option {
	return func(m *Monitor) error { m.root = r; return nil }
}

// WithInterval sets the sampling interval (>= MinInterval; default 1s).
func WithInterval(d time.Duration) Option {
	return func(m *Monitor) error {
		if d < MinInterval {
			return optErr("interval %v below %v", d, MinInterval)
		}
		m.interval = d
		return nil
	}
}

// WithLogger sets the logger (nil discards).
func WithLogger(l *slog.Logger) Option {
	return func(m *Monitor) error { m.log = l; return nil }
}

// WithCollectors replaces the default collector (diskstats under the root)
// with the given ones, in order.
func WithCollectors(cs ...Collector) Option {
	return func(m *Monitor) error {
		for _, c := range cs {
			if c == nil {
				return optErr("nil collector")
			}
		}
		m.collectors = append(m.collectors, cs...)
		return nil
	}
}

// WithSinks adds sinks that receive every snapshot.
func WithSinks(ss ...Sink) Option {
	return func(m *Monitor) error {
		for _, s := range ss {
			if s == nil {
				return optErr("nil sink")
			}
		}
		m.sinks = append(m.sinks, ss...)
		return nil
	}
}

// WithWindow sets how many intervals the per-device windows hold (default 60).
func WithWindow(n int) Option {
	return func(m *Monitor) error {
		if n < 1 {
			return optErr("window %d < 1", n)
		}
		m.window = n
		return nil
	}
}

// WithBaseline sets the baselines' EWMA factor and warm-up length
// (default 0.05 and 30 intervals).
func WithBaseline(alpha float64, warmup int) Option {
	return func(m *Monitor) error {
		if _, err := NewBaseline(alpha, warmup); err != nil {
			return err
		}
		m.alpha, m.warmup = alpha, warmup
		return nil
	}
}

// WithRules adds alert rules.
func WithRules(rules ...Rule) Option {
	return func(m *Monitor) error { m.rules = append(m.rules, rules...); return nil }
}

// WithAlertHandler adds a handler for alert events.
func WithAlertHandler(h AlertHandler) Option {
	return func(m *Monitor) error {
		if h == nil {
			return optErr("nil alert handler")
		}
		m.handlers = append(m.handlers, h)
		return nil
	}
}

// Monitor samples its collectors at a fixed interval and publishes a
// Snapshot per interval to channel subscribers, callback subscribers and
// sinks. Sampling never waits for a consumer: each one has its own queue and
// a consumer that falls behind loses the oldest snapshots (Dropped counts
// them). It keeps per-device windows and evaluates alert rules.
type Monitor struct {
	root       sysfs.Root
	interval   time.Duration
	log        *slog.Logger
	collectors []Collector
	sinks      []Sink
	window     int
	alpha      float64
	warmup     int
	rules      []Rule
	handlers   []AlertHandler

	alerter *Alerter

	mu      sync.Mutex
	subs    map[int]*subscriber
	nextID  int
	latest  *Snapshot
	windows map[string]*devWindows // device -> one window per Metric
	// winOrder[i] is the windows of snapshot.Disks[i] last time: devices
	// keep their places in diskstats, so this skips the map lookup.
	winOrder []*devWindows
	dropped  uint64
	state    int // 0 new, 1 running, 2 stopped
	cancel   context.CancelFunc
	done     chan struct{}
	wg       sync.WaitGroup // delivery goroutines
}

type subscriber struct {
	ch   chan *Snapshot
	fn   func(*Snapshot) // callback subscribers: ch is their 1-slot mailbox
	quit chan struct{}
}

// NewMonitor builds a Monitor. Without WithCollectors it samples
// /proc/diskstats under the root.
func NewMonitor(opts ...Option) (*Monitor, error) {
	m := &Monitor{interval: time.Second, window: 60, alpha: 0.05, warmup: 30,
		subs: map[int]*subscriber{}, windows: map[string]*devWindows{}}
	for _, o := range opts {
		if err := o(m); err != nil {
			return nil, err
		}
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	a, err := NewAlerter(m.rules, m.alpha, m.warmup)
	if err != nil {
		return nil, err
	}
	m.alerter = a
	if len(m.collectors) == 0 {
		c, err := newDiskstatsCollector(m.root)
		if err != nil {
			return nil, err
		}
		m.collectors = []Collector{c}
	}
	return m, nil
}

// Interval is the sampling interval.
func (m *Monitor) Interval() time.Duration { return m.interval }

// Subscribe returns a channel receiving every snapshot, buffering up to
// buffer of them (minimum 1); when the buffer is full the oldest is dropped.
// The channel is closed by cancel or when the Monitor stops.
func (m *Monitor) Subscribe(buffer int) (<-chan *Snapshot, func()) {
	if buffer < 1 {
		buffer = 1
	}
	s := &subscriber{ch: make(chan *Snapshot, buffer)}
	id := m.add(s)
	return s.ch, func() { m.remove(id) }
}

// OnSnapshot calls fn with every snapshot on a goroutine of its own; when fn
// is slower than the interval it gets the newest snapshot next. cancel stops
// further calls (a call in progress finishes); Stop and Wait return only
// after every callback has returned. A nil fn is ignored.
func (m *Monitor) OnSnapshot(fn func(*Snapshot)) (cancel func()) {
	if fn == nil {
		return func() {}
	}
	s := &subscriber{ch: make(chan *Snapshot, 1), fn: fn, quit: make(chan struct{})}
	id := m.add(s)
	return func() { m.remove(id) }
}

func (m *Monitor) add(s *subscriber) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.nextID
	m.nextID++
	if m.state == 2 {
		if s.fn == nil {
			close(s.ch)
		}
		return id
	}
	m.subs[id] = s
	if s.fn != nil && m.state == 1 {
		m.startCallback(s)
	}
	return id
}

func (m *Monitor) remove(id int) {
	m.mu.Lock()
	s, ok := m.subs[id]
	if ok {
		delete(m.subs, id)
		m.closeSub(s)
	}
	m.mu.Unlock()
}

// closeSub ends a subscriber; called with m.mu held.
func (m *Monitor) closeSub(s *subscriber) {
	if s.fn == nil {
		close(s.ch)
		return
	}
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
}

// startCallback runs a callback subscriber; called with m.mu held.
func (m *Monitor) startCallback(s *subscriber) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			select {
			case <-s.quit:
				return
			case snap := <-s.ch:
				s.fn(snap)
			}
		}
	}()
}

// Start begins sampling on a goroutine and returns at once. The first
// snapshot is taken immediately (it has counters but no rates). Sampling
// stops when ctx is done or Stop is called; Wait waits for that.
func (m *Monitor) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch m.state {
	case 1:
		return ErrRunning
	case 2:
		return ErrClosed
	}
	m.state = 1
	ctx, m.cancel = context.WithCancel(ctx)
	m.done = make(chan struct{})
	for _, s := range m.subs {
		if s.fn != nil {
			m.startCallback(s)
		}
	}
	for _, sk := range m.sinks {
		sk := sk
		s := &subscriber{ch: make(chan *Snapshot, 1), quit: make(chan struct{})}
		s.fn = func(snap *Snapshot) {
			if err := sk.Write(ctx, snap); err != nil && ctx.Err() == nil {
				m.log.Warn("perf: sink failed", "err", err)
			}
		}
		m.subs[m.nextID] = s
		m.nextID++
		m.startCallback(s)
	}
	go m.loop(ctx)
	return nil
}

// Stop stops sampling, closes subscriber channels and collectors, and waits
// until every goroutine the Monitor started has returned. Because it waits
// for callbacks, a callback, sink or alert handler must not call Stop or
// Wait (it would wait for itself); it cancels the Start context instead.
func (m *Monitor) Stop() {
	m.mu.Lock()
	switch m.state {
	case 0:
		m.state = 2
		for id, s := range m.subs {
			delete(m.subs, id)
			m.closeSub(s)
		}
		m.mu.Unlock()
		m.closeCollectors()
		return
	case 2:
		m.mu.Unlock()
		m.Wait()
		return
	}
	m.cancel()
	m.mu.Unlock()
	m.Wait()
}

// Wait blocks until a started Monitor has stopped.
func (m *Monitor) Wait() {
	m.mu.Lock()
	done := m.done
	m.mu.Unlock()
	if done != nil {
		<-done
	}
}

// Dropped is how many snapshots were dropped for subscribers that fell behind.
func (m *Monitor) Dropped() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.dropped
}

// Latest returns the newest snapshot, or nil before the first.
func (m *Monitor) Latest() *Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.latest
}

// Window summarises the last intervals of one metric of one device.
func (m *Monitor) Window(device string, metric Metric) (WindowStats, bool) {
	if !metric.valid() {
		return WindowStats{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ws := m.windows[device]
	if ws == nil {
		return WindowStats{}, false
	}
	return ws.w[metric-1].Stats(), true
}

// Baseline returns the learned baseline of a metric of a device (learned
// only for metrics that a deviation rule follows).
func (m *Monitor) Baseline(device string, metric Metric) (mean, stddev float64, ready bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.alerter.Baseline(device, metric)
}

// ActiveAlerts lists the alerts currently firing.
func (m *Monitor) ActiveAlerts() []AlertEvent {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.alerter.Active()
}

func (m *Monitor) loop(ctx context.Context) {
	defer m.finish()
	// Alert handlers run on one goroutine of their own, in order.
	alerts := make(chan AlertEvent, 1024)
	m.mu.Lock()
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		for e := range alerts {
			for _, h := range m.handlers {
				h(e)
			}
		}
	}()
	defer close(alerts)

	t := time.NewTicker(m.interval)
	defer t.Stop()
	var seq uint64
	var last time.Time
	for {
		seq++
		if !m.sample(ctx, seq, &last, alerts) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// sample builds and publishes snapshot seq; false when ctx ended it.
func (m *Monitor) sample(ctx context.Context, seq uint64, last *time.Time, alerts chan<- AlertEvent) bool {
	snap := &Snapshot{Seq: seq, Time: time.Now()}
	if !last.IsZero() {
		snap.Interval = snap.Time.Sub(*last)
	}
	*last = snap.Time
	for _, c := range m.collectors {
		if err := c.Collect(ctx, snap); err != nil {
			if ctx.Err() != nil {
				return false
			}
			snap.Errors = append(snap.Errors, CollectError{Collector: c.Name(), Err: err})
			m.log.Warn("perf: collector failed", "collector", c.Name(), "err", err)
		}
	}
	m.publish(snap, alerts)
	return true
}

func (m *Monitor) publish(snap *Snapshot, alerts chan<- AlertEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// Alerts a collector evaluated itself (perf/bpflat's latency rules)
	// come first: they were appended during Collect.
	snap.Alerts = m.alerter.forget(snap.Time, snap.Changes, snap.Alerts)
	for _, ch := range snap.Changes {
		if ch.Change != Appeared {
			delete(m.windows, ch.Name)
		}
	}
	if len(snap.Changes) > 0 {
		clear(m.winOrder) // a restarted device's old windows must not be found by place
	}
	for i := range snap.Disks {
		if !snap.Disks[i].HasRates {
			continue
		}
		r := &snap.Disks[i].Rates
		snap.Alerts = m.alerter.observe(snap.Time, r, i, snap.Alerts)
		var ws *devWindows
		if i < len(m.winOrder) && m.winOrder[i] != nil && m.winOrder[i].name == r.Name {
			ws = m.winOrder[i]
		} else {
			ws = m.windows[r.Name]
			if ws == nil {
				ws = newDevWindows(r.Name, m.window)
				m.windows[r.Name] = ws
			}
			if i >= len(m.winOrder) {
				m.winOrder = append(m.winOrder, make([]*devWindows, i+1-len(m.winOrder))...)
			}
			m.winOrder[i] = ws
		}
		for j, mt := range Metrics {
			ws.w[j].Add(mt.Value(r))
		}
	}
	// Never nil: consumers tell a complete empty set from a snapshot that
	// has none (built by hand). make of zero length does not allocate.
	snap.Firing = m.alerter.appendFiring(make([]AlertEvent, 0))
	for _, c := range m.collectors {
		if as, ok := c.(AlertSource); ok {
			snap.Firing = append(snap.Firing, as.FiringAlerts()...)
		}
	}
	for _, e := range snap.Alerts {
		select {
		case alerts <- e:
		default:
			m.log.Error("perf: alert handlers too slow, event dropped", "rule", e.Rule, "device", e.Device, "state", e.State.String())
		}
	}
	m.latest = snap
	for _, s := range m.subs {
		select {
		case s.ch <- snap:
			continue
		default:
		}
		// Full: drop the oldest, then queue the newest. The consumer may
		// take one meanwhile; either way sampling does not block.
		select {
		case <-s.ch:
			m.dropped++
		default:
		}
		select {
		case s.ch <- snap:
		default:
			m.dropped++
		}
	}
}

// devWindows are one device's windows, one per Metric, kept together and
// with their values in one allocation: the Monitor adds to all seven every
// interval for every device.
type devWindows struct {
	name string
	w    [7]Window
}

func newDevWindows(name string, n int) *devWindows {
	d := &devWindows{name: name}
	vals := make([]float64, len(d.w)*n)
	for j := range d.w {
		d.w[j].vals = vals[j*n : (j+1)*n : (j+1)*n]
	}
	return d
}

func (m *Monitor) finish() {
	m.mu.Lock()
	m.state = 2
	for id, s := range m.subs {
		delete(m.subs, id)
		m.closeSub(s)
	}
	m.mu.Unlock()
	m.wg.Wait()
	m.closeCollectors()
	close(m.done)
}

func (m *Monitor) closeCollectors() {
	var errs []error
	for _, c := range m.collectors {
		if cl, ok := c.(io.Closer); ok {
			if err := cl.Close(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", c.Name(), err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		m.log.Warn("perf: closing collectors", "err", err)
	}
}
