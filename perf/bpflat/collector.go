package bpflat

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// Collector measures every block request's latency in the kernel and is
// a perf.Collector: each Collect reads the kernel's histograms, computes
// the interval's, and adds their count, mean and quantiles to the
// snapshot as perf.Values. It is also a latency.Source (cumulative
// histograms for perf/promexport). Its methods are safe for concurrent use.
type Collector struct {
	cfg    config
	layout *layout
	obj    *objects
	alerts *alerting

	mu       sync.Mutex
	closed   bool
	devs     map[uint32]*device
	series   map[seriesKey]*seriesState
	latest   []latency.Series
	interval []latency.Series
	collects uint64
	buf      []byte
	watched  map[uint32]bool // what the kernel's watch map holds (WithDeviceFilter)
}

type device struct {
	name         string
	major, minor uint32
	diskseq      uint64 // 0: the kernel has none (before 5.15)
}

type seriesKey struct {
	dev   uint32
	op    latency.Op
	stage latency.Stage
}

type seriesState struct {
	cum   *latency.Histogram // at the last Collect
	delta latency.Histogram  // the last interval
	win   *window
}

// seriesView is one series' interval, for the alert rules.
type seriesView struct {
	device string
	op     latency.Op
	stage  latency.Stage
	delta  *latency.Histogram
}

// New loads the program, attaches it to block:block_rq_complete (and,
// WithStages Device or Queue, a second one to block:block_rq_issue), and
// starts counting. On a kernel that cannot
// run them the error matches ErrNotSupported and says why; on any error
// nothing stays loaded or attached. Close detaches everything.
func New(opts ...Option) (*Collector, error) {
	cfg := defaults()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	for _, r := range cfg.rules {
		if st := cmp.Or(r.Stage, latency.Total); !slices.Contains(cfg.stages, st) {
			return nil, optErr("rule %q watches the %s stage, which WithStages leaves out", r.Name, st)
		}
	}
	l, err := kernelLayoutOnce()
	if err != nil {
		return nil, err
	}
	alerts, err := newAlerting(cfg.rules, cfg.handlers, cfg.alpha, cfg.warmup, cfg.log)
	if err != nil {
		return nil, err
	}
	obj, err := load(l, loadOptions{maxInFlight: cfg.maxInFlight, maxSeries: cfg.maxSeries, pair: cfg.pair(),
		watch: cfg.keep != nil, fail: cfg.fail})
	if err != nil {
		alerts.stop()
		return nil, err
	}
	c := &Collector{cfg: cfg, layout: l, obj: obj, alerts: alerts,
		devs: map[uint32]*device{}, series: map[seriesKey]*seriesState{}, watched: map[uint32]bool{}}
	// The watch map is filled before the programs see a request.
	err = c.syncWatch()
	if err == nil {
		err = obj.attach(cfg.fail)
	}
	if err != nil {
		obj.close()
		alerts.stop()
		return nil, err
	}
	return c, nil
}

// syncWatch makes the kernel's watch map (WithDeviceFilter) hold the
// devices of /sys/dev/block the filter keeps now: it adds those that
// appeared or now match and removes those that vanished or no longer
// match, deleting their histograms. Without a filter it does nothing.
// Called with mu held, or before the collector is shared.
func (c *Collector) syncWatch() error {
	if c.obj.maps.watch == nil {
		return nil
	}
	dir := c.cfg.root.Sys("dev", "block")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("bpflat: device filter: %w", err)
	}
	want := map[uint32]bool{}
	for _, e := range ents {
		maj, min, ok := parseMajMin(e.Name())
		if !ok {
			continue
		}
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || !c.cfg.keep(filepath.Base(target)) {
			continue
		}
		want[maj<<20|min] = true
	}
	var errs []error
	for dev := range want {
		if c.watched[dev] {
			continue
		}
		if len(c.watched) >= maxWatch {
			errs = append(errs, fmt.Errorf("bpflat: device filter keeps more than %d devices", maxWatch))
			break
		}
		if err := c.obj.maps.watch.Put(dev, uint32(1)); err != nil {
			errs = append(errs, fmt.Errorf("bpflat: watch device %d:%d: %w", dev>>20, dev&(1<<20-1), err))
			continue
		}
		c.watched[dev] = true
	}
	for dev := range c.watched {
		if want[dev] {
			continue
		}
		if err := c.obj.maps.watch.Delete(dev); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("bpflat: unwatch device %d:%d: %w", dev>>20, dev&(1<<20-1), err))
			continue
		}
		delete(c.watched, dev)
		c.forget(dev)
	}
	return errors.Join(errs...)
}

