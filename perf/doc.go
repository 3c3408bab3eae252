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
// are reused from the previous sample when unchanged. Where positional reads
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
// modulo 2^32. The request counters are unsigned long; a counter that went
// down on its own is a wrap. Rater keeps the previous sample of every device:
// a device that appears gives no rates until its second sample (no
// since-boot spike), a vanished device is dropped, and a name taken over by
// another device (major:minor or diskseq changed, or every counter went down)
// restarts from its new counters. %util is capped at 100 as sysstat does for
// devices that serve requests in parallel.
//
// Differences from sysstat: sysstat measures the interval with /proc/uptime
// (10 ms resolution), we with the monotonic clock (nanoseconds); on a
// one-second interval the two can differ by up to about 1%.
package perf
