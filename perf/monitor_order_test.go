package perf

import (
	"testing"
	"time"
)

// The Monitor and Alerter find a device's windows and alert state by its
// place in the snapshot; a device restarted at the same place must still
// start over (empty windows, no alert carried over), and a device moving
// to another place must keep its own.
func TestMonitorPerDeviceStateFollowsRestartsAndMoves(t *testing.T) {
	m, err := NewMonitor(WithCollectors(constCollector{}), WithWindow(10),
		WithRules(Rule{Name: "busy", Kind: Threshold, Metric: MetricIOPS, Above: 100}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	alerts := make(chan AlertEvent, 64)
	t0 := time.Now()
	snap := func(i int, changes []DeviceChange, disks ...DiskMetrics) *Snapshot {
		s := &Snapshot{Seq: uint64(i), Time: t0.Add(time.Duration(i) * time.Second), Disks: disks, Changes: changes}
		m.publish(s, alerts)
		return s
	}
	dm := func(name string, iops float64) DiskMetrics {
		return DiskMetrics{Stat: DiskStat{Name: name}, Rates: Rates{Name: name, IOPS: iops, Fields: 20}, HasRates: true}
	}
	for i := 0; i < 3; i++ {
		snap(i, nil, dm("sda", 500), dm("sdb", 1))
	}
	if ws, _ := m.Window("sda", MetricIOPS); ws.Count != 3 || ws.Max != 500 {
		t.Fatalf("sda window %+v", ws)
	}
	if len(m.ActiveAlerts()) != 1 {
		t.Fatalf("active %+v", m.ActiveAlerts())
	}
	// sda restarts in place: no rates this interval, then quiet.
	s := snap(3, []DeviceChange{{"sda", Restarted}}, DiskMetrics{Stat: DiskStat{Name: "sda"}}, dm("sdb", 1))
	if len(s.Alerts) != 1 || s.Alerts[0].State != Resolved {
		t.Fatalf("restart alerts %+v", s.Alerts)
	}
	// Busy again: a fresh episode fires anew (a state carried over the
	// restart would still be firing and stay silent).
	s = snap(4, nil, dm("sda", 600), dm("sdb", 1))
	if ws, _ := m.Window("sda", MetricIOPS); ws.Count != 1 || ws.Max != 600 {
		t.Fatalf("sda window after restart %+v", ws)
	}
	if len(s.Alerts) != 1 || s.Alerts[0].State != Firing || len(m.ActiveAlerts()) != 1 {
		t.Fatalf("after restart: events %+v active %+v", s.Alerts, m.ActiveAlerts())
	}
	// The devices swap places: each keeps its own window.
	snap(5, nil, dm("sdb", 2), dm("sda", 8))
	if ws, _ := m.Window("sda", MetricIOPS); ws.Count != 2 || ws.Max != 600 || ws.Min != 8 {
		t.Fatalf("sda window after move %+v", ws)
	}
	if ws, _ := m.Window("sdb", MetricIOPS); ws.Count != 6 || ws.Max != 2 {
		t.Fatalf("sdb window after move %+v", ws)
	}
}

// Every snapshot carries the complete set of firing alerts (non-nil even
// when empty), so a consumer that missed snapshots is still right.
func TestSnapshotCarriesFiringSet(t *testing.T) {
	m, err := NewMonitor(WithCollectors(constCollector{}),
		WithRules(Rule{Name: "busy", Kind: Threshold, Metric: MetricIOPS, Above: 100}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	alerts := make(chan AlertEvent, 64)
	t0 := time.Now()
	pub := func(i int, iops float64) *Snapshot {
		s := &Snapshot{Time: t0.Add(time.Duration(i) * time.Second), Disks: []DiskMetrics{
			{Stat: DiskStat{Name: "sda"}, Rates: Rates{Name: "sda", IOPS: iops, Fields: 20}, HasRates: true}}}
		m.publish(s, alerts)
		return s
	}
	if s := pub(0, 1); s.Firing == nil || len(s.Firing) != 0 {
		t.Fatalf("quiet: %#v", s.Firing)
	}
	pub(1, 500)
	if s := pub(2, 500); len(s.Alerts) != 0 || len(s.Firing) != 1 || s.Firing[0].Device != "sda" || s.Firing[0].State != Firing {
		t.Fatalf("still firing: alerts %+v firing %+v", s.Alerts, s.Firing)
	}
	if s := pub(3, 1); len(s.Firing) != 0 {
		t.Fatalf("resolved: %+v", s.Firing)
	}
}

// Baselines are kept per device by metric index: an unknown metric is
// absent, never an index out of range.
func TestBaselineUnknownMetric(t *testing.T) {
	a, err := NewAlerter([]Rule{{Name: "dev", Kind: Deviation, Metric: MetricAwait, K: 3}}, 0.1, 1)
	if err != nil {
		t.Fatal(err)
	}
	a.Observe(time.Now(), awaitRates("sda", 1), nil, nil)
	if _, _, ready := a.Baseline("sda", MetricAwait); !ready {
		t.Fatal("baseline not learned")
	}
	for _, m := range []Metric{0, -1, 99} {
		if mean, sd, ready := a.Baseline("sda", m); mean != 0 || sd != 0 || ready {
			t.Fatalf("metric %d: %v %v %v", m, mean, sd, ready)
		}
	}
}

// alertingCollector evaluates a rule of its own, as perf/bpflat does.
type alertingCollector struct {
	constCollector
	firing []AlertEvent
}

func (c *alertingCollector) FiringAlerts() []AlertEvent { return c.firing }

// A collector's own alerts reach the snapshot (Alerts and Firing) and the
// Monitor's alert handlers, after the Monitor's own rules' events.
func TestCollectorAlertsReachSnapshots(t *testing.T) {
	lat := AlertEvent{Rule: "read-p99", Device: "sda", State: Firing, Severity: SeverityWarning}
	c := &alertingCollector{firing: []AlertEvent{lat}}
	m, err := NewMonitor(WithCollectors(c),
		WithRules(Rule{Name: "busy", Kind: Threshold, Metric: MetricIOPS, Above: 100}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	alerts := make(chan AlertEvent, 64)
	s := &Snapshot{Time: time.Now(), Alerts: []AlertEvent{lat}, Disks: []DiskMetrics{
		{Stat: DiskStat{Name: "sda"}, Rates: Rates{Name: "sda", IOPS: 500, Fields: 20}, HasRates: true}}}
	m.publish(s, alerts)
	if len(s.Alerts) == 0 || s.Alerts[0] != lat {
		t.Fatalf("the collector's transition is not in Alerts: %+v", s.Alerts)
	}
	found := false
	for _, e := range s.Firing {
		found = found || e == lat
	}
	if !found {
		t.Fatalf("the collector's firing alert is not in Firing: %+v", s.Firing)
	}
	if got := <-alerts; got != lat {
		t.Fatalf("alert handlers got %+v first, want the collector's %+v", got, lat)
	}
}
