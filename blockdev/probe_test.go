package blockdev_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
)

// TestProbeHungDevice: one device never answers. It alone gets a timeout
// error; every other device is probed; Discover returns; and once the hung
// read finally returns, nothing is left running.
func TestProbeHungDevice(t *testing.T) {
	defer goleak.VerifyNone(t)
	tr := blockdevtest.Sample(t.TempDir())
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var mu sync.Mutex
	var parents = map[string]bool{}
	var calls, concurrent, peak atomic.Int32
	fn := func(ctx context.Context, path string, opts ...probe.Option) (*probe.Result, error) {
		calls.Add(1)
		n := concurrent.Add(1)
		defer concurrent.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		mu.Lock()
		parents[path] = len(opts) > 1
		mu.Unlock()
		if path == tr.Path("/dev/sdb") {
			<-release // a device that never answers, whatever the context says
			return nil, errors.New("too late")
		}
		return &probe.Result{Type: "ext4"}, nil
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir), blockdev.WithProbe(true),
		blockdev.WithProbeFunc(fn), blockdev.WithProbeTimeout(2*time.Second), blockdev.WithProbeWorkers(2))
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range g.All() {
		switch {
		case d.KName == "sdb":
			if !errors.Is(d.ProbeErr, blockdev.ErrProbeTimeout) || !errors.Is(d.ProbeErr, blockdev.ErrProbe) ||
				!errors.Is(d.ProbeErr, context.DeadlineExceeded) || d.Probe != nil {
				t.Errorf("sdb: probe %v err %v, want a timeout", d.Probe, d.ProbeErr)
			}
		case d.Size == nil || *d.Size == 0:
			if d.Probe != nil || d.ProbeErr != nil {
				t.Errorf("%s: an empty device was probed", d.KName)
			}
		default:
			if d.ProbeErr != nil || d.Probe == nil || d.Probe.Type != "ext4" {
				t.Errorf("%s: probe %v err %v", d.KName, d.Probe, d.ProbeErr)
			}
		}
	}
	if p := peak.Load(); p > 3 { // 2 workers, plus at most one abandoned hung probe (deadline generous: the machine is shared)
		t.Errorf("%d probes ran at once with 2 workers", p)
	}
	mu.Lock()
	defer mu.Unlock()
	if !parents[tr.Path("/dev/sda1")] || parents[tr.Path("/dev/sda")] {
		t.Errorf("partitions must be probed with their parent, disks without: %v", parents)
	}
}

func TestProbeCancelled(t *testing.T) {
	defer goleak.VerifyNone(t)
	tr := blockdevtest.New(t.TempDir())
	tr.Virtio("vda", 0, 0, 1<<30)
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fn := func(ctx context.Context, path string, opts ...probe.Option) (*probe.Result, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	_, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir), blockdev.WithProbe(true), blockdev.WithProbeFunc(fn))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestProbeFilter(t *testing.T) {
	tr := blockdevtest.Sample(t.TempDir())
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	var probed sync.Map
	fn := func(ctx context.Context, path string, opts ...probe.Option) (*probe.Result, error) {
		probed.Store(path, true)
		return &probe.Result{}, nil
	}
	onlySDA := func(g *blockdev.Graph, d *blockdev.Device) bool {
		sda, _ := g.ByName("sda")
		return g.Disk(d) == sda
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir), blockdev.WithProbe(true),
		blockdev.WithProbeFunc(fn), blockdev.WithProbeFilter(onlySDA))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range g.All() {
		_, was := probed.Load(tr.Path("/dev/" + d.KName))
		if want := d.KName == "sda" || d.KName == "sda1" || d.KName == "sda2"; was != want {
			t.Errorf("%s probed %v, want %v", d.KName, was, want)
		}
	}
	if _, err := blockdev.Discover(context.Background(), blockdev.WithProbeFilter(nil)); !errors.Is(err, blockdev.ErrInvalidOption) {
		t.Errorf("nil filter: %v", err)
	}
}
