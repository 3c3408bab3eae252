// Command iostat is a drop-in for sysstat's `iostat -d -x` built on
// eos-storage's perf package:
//
//	iostat [-c] [-d] [-x] [-y] [-z] [-k|-m] [-o JSON] [-p [ALL|dev,...]] [--root DIR] [interval [count]] [device...]
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
package main
