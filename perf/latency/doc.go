// Package latency is the data model of per-request block I/O latency:
// histograms fine enough for honest percentiles, the operations and stages
// they are kept for, and the Source interface through which a collector
// (perf/bpflat, measuring in the kernel) hands them to consumers
// (perf/promexport, examples/iostat). It imports only the standard
// library, so its consumers do not link an eBPF library.
//
// # Buckets
//
// Values are nanoseconds. Below 32 ns every nanosecond has a bucket of its
// own; from 32 ns up, each power of two [2^e, 2^(e+1)) is split into 16
// equal buckets 2^(e-4) ns wide (log-linear, as HdrHistogram and fio
// keep latencies). Buckets reach 2^36 ns (68.7 s); one overflow bucket
// holds everything longer. That is 529 buckets, 4 KiB of counters. The
// index of a value v is s*16 + v>>s with s = max(floor(log2 v) - 4, 0),
// which the kernel-side program computes with shifts alone.
//
// Every power of two is a bucket bound, so a power-of-two histogram (such
// as bpftrace's hist()) is an exact sum of ours, and so are Prometheus
// buckets placed on our bounds (CountBelow).
//
// # Quantiles and their error
//
// Histogram.Quantile(q) finds the bucket holding the nearest-rank
// q-quantile of the recorded values (the smallest value with at least q
// of all values at or below it) and returns the bucket's middle. A bucket
// is at most 1/16 of its lower bound wide, so the estimate is within half
// of that, RelativeError = 1/32 = 3.125%, of the true value: for a true
// p99 of 10 ms, between 9.69 and 10.31 ms. Below 32 ns the estimate is
// exact. A quantile in the overflow bucket is reported as 68.7 s, a lower
// bound. Mean is exact: the histogram keeps the sum of the values.
//
// # Stages and operations
//
// Device is a request's time from its issue to the driver to its
// completion (block_rq_issue to block_rq_complete, what biolatency shows);
// Queue its time from its creation in the block layer to that issue; Total
// both, the time diskstats' await averages. Operations are grouped as
// diskstats groups them: Read, Write (with write-zeroes and zone
// appends), Discard (with secure erase), Flush, and Other (zone
// management, driver-private requests).
//
// Histograms of a Source are cumulative. Histogram.Delta turns two
// readings into the histogram of the requests in between, Add merges
// histograms (of intervals, of devices).
package latency
