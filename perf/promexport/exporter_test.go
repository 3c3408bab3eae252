package promexport

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
)

func gather(t *testing.T, e *Exporter) map[string]map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(e); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, mf := range mfs {
		m := map[string]float64{}
		for _, mt := range mf.GetMetric() {
			key := ""
			for _, l := range mt.GetLabel() {
				key += l.GetName() + "=" + l.GetValue() + ","
			}
			m[key] = value(mf.GetType(), mt)
		}
		out[mf.GetName()] = m
	}
	return out
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	if t == dto.MetricType_COUNTER {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func TestExporterMetrics(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got := gather(t, e); len(got) != 0 {
		t.Fatalf("metrics before the first snapshot: %v", got)
	}
	prev := perf.DiskStat{Name: "sda", Fields: 20, ReadIOs: 10, ReadSectors: 80, ReadTicks: 10, IOTicks: 100}
	cur := perf.DiskStat{Name: "sda", Fields: 20, ReadIOs: 110, ReadSectors: 880, ReadTicks: 210, IOTicks: 600,
		DiscardSectors: 16, FlushIOs: 3, FlushTicks: 1500, InFlight: 2}
	rates := perf.ComputeRates(&prev, &cur, time.Second)
	old := perf.DiskStat{Name: "sdb", Fields: 14, WriteIOs: 5, WriteSectors: 40}
	s := &perf.Snapshot{
		Disks: []perf.DiskMetrics{
			{Stat: cur, Rates: rates, HasRates: true, SCSI: &perf.SCSIErrors{IORequests: 9, IODone: 8, IOErrors: 1}},
			{Stat: old},
		},
		Filesystems: []perf.FSUsage{{Source: "/dev/sda1", MountPoint: "/", FSType: "ext4", SizeBytes: 1 << 30, FreeBytes: 1 << 29, AvailBytes: 1 << 28, Files: 100, FilesFree: 50}},
		Alerts:      []perf.AlertEvent{{Rule: "slow", Device: "sda", State: perf.Firing, Severity: perf.SeverityCritical}},
	}
	if err := e.Write(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	got := gather(t, e)
	check := func(name, labels string, want float64) {
		t.Helper()
		v, ok := got[name][labels]
		if !ok {
			t.Errorf("%s{%s} missing", name, labels)
			return
		}
		if math.Abs(v-want) > 1e-9 {
			t.Errorf("%s{%s} = %v, want %v", name, labels, v, want)
		}
	}
	check("node_disk_reads_completed_total", "device=sda,", 110)
	check("node_disk_read_bytes_total", "device=sda,", 880*512)
	check("node_disk_read_time_seconds_total", "device=sda,", 0.21)
	check("node_disk_io_now", "device=sda,", 2)
	check("node_disk_io_time_seconds_total", "device=sda,", 0.6)
	check("node_disk_discarded_sectors_total", "device=sda,", 16)
	check("node_disk_flush_requests_total", "device=sda,", 3)
	check("node_disk_flush_requests_time_seconds_total", "device=sda,", 1.5)
	check("node_disk_written_bytes_total", "device=sdb,", 40*512)
	check("eos_storage_disk_reads_per_second", "device=sda,", 100)
	check("eos_storage_disk_read_await_seconds", "device=sda,", 0.002)
	check("eos_storage_disk_read_request_size_bytes", "device=sda,", 4096)
	check("eos_storage_disk_utilization_ratio", "device=sda,", 0.5)
	check("eos_storage_disk_scsi_errors_total", "device=sda,", 1)
	check("node_filesystem_avail_bytes", "device=/dev/sda1,fstype=ext4,mountpoint=/,", 1<<28)
	check("eos_storage_alert_firing", "device=sda,rule=slow,severity=critical,", 1)
	// Fields the kernel did not give are not exported; no rates before the
	// second sample.
	if _, ok := got["node_disk_discards_completed_total"]["device=sdb,"]; ok {
		t.Error("discards exported for a 14-field device")
	}
	if _, ok := got["eos_storage_disk_reads_per_second"]["device=sdb,"]; ok {
		t.Error("rates exported for a device without two samples")
	}
	// The alert resolves.
	e.Write(context.Background(), &perf.Snapshot{Alerts: []perf.AlertEvent{{Rule: "slow", Device: "sda", State: perf.Resolved}}})
	if _, ok := gather(t, e)["eos_storage_alert_firing"]; ok {
		t.Error("resolved alert still exported")
	}
}

func TestExporterPrefix(t *testing.T) {
	if _, err := New(WithPrefix("bad-prefix")); !errors.Is(err, ErrInvalidOption) {
		t.Fatal(err)
	}
	e, err := New(WithPrefix("acme"))
	if err != nil {
		t.Fatal(err)
	}
	p, c := perf.DiskStat{Name: "sda", Fields: 14}, perf.DiskStat{Name: "sda", Fields: 14, ReadIOs: 5}
	e.Write(context.Background(), &perf.Snapshot{Disks: []perf.DiskMetrics{{Stat: c, Rates: perf.ComputeRates(&p, &c, time.Second), HasRates: true}}})
	if _, ok := gather(t, e)["acme_disk_iops"]; !ok {
		t.Fatal("prefix not applied")
	}
}

// A Sink that falls behind gets the newest snapshot and skips the ones in
// between, so the exporter cannot rebuild the firing set from transitions:
// a skipped Resolved left the alert exported as firing forever. Snapshots
// from a Monitor carry the complete firing set, which the exporter uses.
func TestExporterFiringSurvivesSkippedSnapshots(t *testing.T) {
	e, err := New()
	if err != nil {
		t.Fatal(err)
	}
	fire := perf.AlertEvent{Rule: "slow", Device: "sda", State: perf.Firing, Severity: perf.SeverityWarning}
	e.Write(context.Background(), &perf.Snapshot{Seq: 1, Alerts: []perf.AlertEvent{fire}, Firing: []perf.AlertEvent{fire}})
	if _, ok := gather(t, e)["eos_storage_alert_firing"]; !ok {
		t.Fatal("firing alert not exported")
	}
	// Seq 2 (the Resolved transition) was skipped; seq 3 has no transition
	// and nothing firing.
	e.Write(context.Background(), &perf.Snapshot{Seq: 3, Firing: []perf.AlertEvent{}})
	if _, ok := gather(t, e)["eos_storage_alert_firing"]; ok {
		t.Fatal("alert resolved in a skipped snapshot still exported")
	}
	// And one that fired in a skipped snapshot appears.
	other := perf.AlertEvent{Rule: "busy", Device: "sdb", State: perf.Firing, Severity: perf.SeverityCritical}
	e.Write(context.Background(), &perf.Snapshot{Seq: 5, Firing: []perf.AlertEvent{other}})
	if v := gather(t, e)["eos_storage_alert_firing"]["device=sdb,rule=busy,severity=critical,"]; v != 1 {
		t.Fatalf("alert fired in a skipped snapshot: %v", gather(t, e)["eos_storage_alert_firing"])
	}
}
