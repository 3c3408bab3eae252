// Package promexport exposes perf snapshots to Prometheus. It is the only
// package of eos-storage that imports client_golang, so perf stays free of
// it.
//
// An Exporter is a perf.Sink (give it to perf.WithSinks) and a
// prometheus.Collector (register it on a registry). It keeps the newest
// snapshot and turns it into metrics when Prometheus scrapes.
//
// Raw counters carry node_exporter's names, labels and units, so dashboards
// and alerts written for node_exporter's diskstats and filesystem collectors
// work unchanged: node_disk_reads_completed_total, node_disk_read_bytes_total
// (sectors x 512), node_disk_read_time_seconds_total (milliseconds / 1000),
// node_disk_io_now, node_disk_io_time_weighted_seconds_total,
// node_disk_discarded_sectors_total (sectors, as node_exporter has it),
// node_disk_flush_requests_total and the rest, each with a "device" label;
// node_filesystem_size_bytes and friends with device, mountpoint and fstype.
// A counter the kernel does not print (discards before 4.18, flushes before
// 5.5) is not exported at all. The kernel's millisecond counters are 32-bit
// and wrap after about 49.7 days of busy time; Prometheus's rate() treats a
// wrap like a counter reset, exactly as it does with node_exporter.
//
// The iostat numbers are gauges under our own prefix (default
// "eos_storage"), in Prometheus base units: eos_storage_disk_reads_per_second,
// eos_storage_disk_read_bytes_per_second, eos_storage_disk_read_await_seconds
// (iostat's r_await / 1000), eos_storage_disk_read_request_size_bytes,
// eos_storage_disk_queue_size (aqu-sz), eos_storage_disk_utilization_ratio
// (%util / 100), eos_storage_disk_tps, eos_storage_disk_iops and the write,
// discard and flush counterparts. They appear from a device's second sample.
// SCSI error counters appear as eos_storage_disk_scsi_*_total, and firing
// alerts as eos_storage_alert_firing{rule,device,severity} = 1.
//
// WithLatency adds per-request latency histograms from a latency.Source
// (perf/bpflat's Collector), read from the source at each scrape:
// eos_storage_disk_request_device_seconds, _queue_seconds and
// _total_seconds, Prometheus histograms with "device" and "op" labels (read,
// write, discard, flush, other), and eos_storage_disk_request_errors_total.
// A stage appears only when the source measures it: a perf/bpflat
// Collector in its default mode measures Total alone (_total_seconds);
// bpflat.WithStages adds the device and queue families.
// Their buckets are placed on bounds of perf/latency's own buckets
// (WithLatencyBuckets moves a requested bound down to the nearest one), so
// every exported count is exact, not interpolated: by default every power
// of two from 1.024 us to 34.4 s. A bucket counts the requests shorter than
// its bound; Prometheus' le is "at or below", which in whole nanoseconds
// differs only for a request of exactly the bound. histogram_quantile() on
// them is coarser than the source's own quantiles (it interpolates within
// a power of two), which a Monitor's snapshots carry as perf.Values. The
// source's alert rules join eos_storage_alert_firing. This package imports
// perf/latency, not perf/bpflat: it links no eBPF library.
package promexport
