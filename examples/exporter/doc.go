// Command exporter serves eos-storage's disk and filesystem metrics for
// Prometheus on /metrics: node_exporter's diskstats and filesystem names for
// the raw counters, plus iostat's numbers as gauges (see perf/promexport).
//
//	exporter [--listen 127.0.0.1:9477] [--interval 1s] [--root DIR] [--scsi-errors] [--device-exclude REGEXP]
//
// It listens on loopback by default. Like node_exporter, it leaves out
// partitions, RAM and loop devices unless --device-exclude says otherwise
// (an empty value exports every device).
package main
