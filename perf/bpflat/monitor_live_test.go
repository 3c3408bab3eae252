package bpflat

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf/latency"
)

func value(s *perf.Snapshot, device, name string) (float64, bool) {
	for _, v := range s.Values {
		if v.Device == device && v.Name == name {
			return v.Value, true
		}
	}
	return 0, false
}

// The collector under a perf.Monitor: snapshots carry each interval's
// count and quantiles per device and op, the window merges intervals, and
// when the Monitor stops it closes the collector, which leaves nothing in
// the kernel.
func TestMonitorCollectsLatency(t *testing.T) {
	defer goleak.VerifyNone(t)
	requireBPF(t)
	dev, _ := shmLoop(t, 128<<20)
	name := loopName(dev)
	c, err := New(WithDeviceFilter(func(n string) bool { return n == name }), WithWindow(100))
	if err != nil {
		t.Fatal(err)
	}
	made := heldObjects(t)
	m, err := perf.NewMonitor(perf.WithCollectors(c), perf.WithInterval(200*time.Millisecond))
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	ch, _ := m.Subscribe(64)
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var snaps []*perf.Snapshot
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for s := range ch {
			snaps = append(snaps, s)
		}
	}()
	rep := fio(t, "--name=mon", "--filename="+dev, "--direct=1", "--rw=randread", "--bs=4k", "--ioengine=libaio",
		"--iodepth=4", "--runtime=1", "--time_based", "--size=100m")
	time.Sleep(500 * time.Millisecond)
	win, ok := c.Window(name, latency.Read, latency.Total)
	m.Stop()
	wg.Wait()

	var sum float64
	busy := 0
	for _, s := range snaps {
		if len(s.Errors) > 0 {
			t.Fatalf("snapshot %d: %v", s.Seq, s.Errors)
		}
		n, _ := value(s, name, ValueName(latency.Total, latency.Read, StatCount))
		sum += n
		p99, has := value(s, name, ValueName(latency.Total, latency.Read, StatP99))
		p50, _ := value(s, name, ValueName(latency.Total, latency.Read, StatP50))
		if n > 0 {
			busy++
			if !has || p99 <= 0 || p50 > p99 {
				t.Errorf("snapshot %d: %v reads, p50 %v, p99 %v (%v)", s.Seq, n, p50, p99, has)
			}
		} else if has {
			t.Errorf("snapshot %d: a p99 for an idle interval", s.Seq)
		}
	}
	fioReads := float64(rep.Jobs[0].Read.TotalIOs)
	if busy < 3 || sum < fioReads || sum > fioReads*1.01+10 {
		t.Fatalf("%d busy intervals summing to %v reads; fio did %v", busy, sum, fioReads)
	}
	if !ok || float64(win.Count()) != sum {
		t.Fatalf("window: %v, %d requests; intervals sum to %v", ok, win.Count(), sum)
	}
	t.Logf("%d snapshots, %d busy, %v reads; window p50 %v p99 %v", len(snaps), busy, sum, win.Quantile(0.5), win.Quantile(0.99))
	waitGone(t, made) // the Monitor closed the collector
}

