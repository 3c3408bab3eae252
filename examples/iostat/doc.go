// Command iostat is a drop-in for sysstat's `iostat -d -x` built on
// eos-storage's perf package:
//
//	iostat [-c] [-d] [-x] [-y] [-z] [-k|-m] [-o JSON] [-p [ALL|dev,...]] [--root DIR] [--latency] [interval [count]] [device...]
//
// Text output has sysstat's columns; -o JSON has sysstat's JSON structure
// and keys. Without -y the first report covers the time since boot, as
// iostat's does. Rates use the monotonic clock rather than /proc/uptime.
//
// Devices are chosen as sysstat chooses them: by default whole devices
// (those with /sys/block/NAME) that did any I/O since boot; -p ALL every
// device and partition; named devices (and with -p dev,... their
// partitions) unfiltered; -z drops devices idle in the interval. Without -d
// the avg-cpu report from /proc/stat comes first, as in sysstat. A device
// that appears during the run is shown from its second sample on, never
// with its since-boot totals as one interval. --root reads /proc and /sys
// under another directory (a fake tree or a container's root).
//
// --latency (not in sysstat) adds per-request latency quantiles to every
// device row: r_p50, r_p95, r_p99, w_p50, w_p95 and w_p99, in milliseconds,
// of the reads and writes completed in the interval, measured in the kernel
// by perf/bpflat (eBPF on the block tracepoints; root and a kernel with BPF
// and BTF). They are quantiles of the time r_await and w_await average,
// from a request's creation to its completion, within 3.125% (see
// perf/latency). The first report without -y covers the time since the
// collector started, not since boot. A device shows "-" (in JSON: no keys)
// until a request of it is seen: partitions, whose requests count for their
// disk, and devices without request queues (device-mapper, md) always do.
// On a kernel that cannot run the collector, iostat exits with the reason.
package main
