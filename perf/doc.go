// Package perf measures block-device I/O the way iostat and node_exporter do,
// cheaply enough to run all the time, and turns the numbers into windows,
// baselines and alerts.
//
// # Sampling
//
// StatReader keeps /proc/diskstats (or one device's /sys/class/block/DEV/stat)
// open and re-reads it with a single pread at offset 0 into a reused buffer,
// then parses it in place into the caller's Sample (ParseDiskstats). In the
// steady state a sample costs one system call and no allocation: device names
// are reused from the previous sample when unchanged. A DiskstatsCollector
// also keeps the previous page and does not parse a line again that did not
// change (an idle device's line): its values are still in the Sample's slot,
// and the Rater gives an idle device its zero rates without arithmetic.
// Where positional reads
// fail it falls back to reopening the file on every read. Every path comes
// from an internal/sysfs Root, so fake trees and other roots work.
//
// All kernel formats are read: 14 fields, 18 (discards, 4.18+), 20 (flushes,
// 5.5+) and the 7-field partition lines of old kernels. DiskStat.Fields
// records what the kernel gave; counters it did not give are zero and the
// Has* methods say so, and nothing here reports them.
//
// Sample.Time carries Go's monotonic clock reading, so the interval between
// two samples is measured, not assumed, and wall-clock steps do not distort it.
//
// # Rates
//
// ComputeRates gives the numbers of `iostat -x` (r/s ... %util, tps) with
// sysstat's formulas, plus IOPS (every completed request, flushes included,
// where tps excludes flushes as iostat does) and bytes per second. The
// kernel's millisecond fields are 32-bit and wrap; their deltas are taken
// modulo 2^32. The request counters are unsigned long, which on a 64-bit
// kernel never wrap: Rater takes any of them going down for a new device
// behind the name (only a 32-bit process, whose kernel may be 32-bit,
// takes a drop from below 2^32 for a wrap). Rater keeps the previous sample of every device:
// a device that appears gives no rates until its second sample (no
// since-boot spike), a vanished device is dropped, and a name taken over by
// another device (major:minor or diskseq changed, or every counter went down)
// restarts from its new counters.
//
// Differences from sysstat: sysstat measures the interval with /proc/uptime
// (10 ms resolution), we with the monotonic clock (nanoseconds); on a
// one-second interval the two can differ by up to about 1%. %util is capped
// at 100 here; sysstat 12.6 prints whatever io_ticks gives (300.00 for a
// device whose io_ticks grew 3 s in one second). io_ticks cannot outgrow
// time on a real device, so a value over 100 is an accounting artifact, and
// the cap keeps alert rules on %util from seeing an impossible value.
// TestRatesMatchSysstatOnCraftedCounters runs sysstat's iostat on crafted
// counter pairs (every 32-bit millisecond field wrapping among them) and
// checks every other number against it.
//
// # Windows and percentiles
//
// A Window holds the last N interval values of one metric of one device and
// gives their mean, min, max and p50/p95/p99. diskstats only gives totals
// per interval, so every value is an interval average (the mean await of the
// requests completed in that interval, the IOPS over that interval). A p99
// here is the 99th percentile of interval averages by nearest rank, the
// smallest value that at least 99% of the last N intervals are at or below.
// It is not a per-request latency percentile; a few slow requests in a busy
// interval are averaged away. The Monitor keeps a window per device for
// every Metric (Monitor.Window).
//
// # Baselines and alerts
//
// A Baseline learns a metric's normal mean and variance: exact (Welford)
// over a warm-up of N intervals, then exponentially weighted with factor
// alpha so it follows slow drift. Alert rules (Rule) fire on a threshold
// (Threshold) or on a deviation from the device's baseline (Deviation:
// value > mean + K sigma, and at least MinDelta above the mean), after For
// consecutive intervals, never before the baseline's warm-up is over, and
// once per episode (de-duplication). They resolve after ClearFor
// consecutive intervals at or below a lower clear level (hysteresis), or
// when the device vanishes or restarts (with a Reason). A deviating
// interval is not learned into the baseline while its alert is pending or
// firing, so a long incident does not become the new normal. Handlers get
// AlertEvents with a Severity.
//
// # Collectors, Monitor, sinks
//
// Collector is the interface a metrics source implements (the design's
// MetricCollector): DiskstatsCollector (counters, rates, optional SCSI error
// counters from device/ioerr_cnt, iodone_cnt, iorequest_cnt) and
// FilesystemCollector (statfs of every mounted block-device filesystem) are
// two; callers add their own, which put Values into the Snapshot.
//
// Monitor samples its collectors every interval (at least MinInterval, 100
// ms) on one goroutine started by Start and publishes a Snapshot to
// subscribers: channels (Subscribe), callbacks (OnSnapshot) and Sinks
// (WithSinks). Each consumer has its own queue; one that falls behind loses
// its oldest snapshots (Monitor.Dropped counts them) and never blocks
// sampling. Alert handlers run on their own goroutine too. Cancel the
// context or call Stop: sampling ends, subscriber channels are closed,
// collectors that implement io.Closer are closed, and Stop and Wait return
// only after every goroutine the Monitor started has returned (so a
// callback, sink or alert handler that wants to stop the Monitor cancels
// the context; calling Stop from there would wait for itself). A Monitor
// runs once; build a new one to start again. Snapshots are shared between
// consumers and must be treated as read-only.
//
// A consumer that may fall behind keeps alert state from Snapshot.Firing,
// the complete set of firing alerts, not by replaying Snapshot.Alerts: the
// transitions in the snapshots it lost are gone.
//
// Cost (BenchmarkSampling1000Devices10Hz, quiet 2-core test machine,
// process CPU time over wall time): sampling 1,000 devices at 10 Hz (pread,
// parse, rates) takes 0.56-0.74% of one core when the devices are idle and
// 1.07-1.21% when every counter of every device changes at every sample.
// An empty 10 Hz Go loop takes 0.28-0.32% of that by itself (the runtime's
// timer and scheduler wake-ups), so sampling's own cost is 0.24-0.46% idle
// and 0.75-0.93% with all devices busy. A whole Monitor, idle devices,
// takes 1.4-2%. The kernel's cost of formatting a real 1,000-device page,
// which grows with the number of CPUs (it sums per-CPU counters), is not
// in these numbers: the benchmark's page is a file.
//
// Back to back, one Monitor interval over 1,000 devices with a threshold
// and a deviation rule takes about 0.5-0.6 ms and 42 allocations
// (BenchmarkMonitorSample1000); the per-device state (rater, windows, alert
// rules) is found by the device's place in the previous sample, so a steady
// set of devices costs no map lookups. The remaining allocation is the
// snapshot itself (about 470 bytes per device): snapshots are shared with
// consumers that may keep them, so they are never recycled. perf/promexport
// exports
// snapshots to Prometheus; client_golang is kept out of this package.
package perf
