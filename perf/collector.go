package perf

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// AlertSource is a collector that evaluates alert rules of its own (on
// signals the Monitor's rules cannot see, such as perf/bpflat's latency
// quantiles). Its transitions are appended to the snapshot's Alerts during
// Collect; the Monitor adds FiringAlerts to each snapshot's Firing, and its
// alert handlers receive the collector's transitions with its own.
type AlertSource interface {
	FiringAlerts() []AlertEvent
}

// Collector is a source of metrics (the design's MetricCollector). The
// Monitor calls Collect once per interval, from one goroutine, with the
// snapshot being built; a collector appends its part (Disks, Filesystems or
// Values). A collector that needs cleanup also implements io.Closer; the
// Monitor closes its collectors when it stops.
type Collector interface {
	Name() string
	Collect(ctx context.Context, s *Snapshot) error
}

// Snapshot is what a Monitor publishes each interval. Subscribers share one
// Snapshot value and must treat it as read-only.
type Snapshot struct {
	Seq      uint64        // 1 for the first snapshot
	Time     time.Time     // when sampling started (monotonic reading included)
	Interval time.Duration // measured since the previous snapshot; 0 for the first

	Disks       []DiskMetrics
	Changes     []DeviceChange // devices that appeared, restarted or vanished
	Filesystems []FSUsage
	Values      []Value      // from callers' own collectors
	Alerts      []AlertEvent // transitions in this interval
	// Firing is every alert firing at the end of this interval (State
	// Firing), non-nil in a Monitor's snapshots even when empty. A
	// consumer that may miss snapshots (a Sink or subscriber that fell
	// behind) uses it instead of replaying Alerts, whose transitions it
	// may have missed.
	Firing []AlertEvent
	Errors []CollectError // collectors that failed this interval
}

// Disk returns the metrics of the named device, or nil.
func (s *Snapshot) Disk(name string) *DiskMetrics {
	for i := range s.Disks {
		if s.Disks[i].Stat.Name == name {
			return &s.Disks[i]
		}
	}
	return nil
}

// DiskMetrics is one device in a snapshot: its raw counters and, from its
// second sample on, its rates.
type DiskMetrics struct {
	Stat     DiskStat
	Rates    Rates
	HasRates bool        // false on the device's first sample (or after a restart)
	SCSI     *SCSIErrors // nil unless enabled and the device has the counters
}

// Value is a free-form metric from a caller's collector.
type Value struct {
	Name   string
	Device string // optional
	Value  float64
}

// CollectError records a collector that failed in one interval.
type CollectError struct {
	Collector string
	Err       error
}

// DiskOption configures a DiskstatsCollector.
type DiskOption func(*DiskstatsCollector) error

// WithDiskseqEvery re-reads every device's diskseq each n samples to notice a
// name reused by another device whose counters happen to be higher (0: only
// when a device appears or restarts). Default 100 (10 s at 10 Hz): one sysfs
// read per device per check is the most expensive part of sampling, and a
// reused name whose counters did not go down still gives correct rates;
// only its baselines would carry over until the next check. The checks are
// spread over the samples (each sample reads 1/n of the devices), so no
// sample stalls on all of them at once.
func WithDiskseqEvery(n int) DiskOption {
	return func(c *DiskstatsCollector) error {
		if n < 0 {
			return optErr("diskseq interval %d < 0", n)
		}
		c.seqEvery = n
		return nil
	}
}

// WithSCSIErrors reads the SCSI error counters of whole disks each n samples
// (0 disables, the default: they cost three file reads per disk).
func WithSCSIErrors(n int) DiskOption {
	return func(c *DiskstatsCollector) error {
		if n < 0 {
			return optErr("SCSI counter interval %d < 0", n)
		}
		c.scsiEvery = n
		return nil
	}
}

// WithDeviceFilter keeps only devices for which keep returns true.
func WithDeviceFilter(keep func(name string) bool) DiskOption {
	return func(c *DiskstatsCollector) error {
		if keep == nil {
			return optErr("nil device filter")
		}
		c.keep = keep
		return nil
	}
}

// DiskstatsCollector is the Collector of /proc/diskstats: raw counters and
// iostat rates of every device.
type DiskstatsCollector struct {
	root      sysfs.Root
	reader    *StatReader
	rater     *Rater
	sample    Sample
	kept      Sample
	rates     []Rates
	seqEvery  int
	scsiEvery int
	keep      func(string) bool
	n         uint64
	scsi      map[string]SCSIErrors
}