// parseMajMin parses a /sys/dev/block entry's name, "MAJ:MIN".
func parseMajMin(s string) (maj, min uint32, ok bool) {
	a, b, found := strings.Cut(s, ":")
	if !found {
		return 0, 0, false
	}
	x, err1 := strconv.ParseUint(a, 10, 12)
	y, err2 := strconv.ParseUint(b, 10, 20)
	return uint32(x), uint32(y), err1 == nil && err2 == nil
}

// Name implements perf.Collector.
func (c *Collector) Name() string { return "latency" }

// Close detaches the programs and frees their maps; it also stops alert
// delivery after the queued alerts were handled. Later calls return nil.
func (c *Collector) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	err := c.obj.close()
	c.mu.Unlock()
	c.alerts.stop()
	return err
}

// Stats are the kernel side's counts of what it could not measure.
type Stats struct {
	// Unmatched (with the Device or Queue stage only): completions
	// without an issue on record. Requests issued before the collector
	// attached; the original request of an empty
	// flush, which the block layer completes without issuing it (its
	// flush request is issued and measured); requests whose issue was
	// evicted from a full in-flight table (WithMaxInFlight).
	Unmatched uint64
	// IssuesDropped (with stages only): issues that could not be
	// recorded at all.
	IssuesDropped uint64
	// HistogramsFull: completions of a (device, op) pair beyond
	// WithMaxSeries, not counted.
	HistogramsFull uint64
	// Unstamped: completions of requests the kernel did not stamp when it
	// created them (queues with iostats off, passthrough requests): they
	// have no Queue or Total stage, so in the default mode (Total alone)
	// they are not measured.
	Unstamped uint64
}

// Stats reads the kernel's counters.
func (c *Collector) Stats() (Stats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return Stats{}, ErrClosed
	}
	var v [statCount]uint64
	for i := range v {
		if err := c.obj.maps.stats.Lookup(uint32(i), &v[i]); err != nil {
			return Stats{}, fmt.Errorf("bpflat: read stats: %w", err)
		}
	}
	return Stats{Unmatched: v[statUnmatched], IssuesDropped: v[statIssueDropped], HistogramsFull: v[statHistFull],
		Unstamped: v[statUnstamped]}, nil
}

// rawSeries is one (device, op) of the kernel's map, ops grouped.
type rawSeries struct {
	dev    uint32
	op     latency.Op
	hists  [3]*latency.Histogram // by stage-1
	errors uint64
}

// readKernel reads every histogram of the kernel's map; called with mu held.
func (c *Collector) readKernel() ([]*rawSeries, error) {
	if len(c.buf) != valueSize {
		c.buf = make([]byte, valueSize)
	}
	var key [histKeySize]byte
	byKey := map[[2]uint32]*rawSeries{}
	var out []*rawSeries
	it := c.obj.maps.hists.Iterate()
	for it.Next(&key, &c.buf) {
		dev := binary.NativeEndian.Uint32(key[0:])
		op := c.layout.op(binary.NativeEndian.Uint32(key[4:]))
		rs := byKey[[2]uint32{dev, uint32(op)}]
		if rs == nil {
			rs = &rawSeries{dev: dev, op: op}
			for i := range rs.hists {
				rs.hists[i] = new(latency.Histogram)
			}
			byKey[[2]uint32{dev, uint32(op)}] = rs
			out = append(out, rs)
		}
		for st := range 3 {
			h := rs.hists[st]
			base := (st*nb + slotDevice) * 8
			for b := range h.Counts {
				h.Counts[b] += binary.NativeEndian.Uint64(c.buf[base+b*8:])
			}
			h.Sum += binary.NativeEndian.Uint64(c.buf[(slotSums+st)*8:])
		}
		rs.errors += binary.NativeEndian.Uint64(c.buf[slotErrors*8:])
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("bpflat: read histograms: %w", err)
	}
	return out, nil
}

// resolve names a device number from /sys/dev/block; false when no
// device has the number now.
func (c *Collector) resolve(dev uint32) (*device, bool) {
	d := &device{major: dev >> 20, minor: dev & (1<<20 - 1)}
	mm := strconv.FormatUint(uint64(d.major), 10) + ":" + strconv.FormatUint(uint64(d.minor), 10)
	target, err := os.Readlink(c.cfg.root.Sys("dev", "block", mm))
	if err != nil {
		return nil, false
	}
	d.name = filepath.Base(target)
	if s, err := sysfs.ReadAttr(c.cfg.root.Sys("dev", "block", mm, "diskseq")); err == nil {
		d.diskseq, _ = strconv.ParseUint(s, 10, 64)
	}
	return d, true
}

