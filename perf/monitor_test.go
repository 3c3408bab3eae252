package perf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeDisk rewrites a one-device diskstats page whose counters grow by
// step per call: 100 reads of 8 sectors taking 1 ms each, busy 50 ms.
type fakeDisk struct {
	root sysfs.Root
	n    uint64
	mu   sync.Mutex
}

func (f *fakeDisk) step(t testing.TB) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	n := f.n
	// Fixed-width numbers, written in place: the reader keeps the file
	// open and must never see it truncated.
	line := fmt.Sprintf("   8 0 sda %012d 0 %012d %012d 0 0 0 0 0 %012d %012d 0 0 0 0 0 0\n", 100*n, 800*n, 100*n, 50*n, 100*n)
	fl, err := os.OpenFile(f.root.Proc("diskstats"), os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer fl.Close()
	if _, err := fl.WriteAt([]byte(line), 0); err != nil {
		t.Error(err)
	}
}

func TestMonitorPublishesAndStops(t *testing.T) {
	fd := &fakeDisk{root: fakeRoot(t, "")}
	fd.step(t)
	var alerts []AlertEvent
	var amu sync.Mutex
	m, err := NewMonitor(WithRoot(fd.root.Dir()), WithInterval(100*time.Millisecond), WithWindow(10),
		WithRules(Rule{Name: "busy", Kind: Threshold, Metric: MetricIOPS, Above: 1}),
		WithAlertHandler(func(e AlertEvent) { amu.Lock(); alerts = append(alerts, e); amu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	ch, cancel := m.Subscribe(16)
	defer cancel()
	// A callback far slower than the interval must not hold up sampling.
	var slowCalls atomic.Int32
	stopSlow := m.OnSnapshot(func(*Snapshot) { slowCalls.Add(1); time.Sleep(300 * time.Millisecond) })
	defer stopSlow()

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); !errors.Is(err, ErrRunning) {
		t.Fatalf("second start: %v", err)
	}
	first := <-ch
	if first.Seq != 1 || len(first.Disks) != 1 || first.Disks[0].HasRates || first.Interval != 0 {
		t.Fatalf("first snapshot: %+v", first)
	}
	if len(first.Changes) != 1 || first.Changes[0].Change != Appeared {
		t.Fatalf("first changes: %+v", first.Changes)
	}
	var got []*Snapshot
	for len(got) < 5 {
		fd.step(t)
		s := <-ch
		if s.Disks[0].HasRates {
			got = append(got, s)
		}
	}
	for _, s := range got {
		r := s.Disks[0].Rates
		if s.Interval <= 0 || r.Interval != s.Interval && r.Interval <= 0 {
			t.Fatalf("interval %v / %v", s.Interval, r.Interval)
		}
		// The counters grow per file rewrite, not per tick; whatever the
		// rate, the ratios are fixed: 1 ms per read, 4 kB per read.
		if r.ReadsPerSec > 0 && (r.ReadAwait != 1 || r.ReadReqSizeKB != 4) {
			t.Fatalf("rates %+v", r)
		}
	}
	if ws, ok := m.Window("sda", MetricIOPS); !ok || ws.Count == 0 {
		t.Fatalf("window: %+v %v", ws, ok)
	}
	if _, ok := m.Window("nope", MetricIOPS); ok {
		t.Fatal("window for unknown device")
	}
	if m.Latest() == nil {
		t.Fatal("no latest")
	}
	stop()
	m.Wait()
	// Channels are closed after stop.
	for range ch {
	}
	amu.Lock()
	defer amu.Unlock()
	if len(alerts) == 0 || alerts[0].State != Firing || alerts[0].Device != "sda" {
		t.Fatalf("alerts: %+v", alerts)
	}
	if slowCalls.Load() == 0 {
		t.Fatal("slow callback never called")
	}
	if err := m.Start(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("restart: %v", err)
	}
	m.Stop() // idempotent
}

func TestMonitorSinksAndCustomCollector(t *testing.T) {
	var writes atomic.Int32
	sink := SinkFunc(func(ctx context.Context, s *Snapshot) error {
		writes.Add(1)
		if len(s.Values) != 1 || s.Values[0].Name != "answer" {
			t.Errorf("values %+v", s.Values)
		}
		return nil
	})
	m, err := NewMonitor(WithInterval(100*time.Millisecond), WithCollectors(constCollector{}), WithSinks(sink))
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := m.Subscribe(1) // never read: must not block the monitor
	_ = ch
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for writes.Load() < 3 {
		select {
		case <-deadline:
			t.Fatal("sink not called")
		case <-time.After(20 * time.Millisecond):
		}
	}
	m.Stop()
	if m.Dropped() == 0 {
		t.Fatal("unread subscriber dropped nothing")
	}
}

type constCollector struct{}

func (constCollector) Name() string { return "const" }
func (constCollector) Collect(_ context.Context, s *Snapshot) error {
	s.Values = append(s.Values, Value{Name: "answer", Value: 42})
	return nil
}

func TestMonitorOptions(t *testing.T) {
	for _, o := range []Option{WithInterval(99 * time.Millisecond), WithWindow(0), WithBaseline(2, 1),
		WithCollectors(nil), WithSinks(nil), WithAlertHandler(nil),
		WithRules(Rule{Name: "x", Kind: Deviation, Metric: MetricUtil})} {
		if _, err := NewMonitor(o, WithCollectors(constCollector{})); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("accepted a bad option: %v", err)
		}
	}
	if _, err := NewMonitor(WithRoot(fakeRootEmpty(t).Dir())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing diskstats: %v", err)
	}
	// A monitor stopped before it started closes its subscribers.
	m, err := NewMonitor(WithCollectors(constCollector{}))
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := m.Subscribe(1)
	m.Stop()
	if _, ok := <-ch; ok {
		t.Fatal("channel open after stop")
	}
}

func TestDiskstatsCollectorFilterAndSCSI(t *testing.T) {
	root := fakeRoot(t, line20+line18+line14)
	dev := root.Sys("class", "block", "sda", "device")
	os.MkdirAll(dev, 0o755)
	os.WriteFile(dev+"/iorequest_cnt", []byte("0x1f\n"), 0o644)
	os.WriteFile(dev+"/iodone_cnt", []byte("0x1e\n"), 0o644)
	os.WriteFile(dev+"/ioerr_cnt", []byte("0x2\n"), 0o644)
	c, err := NewDiskstatsCollector(root.Dir(), WithSCSIErrors(1), WithDeviceFilter(func(n string) bool { return n != "vda" }))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var s Snapshot
	if err := c.Collect(context.Background(), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Disks) != 2 || s.Disk("vda") != nil {
		t.Fatalf("filter: %+v", s.Disks)
	}
	if e := s.Disk("sda").SCSI; e == nil || *e != (SCSIErrors{IORequests: 31, IODone: 30, IOErrors: 2}) {
		t.Fatalf("scsi: %+v", e)
	}
	if s.Disk("sdb").SCSI != nil {
		t.Fatal("sdb has no SCSI counters")
	}
	if _, err := ReadSCSIErrors(root.Dir(), "sdb"); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("sdb: %v", err)
	}
	os.WriteFile(dev+"/ioerr_cnt", []byte("zz\n"), 0o644)
	if _, err := ReadSCSIErrors(root.Dir(), "sda"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad counter: %v", err)
	}
	for _, o := range []DiskOption{WithSCSIErrors(-1), WithDiskseqEvery(-1), WithDeviceFilter(nil)} {
		if _, err := NewDiskstatsCollector(root.Dir(), o); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("bad option accepted: %v", err)
		}
	}
}
