package promexport

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

type fakeSource struct {
	series []latency.Series
	firing []perf.AlertEvent
}

func (f *fakeSource) LatencySeries() []latency.Series { return f.series }
func (f *fakeSource) FiringAlerts() []perf.AlertEvent { return f.firing }

func histOf(vals ...time.Duration) *latency.Histogram {
	h := new(latency.Histogram)
	for _, v := range vals {
		h.Record(uint64(v))
	}
	return h
}

func gatherFamilies(t *testing.T, e *Exporter) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(e); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestLatencyHistograms(t *testing.T) {
	read := histOf(2*time.Microsecond, 3*time.Microsecond, 100*time.Microsecond, 5*time.Millisecond)
	src := &fakeSource{
		series: []latency.Series{
			{Device: "sda", Major: 8, Op: latency.Read, Stage: latency.Device, Hist: read, Errors: 2},
			{Device: "sda", Major: 8, Op: latency.Read, Stage: latency.Total, Hist: read, Errors: 2},
			{Device: "sda", Major: 8, Op: latency.Write, Stage: latency.Queue, Hist: histOf(500 * time.Nanosecond)},
			{Device: "sda", Major: 8, Op: latency.Flush, Stage: latency.Device, Hist: new(latency.Histogram)}, // empty: no histogram
		},
		firing: []perf.AlertEvent{{Rule: "slow-reads", Device: "sda", Severity: perf.SeverityCritical, State: perf.Firing}},
	}
	e, err := New(WithLatency(src))
	if err != nil {
		t.Fatal(err)
	}
	got := gatherFamilies(t, e) // no snapshot yet: the latency source alone
	dev := got["eos_storage_disk_request_device_seconds"]
	if dev == nil || dev.GetType() != dto.MetricType_HISTOGRAM || len(dev.GetMetric()) != 1 {
		t.Fatalf("device histogram: %v", dev)
	}
	m := dev.GetMetric()[0]
	if l := labels(m); l["device"] != "sda" || l["op"] != "read" {
		t.Fatalf("labels %v", l)
	}
	h := m.GetHistogram()
	if h.GetSampleCount() != 4 || math.Abs(h.GetSampleSum()-float64(read.Sum)/1e9) > 1e-12 {
		t.Fatalf("count %d sum %v", h.GetSampleCount(), h.GetSampleSum())
	}
	if len(h.GetBucket()) != 26 {
		t.Fatalf("%d buckets", len(h.GetBucket()))
	}
	want := map[float64]uint64{1.024e-6: 0, 2.048e-6: 1, 4.096e-6: 2, 131.072e-6: 3, 8.192e-3: 4, 34.359738368: 4}
	for _, b := range h.GetBucket() {
		if w, ok := want[b.GetUpperBound()]; ok && b.GetCumulativeCount() != w {
			t.Errorf("le=%v: %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), w)
		}
	}
	if got["eos_storage_disk_request_total_seconds"] == nil || got["eos_storage_disk_request_queue_seconds"] == nil {
		t.Fatalf("total or queue histogram missing: %v", got)
	}
	errs := got["eos_storage_disk_request_errors_total"]
	if errs == nil {
		t.Fatal("no error counter")
	}
	for _, m := range errs.GetMetric() {
		l := labels(m)
		want := map[string]float64{"read": 2, "write": 0, "flush": 0}[l["op"]]
		if m.GetCounter().GetValue() != want {
			t.Errorf("errors %v = %v", l, m.GetCounter().GetValue())
		}
	}
	alerts := got["eos_storage_alert_firing"]
	if alerts == nil || len(alerts.GetMetric()) != 1 || labels(alerts.GetMetric()[0])["rule"] != "slow-reads" {
		t.Fatalf("latency alert not exported: %v", alerts)
	}
}

func TestLatencyBuckets(t *testing.T) {
	src := &fakeSource{series: []latency.Series{{Device: "sda", Op: latency.Read, Stage: latency.Device,
		Hist: histOf(990*time.Microsecond, 999*time.Microsecond, 2*time.Millisecond)}}}
	// 1 ms is moved down to 983.04 us, the bound of the bucket holding it.
	e, err := New(WithLatency(src), WithLatencyBuckets(time.Millisecond, 10*time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	h := gatherFamilies(t, e)["eos_storage_disk_request_device_seconds"].GetMetric()[0].GetHistogram()
	if len(h.GetBucket()) != 2 {
		t.Fatalf("buckets %v", h.GetBucket())
	}
	if b := h.GetBucket()[0]; math.Abs(b.GetUpperBound()-983.04e-6) > 1e-15 || b.GetCumulativeCount() != 0 {
		t.Fatalf("first bucket %v", b)
	}
	if b := h.GetBucket()[1]; b.GetCumulativeCount() != 3 {
		t.Fatalf("second bucket %v", b)
	}
	for _, bad := range []Option{WithLatency(nil), WithLatencyBuckets(), WithLatencyBuckets(0), WithLatencyBuckets(time.Hour)} {
		if _, err := New(bad); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("accepted: %v", err)
		}
	}
}
