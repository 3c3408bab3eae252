package main

import (
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/bpflat"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

// latencyHeader is what --latency adds to the device header: quantiles of
// the requests completed in the interval, in milliseconds like r_await and
// w_await, and of the same time they average (creation to completion,
// latency.Total).
const latencyHeader = "   r_p50   r_p95   r_p99   w_p50   w_p95   w_p99"

var latencyKeys = [6]string{"r_p50", "r_p95", "r_p99", "w_p50", "w_p95", "w_p99"}

// latencyCols reads the eBPF collector's histograms at every report and
// keeps each device's interval.
type latencyCols struct {
	c        *bpflat.Collector
	prev     map[latKey]*latency.Histogram // cumulative, at the previous report
	interval map[latKey]*latency.Histogram
}

type latKey struct {
	dev string
	op  latency.Op
}

// openLatency starts a collector in its default mode, the Total stage
// alone, the only one the columns show: one program on the completion
// tracepoint (see perf/bpflat's doc for its cost).
func openLatency(root string) (*latencyCols, error) {
	c, err := bpflat.New(bpflat.WithRoot(root))
	if err != nil {
		return nil, fmt.Errorf("--latency: %w", err)
	}
	return &latencyCols{c: c, prev: map[latKey]*latency.Histogram{}, interval: map[latKey]*latency.Histogram{}}, nil
}

func (l *latencyCols) close() { l.c.Close() }

// sample ends an interval.
func (l *latencyCols) sample() error {
	ss, err := l.c.Read()
	if err != nil {
		return err
	}
	cur := map[latKey]*latency.Histogram{}
	clear(l.interval)
	for _, s := range ss {
		if s.Stage != latency.Total || (s.Op != latency.Read && s.Op != latency.Write) {
			continue
		}
		k := latKey{s.Device, s.Op}
		cur[k] = s.Hist
		d := new(latency.Histogram)
		if p := l.prev[k]; p != nil {
			d.Delta(s.Hist, p)
		} else {
			*d = *s.Hist
		}
		l.interval[k] = d
	}
	l.prev = cur
	return nil
}

// columns returns the device's six quantiles in milliseconds (0 for an op
// with no request in the interval, as r_await is); false when no request of
// the device has been seen since the collector started (not measured:
// partitions, whose requests count for their disk, and devices without
// request queues, such as device-mapper and md).
func (l *latencyCols) columns(dev string) ([6]float64, bool) {
	var v [6]float64
	seen := false
	for i, op := range []latency.Op{latency.Read, latency.Write} {
		if _, ok := l.prev[latKey{dev, op}]; ok {
			seen = true
		}
		h := l.interval[latKey{dev, op}]
		if h == nil {
			continue
		}
		for j, q := range []float64{0.5, 0.95, 0.99} {
			v[3*i+j] = float64(h.Quantile(q).Nanoseconds()) / 1e6
		}
	}
	return v, seen
}