// A threshold rule on the p99 fires while a slow device is busy and
// resolves when it goes idle; the handler gets both events and Firing
// follows them.
func TestLatencyAlert(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // after the slow disk's cleanup
	requireBPF(t)
	dev, _ := slowLoop(t, 16<<20, 2*time.Millisecond, time.Millisecond)
	name := loopName(dev)
	var mu sync.Mutex
	var events []Alert
	c, err := New(WithDeviceFilter(func(n string) bool { return n == name }),
		WithRules(Rule{Name: "slow-reads", Op: latency.Read, Quantile: 0.99, Kind: perf.Threshold,
			Above: time.Millisecond, For: 2, ClearFor: 2, Severity: perf.SeverityCritical}),
		WithAlertHandler(func(a Alert) {
			mu.Lock()
			events = append(events, a)
			mu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	collect := func() {
		if err := c.Collect(context.Background(), &perf.Snapshot{Time: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fio(t, "--name=alert", "--filename="+dev, "--direct=1", "--rw=randread", "--bs=4k", "--ioengine=psync",
			"--runtime=2", "--time_based", "--size=8m")
	}()
	firing := false
	for i := 0; i < 20 && !firing; i++ {
		time.Sleep(200 * time.Millisecond)
		collect()
		firing = len(c.Firing()) > 0
	}
	<-done
	if !firing {
		t.Fatal("the rule did not fire")
	}
	f := c.Firing()[0]
	if f.Rule != "slow-reads" || f.Device != name || f.Op != latency.Read || f.Quantile != 0.99 || f.Severity != perf.SeverityCritical {
		t.Fatalf("firing: %+v", f)
	}
	if fa := c.FiringAlerts(); len(fa) != 1 || fa[0].Rule != "slow-reads" {
		t.Fatalf("FiringAlerts: %+v", fa)
	}
	for range 3 { // idle intervals: zero latency
		collect()
	}
	if len(c.Firing()) != 0 {
		t.Fatalf("still firing after the device went idle: %+v", c.Firing())
	}
	c.Close() // delivers what is queued
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || events[0].State != perf.Firing || events[1].State != perf.Resolved {
		t.Fatalf("events: %+v", events)
	}
	if v := events[0].Value; v <= 0.001 || v > 1 {
		t.Fatalf("firing value %v s, want the p99 in seconds above 1 ms", v)
	}
	if events[0].Limit != 0.001 {
		t.Fatalf("limit %v, want 0.001 s", events[0].Limit)
	}
}

// Under a Monitor, a latency rule's alert is in the Monitor's snapshots
// (Alerts when it fires, Firing while it fires) and reaches the Monitor's
// own alert handlers, as its diskstats rules' alerts do.
func TestLatencyAlertReachesMonitor(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // after the slow disk's cleanup
	requireBPF(t)
	dev, _ := slowLoop(t, 16<<20, 2*time.Millisecond, time.Millisecond)
	name := loopName(dev)
	c, err := New(WithDeviceFilter(func(n string) bool { return n == name }),
		WithRules(Rule{Name: "slow-reads", Op: latency.Read, Quantile: 0.99, Kind: perf.Threshold,
			Above: time.Millisecond, For: 2, ClearFor: 2, Severity: perf.SeverityCritical}))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var handled []perf.AlertEvent
	m, err := perf.NewMonitor(perf.WithCollectors(c), perf.WithInterval(200*time.Millisecond),
		perf.WithAlertHandler(func(e perf.AlertEvent) {
			mu.Lock()
			handled = append(handled, e)
			mu.Unlock()
		}))
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	ch, _ := m.Subscribe(256)
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var snaps []*perf.Snapshot
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for s := range ch {
			snaps = append(snaps, s)
		}
	}()
	fio(t, "--name=alert", "--filename="+dev, "--direct=1", "--rw=randread", "--bs=4k", "--ioengine=psync",
		"--runtime=2", "--time_based", "--size=8m")
	time.Sleep(time.Second) // idle intervals resolve it
	m.Stop()
	wg.Wait()
	var fired, firingSeen, resolved bool
	for _, s := range snaps {
		for _, e := range s.Alerts {
			if e.Rule == "slow-reads" && e.Device == name {
				fired = fired || e.State == perf.Firing
				resolved = resolved || e.State == perf.Resolved
			}
		}
		for _, e := range s.Firing {
			firingSeen = firingSeen || (e.Rule == "slow-reads" && e.Device == name)
		}
	}
	if !fired || !firingSeen || !resolved {
		t.Fatalf("in %d snapshots: fired %v, in Firing %v, resolved %v", len(snaps), fired, firingSeen, resolved)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handled) < 2 || handled[0].Rule != "slow-reads" || handled[0].State != perf.Firing {
		t.Fatalf("the Monitor's handlers got %+v", handled)
	}
}