// deviceOf returns the known device of a number, resolving it the first
// time; called with mu held.
func (c *Collector) deviceOf(dev uint32) (*device, bool) {
	if d, ok := c.devs[dev]; ok {
		return d, true
	}
	d, ok := c.resolve(dev)
	if ok {
		c.devs[dev] = d
	}
	return d, ok
}

func (c *Collector) kept(d *device) bool { return c.cfg.keep == nil || c.cfg.keep(d.name) }

// Read returns the cumulative histograms as the kernel has them now, one
// series per device, operation and stage with any request, sorted by
// device, op and stage. The histograms are the caller's. Devices are
// named from /sys/dev/block; a number no device has any more is left out.
func (c *Collector) Read() ([]latency.Series, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if err := c.syncWatch(); err != nil {
		c.cfg.log.Warn("bpflat: updating the watched devices", "err", err)
	}
	raw, err := c.readKernel()
	if err != nil {
		return nil, err
	}
	var out []latency.Series
	for _, rs := range raw {
		d, ok := c.deviceOf(rs.dev)
		if !ok || !c.kept(d) {
			continue
		}
		for st, h := range rs.hists {
			if h.Count() == 0 || !slices.Contains(c.cfg.stages, latency.Stages[st]) {
				continue
			}
			out = append(out, latency.Series{Device: d.name, Major: d.major, Minor: d.minor, Op: rs.op,
				Stage: latency.Stages[st], Hist: h, Errors: rs.errors})
		}
	}
	sortSeries(out)
	return out, nil
}

func sortSeries(s []latency.Series) {
	slices.SortFunc(s, func(a, b latency.Series) int {
		return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.Major, b.Major), cmp.Compare(a.Minor, b.Minor),
			cmp.Compare(a.Op, b.Op), cmp.Compare(a.Stage, b.Stage))
	})
}

// LatencySeries implements latency.Source: the cumulative histograms as of
// the last Collect (none before it). They are shared and read-only.
func (c *Collector) LatencySeries() []latency.Series {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latest
}

// Interval returns the histograms of the last Collect's interval (the
// first Collect's covers the time since New), sorted as Read's. They are
// shared and read-only.
func (c *Collector) Interval() []latency.Series {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.interval
}

// Window merges the last WithWindow intervals of one series: quantiles of
// every request in them, not of per-interval values. False when the
// series is unknown.
func (c *Collector) Window(device string, op latency.Op, stage latency.Stage) (*latency.Histogram, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.series {
		if k.op == op && k.stage == stage && c.devs[k.dev] != nil && c.devs[k.dev].name == device {
			h := s.win.sum
			return &h, true
		}
	}
	return nil, false
}

// Firing lists the alerts of WithRules firing now.
func (c *Collector) Firing() []Alert {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.alerts.firing()
}

// FiringAlerts is Firing as perf events (perf/promexport exports them).
func (c *Collector) FiringAlerts() []perf.AlertEvent {
	var out []perf.AlertEvent
	for _, a := range c.Firing() {
		out = append(out, a.AlertEvent)
	}
	return out
}