// NewDiskstatsCollector opens /proc/diskstats under rootDir ("" for the
// live system).
func NewDiskstatsCollector(rootDir string, opts ...DiskOption) (*DiskstatsCollector, error) {
	root, err := newRoot(rootDir)
	if err != nil {
		return nil, err
	}
	return newDiskstatsCollector(root, opts...)
}

func newDiskstatsCollector(root sysfs.Root, opts ...DiskOption) (*DiskstatsCollector, error) {
	c := &DiskstatsCollector{root: root, seqEvery: 100}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	r, err := openStat(root.Proc("diskstats"), "")
	if err != nil {
		return nil, err
	}
	r.reuse = true // c.sample is ours: unchanged lines keep their values
	c.reader = r
	c.rater = NewRater(c.diskseq, c.seqEvery)
	return c, nil
}

func (c *DiskstatsCollector) diskseq(name string) (uint64, bool) {
	s, err := sysfs.ReadAttr(c.root.Sys("class", "block", name, "diskseq"))
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// Name implements Collector.
func (c *DiskstatsCollector) Name() string { return "diskstats" }

// Close releases the kept-open descriptor.
func (c *DiskstatsCollector) Close() error { return c.reader.Close() }

// Sample reads the counters and computes rates without a snapshot, with no
// allocation in the steady state. The returned slices are valid until the
// next call, and the caller may sort or change them: they are a copy, not
// the buffer the next page is parsed into, whose unchanged lines keep the
// values they had (see StatReader).
func (c *DiskstatsCollector) Sample() (*Sample, []Rates, error) {
	sm, rates, err := c.read()
	if err != nil {
		return nil, nil, err
	}
	if sm == &c.sample {
		c.kept.Time = c.sample.Time
		c.kept.Disks = append(c.kept.Disks[:0], c.sample.Disks...)
		sm = &c.kept
	}
	return sm, rates, nil
}

// read is Sample for Collect, which only reads the result: without a
// filter it is the parse buffer itself, which no caller may change.
func (c *DiskstatsCollector) read() (*Sample, []Rates, error) {
	if err := c.reader.Read(&c.sample); err != nil {
		return nil, nil, err
	}
	sm := &c.sample
	if c.keep != nil {
		// Filter into a second buffer: the parse buffer keeps its names in
		// place, which is what keeps parsing allocation-free.
		c.kept.Time = c.sample.Time
		c.kept.Disks = c.kept.Disks[:0]
		for i := range c.sample.Disks {
			if c.keep(c.sample.Disks[i].Name) {
				c.kept.Disks = append(c.kept.Disks, c.sample.Disks[i])
			}
		}
		sm = &c.kept
	}
	c.rates = c.rater.Update(sm, c.rates[:0])
	return sm, c.rates, nil
}

// Collect implements Collector.
func (c *DiskstatsCollector) Collect(ctx context.Context, s *Snapshot) error {
	sm, rates, err := c.read()
	if err != nil {
		return err
	}
	c.n++
	readSCSI := c.scsiEvery > 0 && (c.n-1)%uint64(c.scsiEvery) == 0
	if readSCSI && c.scsi == nil {
		c.scsi = map[string]SCSIErrors{}
	}
	s.Changes = append(s.Changes, c.rater.Changes()...)
	// Fill the snapshot's slots in place: a DiskMetrics is over 500 bytes,
	// and building each one aside and appending it copied every device twice.
	n0 := len(s.Disks)
	s.Disks = slices.Grow(s.Disks, len(sm.Disks))[:n0+len(sm.Disks)]
	j := 0
	for i := range sm.Disks {
		d := &s.Disks[n0+i]
		d.Stat = sm.Disks[i]
		d.SCSI = nil
		if j < len(rates) && rates[j].Name == d.Stat.Name {
			d.Rates, d.HasRates = rates[j], true
			j++
		} else {
			d.Rates, d.HasRates = Rates{}, false
		}
		if c.scsiEvery > 0 {
			if readSCSI {
				e, err := readSCSIErrors(c.root, d.Stat.Name)
				if err == nil {
					c.scsi[d.Stat.Name] = e
				} else if errors.Is(err, ErrNotSupported) || errors.Is(err, fs.ErrNotExist) {
					delete(c.scsi, d.Stat.Name)
				}
			}
			if e, ok := c.scsi[d.Stat.Name]; ok {
				d.SCSI = &e
			}
		}
	}
	for _, ch := range c.rater.Changes() {
		if ch.Change == Vanished {
			delete(c.scsi, ch.Name)
		}
	}
	return ctx.Err()
}
