// Command exporter serves eos-storage's disk and filesystem metrics for
// Prometheus on /metrics: node_exporter's diskstats and filesystem names for
// the raw counters, plus iostat's numbers as gauges (see perf/promexport).
//
//	exporter [--listen 127.0.0.1:9477] [--interval 1s] [--root DIR] [--scsi-errors]
package main