// Collect implements perf.Collector. It reads the kernel's histograms,
// takes the interval's as the difference from the previous Collect, feeds
// the windows and the alert rules, and appends to s.Values, for every
// device, op and stage with any request since New: the interval's count
// (ValueName(stage, op, StatCount)) and, when it is not zero, the mean
// and the p50, p95 and p99 in seconds.
func (c *Collector) Collect(ctx context.Context, s *perf.Snapshot) error {
	at := s.Time
	if at.IsZero() {
		at = time.Now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if err := c.syncWatch(); err != nil {
		c.cfg.log.Warn("bpflat: updating the watched devices", "err", err)
	}
	raw, err := c.readKernel()
	if err != nil {
		return err
	}
	c.collects++
	gone := c.revalidate(raw)

	var latest, interval []latency.Series
	var views []seriesView
	live := map[seriesKey]bool{}
	for _, rs := range raw {
		d, ok := c.deviceOf(rs.dev)
		if !ok {
			c.forget(rs.dev) // the number has no device: its counts are final
			continue
		}
		if !c.kept(d) {
			continue
		}
		for st, h := range rs.hists {
			if h.Count() == 0 || !slices.Contains(c.cfg.stages, latency.Stages[st]) {
				continue
			}
			k := seriesKey{rs.dev, rs.op, latency.Stages[st]}
			live[k] = true
			ss := c.series[k]
			if ss == nil {
				ss = &seriesState{cum: new(latency.Histogram), win: newWindow(c.cfg.window)}
				c.series[k] = ss
			}
			ss.delta.Delta(h, ss.cum)
			ss.cum = h
			ss.win.add(&ss.delta)
			base := latency.Series{Device: d.name, Major: d.major, Minor: d.minor, Op: rs.op, Stage: k.stage, Errors: rs.errors}
			cs, is := base, base
			cs.Hist = h
			delta := ss.delta
			is.Hist = &delta
			latest = append(latest, cs)
			interval = append(interval, is)
		}
	}
	for k := range c.series {
		if !live[k] {
			delete(c.series, k)
		}
	}
	sortSeries(latest)
	sortSeries(interval)
	c.latest, c.interval = latest, interval
	for i := range interval {
		iv := &interval[i]
		views = append(views, seriesView{device: iv.Device, op: iv.Op, stage: iv.Stage, delta: iv.Hist})
		s.Values = appendValues(s.Values, iv)
	}
	// The rules' transitions join the snapshot's Alerts, and the Monitor
	// adds FiringAlerts to its Firing (perf.AlertSource), so latency alerts
	// reach the Monitor's subscribers, sinks and alert handlers as its own
	// rules' alerts do.
	s.Alerts = c.alerts.observe(at, views, gone, s.Alerts)
	return ctx.Err()
}

// revalidate checks, every WithRevalidateEvery Collects, that each known
// number still names the same device; the histograms of one that vanished
// or was replaced are deleted in the kernel, so they restart. It returns
// the changes for the alert rules. Called with mu held.
func (c *Collector) revalidate(raw []*rawSeries) []perf.DeviceChange {
	if c.cfg.revalidate == 0 || c.collects%uint64(c.cfg.revalidate) != 0 {
		return nil
	}
	var gone []perf.DeviceChange
	for dev, d := range c.devs {
		now, ok := c.resolve(dev)
		switch {
		case !ok:
			gone = append(gone, perf.DeviceChange{Name: d.name, Change: perf.Vanished})
		case now.name != d.name || now.diskseq != d.diskseq:
			gone = append(gone, perf.DeviceChange{Name: d.name, Change: perf.Restarted})
		default:
			continue
		}
		c.forget(dev)
		// What this read holds of it mixes the old device and the new.
		for _, rs := range raw {
			if rs.dev == dev {
				for _, h := range rs.hists {
					h.Reset()
				}
			}
		}
	}
	return gone
}

// forget deletes a device number's histograms in the kernel and here.
func (c *Collector) forget(dev uint32) {
	delete(c.devs, dev)
	for k := range c.series {
		if k.dev == dev {
			delete(c.series, k)
		}
	}
	var key [histKeySize]byte
	var keys [][histKeySize]byte
	it := c.obj.maps.hists.Iterate()
	for it.Next(&key, &c.buf) {
		if binary.NativeEndian.Uint32(key[:]) == dev {
			keys = append(keys, key)
		}
	}
	for _, k := range keys {
		if err := c.obj.maps.hists.Delete(k); err != nil && !errors.Is(err, os.ErrNotExist) {
			c.cfg.log.Warn("bpflat: deleting histograms", "dev", dev, "err", err)
		}
	}
}

// Stat names one of the per-interval numbers Collect adds to snapshots.
type Stat string

const (
	StatCount Stat = "count"        // requests completed in the interval
	StatMean  Stat = "mean_seconds" // their mean latency (exact)
	StatP50   Stat = "p50_seconds"  // quantiles: bucket estimates, see latency.RelativeError
	StatP95   Stat = "p95_seconds"
	StatP99   Stat = "p99_seconds"
)

// ValueName is the perf.Value name Collect uses for a number of one
// stage and op: "latency_device_read_p99_seconds".
func ValueName(stage latency.Stage, op latency.Op, s Stat) string {
	return "latency_" + stage.String() + "_" + op.String() + "_" + string(s)
}

func appendValues(vs []perf.Value, iv *latency.Series) []perf.Value {
	h := iv.Hist
	n := h.Count()
	vs = append(vs, perf.Value{Name: ValueName(iv.Stage, iv.Op, StatCount), Device: iv.Device, Value: float64(n)})
	if n == 0 {
		return vs // no latency in an idle interval: absent, not zero
	}
	for _, q := range []struct {
		s Stat
		v time.Duration
	}{{StatMean, h.Mean()}, {StatP50, h.Quantile(0.5)}, {StatP95, h.Quantile(0.95)}, {StatP99, h.Quantile(0.99)}} {
		vs = append(vs, perf.Value{Name: ValueName(iv.Stage, iv.Op, q.s), Device: iv.Device, Value: q.v.Seconds()})
	}
	return vs
}

var (
	_ perf.Collector = (*Collector)(nil)
	_ latency.Source = (*Collector)(nil)
)
