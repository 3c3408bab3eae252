package promexport

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// ErrInvalidOption reports an option New rejected.
var ErrInvalidOption = errors.New("promexport: invalid option")

// Option configures an Exporter.
type Option func(*Exporter) error

// WithPrefix sets the namespace of the iostat gauges (default "eos_storage").
func WithPrefix(p string) Option {
	return func(e *Exporter) error {
		if !regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`).MatchString(p) {
			return fmt.Errorf("%w: prefix %q is not a metric name", ErrInvalidOption, p)
		}
		e.prefix = p
		return nil
	}
}

// WithLatency exports src's per-request latency histograms (such as a
// perf/bpflat Collector's) as Prometheus histograms, read from src at each
// scrape; a src that also has FiringAlerts() []perf.AlertEvent adds its
// alerts to the alert gauge.
func WithLatency(src latency.Source) Option {
	return func(e *Exporter) error {
		if src == nil {
			return fmt.Errorf("%w: nil latency source", ErrInvalidOption)
		}
		e.latency = src
		return nil
	}
}

// WithLatencyBuckets sets the latency histograms' bucket bounds ("le").
// Each bound is moved down to the nearest bound of latency's own buckets
// at or below it, so that every exported count is exact: 1 ms becomes
// 983.04 us, the lower bound of the bucket that holds 1 ms. The default is
// every power of two from 2^10 ns (1.024 us) to 2^35 ns (34.4 s).
func WithLatencyBuckets(bounds ...time.Duration) Option {
	return func(e *Exporter) error {
		if len(bounds) == 0 {
			return fmt.Errorf("%w: no latency buckets", ErrInvalidOption)
		}
		var b []uint64
		for _, d := range bounds {
			if d <= 0 || uint64(d) >= latency.OverflowNanos {
				return fmt.Errorf("%w: latency bucket %v not in (0, %v)", ErrInvalidOption, d, time.Duration(latency.OverflowNanos))
			}
			lo, _ := latency.BucketBounds(latency.BucketIndex(uint64(d)))
			b = append(b, lo)
		}
		slices.Sort(b)
		e.latencyBounds = slices.Compact(b)
		return nil
	}
}

// Exporter is a perf.Sink and a prometheus.Collector.
type Exporter struct {
	prefix        string
	latency       latency.Source
	latencyBounds []uint64 // nanoseconds, ascending

	mu     sync.Mutex
	latest *perf.Snapshot
	firing map[[2]string]perf.Severity // rule, device

	raw    []rawDesc
	gauges []gaugeDesc
	fs     []fsDesc
	scsi   [3]*prometheus.Desc
	alert  *prometheus.Desc

	latencyHist   [3]*prometheus.Desc // by latency.Stage - 1
	latencyErrors *prometheus.Desc
}

type rawDesc struct {
	desc  *prometheus.Desc
	typ   prometheus.ValueType
	need  func(*perf.DiskStat) bool
	value func(*perf.DiskStat) float64
}

type gaugeDesc struct {
	desc  *prometheus.Desc
	need  func(*perf.Rates) bool
	value func(*perf.Rates) float64
}

type fsDesc struct {
	desc  *prometheus.Desc
	value func(*perf.FSUsage) float64
}

// New returns an Exporter with no data until its first Write.
func New(opts ...Option) (*Exporter, error) {
	e := &Exporter{prefix: "eos_storage", firing: map[[2]string]perf.Severity{}}
	for _, o := range opts {
		if err := o(e); err != nil {
			return nil, err
		}
	}
	if e.latencyBounds == nil {
		for p := 10; p <= 35; p++ {
			e.latencyBounds = append(e.latencyBounds, 1<<p)
		}
	}
	e.build()
	return e, nil
}

func always(*perf.DiskStat) bool    { return true }
func ext(d *perf.DiskStat) bool     { return d.HasExtended() }
func discard(d *perf.DiskStat) bool { return d.HasDiscard() }
func flush(d *perf.DiskStat) bool   { return d.HasFlush() }
func rAlways(*perf.Rates) bool      { return true }
func rExt(r *perf.Rates) bool       { return r.HasExtended() }
func rDiscard(r *perf.Rates) bool   { return r.HasDiscard() }
func rFlush(r *perf.Rates) bool     { return r.HasFlush() }
func ms(v uint64) float64           { return float64(v) / 1000 }
func sectors(v uint64) float64      { return float64(v) * perf.SectorSize }

func (e *Exporter) build() {
	dev := []string{"device"}
	node := func(name, help string, typ prometheus.ValueType, need func(*perf.DiskStat) bool, v func(*perf.DiskStat) float64) {
		e.raw = append(e.raw, rawDesc{prometheus.NewDesc("node_disk_"+name, help, dev, nil), typ, need, v})
	}
	c, g := prometheus.CounterValue, prometheus.GaugeValue
	node("reads_completed_total", "The total number of reads completed successfully.", c, always, func(d *perf.DiskStat) float64 { return float64(d.ReadIOs) })
	node("reads_merged_total", "The total number of reads merged.", c, ext, func(d *perf.DiskStat) float64 { return float64(d.ReadMerges) })
	node("read_bytes_total", "The total number of bytes read successfully.", c, always, func(d *perf.DiskStat) float64 { return sectors(d.ReadSectors) })
	node("read_time_seconds_total", "The total number of seconds spent by all reads.", c, ext, func(d *perf.DiskStat) float64 { return ms(d.ReadTicks) })
	node("writes_completed_total", "The total number of writes completed successfully.", c, always, func(d *perf.DiskStat) float64 { return float64(d.WriteIOs) })
	node("writes_merged_total", "The number of writes merged.", c, ext, func(d *perf.DiskStat) float64 { return float64(d.WriteMerges) })
	node("written_bytes_total", "The total number of bytes written successfully.", c, always, func(d *perf.DiskStat) float64 { return sectors(d.WriteSectors) })
	node("write_time_seconds_total", "This is the total number of seconds spent by all writes.", c, ext, func(d *perf.DiskStat) float64 { return ms(d.WriteTicks) })
	node("io_now", "The number of I/Os currently in progress.", g, ext, func(d *perf.DiskStat) float64 { return float64(d.InFlight) })
	node("io_time_seconds_total", "Total seconds spent doing I/Os.", c, ext, func(d *perf.DiskStat) float64 { return ms(d.IOTicks) })
	node("io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", c, ext, func(d *perf.DiskStat) float64 { return ms(d.TimeInQueue) })
	node("discards_completed_total", "The total number of discards completed successfully.", c, discard, func(d *perf.DiskStat) float64 { return float64(d.DiscardIOs) })
	node("discards_merged_total", "The total number of discards merged.", c, discard, func(d *perf.DiskStat) float64 { return float64(d.DiscardMerges) })
	node("discarded_sectors_total", "The total number of sectors discarded successfully.", c, discard, func(d *perf.DiskStat) float64 { return float64(d.DiscardSectors) })
	node("discard_time_seconds_total", "This is the total number of seconds spent by all discards.", c, discard, func(d *perf.DiskStat) float64 { return ms(d.DiscardTicks) })
	node("flush_requests_total", "The total number of flush requests completed successfully", c, flush, func(d *perf.DiskStat) float64 { return float64(d.FlushIOs) })
	node("flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.", c, flush, func(d *perf.DiskStat) float64 { return ms(d.FlushTicks) })

	gauge := func(name, help string, need func(*perf.Rates) bool, v func(*perf.Rates) float64) {
		e.gauges = append(e.gauges, gaugeDesc{prometheus.NewDesc(e.prefix+"_disk_"+name, help, dev, nil), need, v})
	}
	gauge("reads_per_second", "Reads completed per second (iostat r/s).", rAlways, func(r *perf.Rates) float64 { return r.ReadsPerSec })
	gauge("writes_per_second", "Writes completed per second (iostat w/s).", rAlways, func(r *perf.Rates) float64 { return r.WritesPerSec })
	gauge("discards_per_second", "Discards completed per second (iostat d/s).", rDiscard, func(r *perf.Rates) float64 { return r.DiscardsPerSec })
	gauge("flushes_per_second", "Flush requests completed per second (iostat f/s).", rFlush, func(r *perf.Rates) float64 { return r.FlushesPerSec })
	gauge("read_bytes_per_second", "Bytes read per second (iostat rkB/s x 1024).", rAlways, func(r *perf.Rates) float64 { return r.ReadBytesPerSec })
	gauge("written_bytes_per_second", "Bytes written per second (iostat wkB/s x 1024).", rAlways, func(r *perf.Rates) float64 { return r.WriteBytesPerSec })
	gauge("discarded_bytes_per_second", "Bytes discarded per second (iostat dkB/s x 1024).", rDiscard, func(r *perf.Rates) float64 { return r.DiscardBytesPerSec })
	gauge("read_merges_per_second", "Read requests merged per second (iostat rrqm/s).", rExt, func(r *perf.Rates) float64 { return r.ReadMergesPerSec })
	gauge("write_merges_per_second", "Write requests merged per second (iostat wrqm/s).", rExt, func(r *perf.Rates) float64 { return r.WriteMergesPerSec })
	gauge("discard_merges_per_second", "Discard requests merged per second (iostat drqm/s).", rDiscard, func(r *perf.Rates) float64 { return r.DiscardMergesPerSec })
	gauge("read_merges_ratio", "Share of read requests merged (iostat %rrqm / 100).", rExt, func(r *perf.Rates) float64 { return r.ReadMergePct / 100 })
	gauge("write_merges_ratio", "Share of write requests merged (iostat %wrqm / 100).", rExt, func(r *perf.Rates) float64 { return r.WriteMergePct / 100 })
	gauge("discard_merges_ratio", "Share of discard requests merged (iostat %drqm / 100).", rDiscard, func(r *perf.Rates) float64 { return r.DiscardMergePct / 100 })
	gauge("read_await_seconds", "Mean time of the reads completed in the interval (iostat r_await / 1000).", rExt, func(r *perf.Rates) float64 { return r.ReadAwait / 1000 })
	gauge("write_await_seconds", "Mean time of the writes completed in the interval (iostat w_await / 1000).", rExt, func(r *perf.Rates) float64 { return r.WriteAwait / 1000 })
	gauge("discard_await_seconds", "Mean time of the discards completed in the interval (iostat d_await / 1000).", rDiscard, func(r *perf.Rates) float64 { return r.DiscardAwait / 1000 })
	gauge("flush_await_seconds", "Mean time of the flushes completed in the interval (iostat f_await / 1000).", rFlush, func(r *perf.Rates) float64 { return r.FlushAwait / 1000 })
	gauge("await_seconds", "Mean time of reads, writes and discards completed in the interval.", rExt, func(r *perf.Rates) float64 { return r.Await / 1000 })
	gauge("read_request_size_bytes", "Mean size of the reads completed in the interval (iostat rareq-sz x 1024).", rAlways, func(r *perf.Rates) float64 { return r.ReadReqSizeKB * 1024 })
	gauge("write_request_size_bytes", "Mean size of the writes completed in the interval (iostat wareq-sz x 1024).", rAlways, func(r *perf.Rates) float64 { return r.WriteReqSizeKB * 1024 })
	gauge("discard_request_size_bytes", "Mean size of the discards completed in the interval (iostat dareq-sz x 1024).", rDiscard, func(r *perf.Rates) float64 { return r.DiscardReqSizeKB * 1024 })
	gauge("queue_size", "Mean number of requests in the device queue (iostat aqu-sz).", rExt, func(r *perf.Rates) float64 { return r.QueueSize })
	gauge("utilization_ratio", "Share of the interval the device was busy (iostat %util / 100).", rExt, func(r *perf.Rates) float64 { return r.Util / 100 })
	gauge("tps", "Reads, writes and discards per second; flushes excluded (iostat tps).", rAlways, func(r *perf.Rates) float64 { return r.TPS })
	gauge("iops", "Every completed request per second, flushes included.", rAlways, func(r *perf.Rates) float64 { return r.IOPS })
	gauge("interval_seconds", "The measured interval these gauges cover.", rAlways, func(r *perf.Rates) float64 { return r.Interval.Seconds() })

	fsl := []string{"device", "mountpoint", "fstype"}
	fsd := func(name, help string, v func(*perf.FSUsage) float64) {
		e.fs = append(e.fs, fsDesc{prometheus.NewDesc("node_filesystem_"+name, help, fsl, nil), v})
	}
	fsd("size_bytes", "Filesystem size in bytes.", func(u *perf.FSUsage) float64 { return float64(u.SizeBytes) })
	fsd("free_bytes", "Filesystem free space in bytes.", func(u *perf.FSUsage) float64 { return float64(u.FreeBytes) })
	fsd("avail_bytes", "Filesystem space available to non-root users in bytes.", func(u *perf.FSUsage) float64 { return float64(u.AvailBytes) })
	fsd("files", "Filesystem total file nodes.", func(u *perf.FSUsage) float64 { return float64(u.Files) })
	fsd("files_free", "Filesystem total free file nodes.", func(u *perf.FSUsage) float64 { return float64(u.FilesFree) })

	e.scsi = [3]*prometheus.Desc{
		prometheus.NewDesc(e.prefix+"_disk_scsi_requests_total", "SCSI commands issued (device/iorequest_cnt).", dev, nil),
		prometheus.NewDesc(e.prefix+"_disk_scsi_done_total", "SCSI commands completed (device/iodone_cnt).", dev, nil),
		prometheus.NewDesc(e.prefix+"_disk_scsi_errors_total", "SCSI commands completed with an error (device/ioerr_cnt).", dev, nil),
	}
	e.alert = prometheus.NewDesc(e.prefix+"_alert_firing", "1 while an alert rule fires on a device.", []string{"rule", "device", "severity"}, nil)

	lat := []string{"device", "op"}
	e.latencyHist = [3]*prometheus.Desc{
		prometheus.NewDesc(e.prefix+"_disk_request_device_seconds",
			"Time from a block request's issue to the driver to its completion (block_rq_issue to block_rq_complete).", lat, nil),
		prometheus.NewDesc(e.prefix+"_disk_request_queue_seconds",
			"Time from a block request's creation to its issue to the driver.", lat, nil),
		prometheus.NewDesc(e.prefix+"_disk_request_total_seconds",
			"Time from a block request's creation to its completion (what iostat's await averages).", lat, nil),
	}
	e.latencyErrors = prometheus.NewDesc(e.prefix+"_disk_request_errors_total", "Block requests that completed with an error.", lat, nil)
}

// Write implements perf.Sink: it keeps s for the next scrape. The firing
// alerts come from s.Firing, the complete set, when s has it (every
// Monitor snapshot does), so snapshots skipped by a slow sink lose
// nothing; otherwise from the transitions in s.Alerts.
func (e *Exporter) Write(_ context.Context, s *perf.Snapshot) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.latest = s
	if s.Firing != nil {
		// The complete set: right even when snapshots were skipped.
		clear(e.firing)
		for _, a := range s.Firing {
			e.firing[[2]string{a.Rule, a.Device}] = a.Severity
		}
		return nil
	}
	// A snapshot without the set (built by hand): replay its transitions.
	for _, a := range s.Alerts {
		k := [2]string{a.Rule, a.Device}
		if a.State == perf.Firing {
			e.firing[k] = a.Severity
		} else {
			delete(e.firing, k)
		}
	}
	return nil
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range e.raw {
		ch <- d.desc
	}
	for _, d := range e.gauges {
		ch <- d.desc
	}
	for _, d := range e.fs {
		ch <- d.desc
	}
	for _, d := range e.scsi {
		ch <- d
	}
	ch <- e.alert
	if e.latency != nil {
		for _, d := range e.latencyHist {
			ch <- d
		}
		ch <- e.latencyErrors
	}
}

// Collect implements prometheus.Collector.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	s := e.latest
	firing := make(map[[2]string]perf.Severity, len(e.firing))
	for k, v := range e.firing {
		firing[k] = v
	}
	e.mu.Unlock()
	emit := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		if m, err := prometheus.NewConstMetric(d, t, v, labels...); err == nil {
			ch <- m
		}
	}
	if e.latency != nil {
		e.collectLatency(ch, emit, firing)
	}
	if s == nil {
		for k, sev := range firing {
			emit(e.alert, prometheus.GaugeValue, 1, k[0], k[1], sev.String())
		}
		return
	}
	for i := range s.Disks {
		dm := &s.Disks[i]
		name := dm.Stat.Name
		for _, r := range e.raw {
			if r.need(&dm.Stat) {
				emit(r.desc, r.typ, r.value(&dm.Stat), name)
			}
		}
		if dm.HasRates {
			for _, g := range e.gauges {
				if g.need(&dm.Rates) {
					emit(g.desc, prometheus.GaugeValue, g.value(&dm.Rates), name)
				}
			}
		}
		if dm.SCSI != nil {
			emit(e.scsi[0], prometheus.CounterValue, float64(dm.SCSI.IORequests), name)
			emit(e.scsi[1], prometheus.CounterValue, float64(dm.SCSI.IODone), name)
			emit(e.scsi[2], prometheus.CounterValue, float64(dm.SCSI.IOErrors), name)
		}
	}
	for i := range s.Filesystems {
		u := &s.Filesystems[i]
		for _, f := range e.fs {
			emit(f.desc, prometheus.GaugeValue, f.value(u), u.Source, u.MountPoint, u.FSType)
		}
	}
	for k, sev := range firing {
		emit(e.alert, prometheus.GaugeValue, 1, k[0], k[1], sev.String())
	}
}

// firingSource is a latency source with alert rules (perf/bpflat's
// Collector).
type firingSource interface {
	FiringAlerts() []perf.AlertEvent
}

// collectLatency exports the source's histograms and adds its firing
// alerts to firing.
func (e *Exporter) collectLatency(ch chan<- prometheus.Metric, emit func(*prometheus.Desc, prometheus.ValueType, float64, ...string),
	firing map[[2]string]perf.Severity) {
	errs := map[[2]string]uint64{}
	for _, s := range e.latency.LatencySeries() {
		if s.Hist == nil || s.Stage < latency.Device || s.Stage > latency.Total {
			continue
		}
		op := s.Op.String()
		errs[[2]string{s.Device, op}] = s.Errors
		n := s.Hist.Count()
		if n == 0 {
			continue
		}
		buckets := make(map[float64]uint64, len(e.latencyBounds))
		for _, b := range e.latencyBounds {
			buckets[float64(b)/1e9] = s.Hist.CountBelow(b)
		}
		if m, err := prometheus.NewConstHistogram(e.latencyHist[s.Stage-1], n, float64(s.Hist.Sum)/1e9, buckets, s.Device, op); err == nil {
			ch <- m
		}
	}
	for k, n := range errs {
		emit(e.latencyErrors, prometheus.CounterValue, float64(n), k[0], k[1])
	}
	if f, ok := e.latency.(firingSource); ok {
		for _, a := range f.FiringAlerts() {
			firing[[2]string{a.Rule, a.Device}] = a.Severity
		}
	}
}

var (
	_ perf.Sink            = (*Exporter)(nil)
	_ prometheus.Collector = (*Exporter)(nil)
)
