package blockdev_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/uevent"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func next(t *testing.T, w *blockdev.Watcher) blockdev.Event {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("events closed: %v", w.Close())
		}
		return ev
	case <-time.After(30 * time.Second):
		t.Fatal("no event")
	}
	return blockdev.Event{}
}

func blockEvent(action uevent.Action, sysPath, devType string, major, minor uint32) uevent.Event {
	// Marshal encodes Env, the kernel's KEY=VALUE pairs.
	return uevent.Event{Action: action, DevPath: strings.TrimPrefix(sysPath, "/sys"), Env: map[string]string{
		"SUBSYSTEM": "block", "DEVTYPE": devType, "DEVNAME": filepath.Base(sysPath),
		"MAJOR": strconv.FormatUint(uint64(major), 10), "MINOR": strconv.FormatUint(uint64(minor), 10)}}
}

// TestWatchFakeTree changes a fake tree and tells the watcher as the kernel
// would; each event brings a snapshot with exactly that change.
func TestWatchFakeTree(t *testing.T) {
	defer goleak.VerifyNone(t)
	tr := blockdevtest.New(t.TempDir())
	tr.Virtio("vda", 0, 0, 1<<30)
	loop := tr.Loop(0, 0, "")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	src := uevent.NewFakeSource()
	w, err := blockdev.Watch(context.Background(), blockdev.WithRoot(tr.Dir), blockdev.WithEventSource(src))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	first := w.Graph()
	if first.Len() != 2 {
		t.Fatalf("initial graph has %d devices", first.Len())
	}

	// Attach: the loop device gets a size and a backing file, then a partition.
	tr.Set("loop0", "size", "2048").Set("loop0", "loop/backing_file", "/img")
	tr.AddPartition("loop0", "loop0p1", 259, 0, 1, 512, 512<<10)
	src.SendEvent(blockEvent(uevent.ActionChange, loop, "disk", 7, 0))
	ev := next(t, w)
	if ev.Action != uevent.ActionChange || ev.KName != "loop0" || ev.Device == nil || *ev.Device.Size != 1<<20 ||
		ev.Device.LoopBackingFile != "/img" {
		t.Fatalf("change event: %+v", ev)
	}
	if p, ok := ev.Graph.ByName("loop0p1"); !ok || len(ev.Graph.Parents(p)) != 1 {
		t.Errorf("partition not in the new snapshot")
	}
	if d, _ := first.ByName("loop0"); *d.Size != 0 {
		t.Error("the earlier snapshot changed")
	}
	if vda, _ := ev.Graph.ByName("vda"); vda == nil {
		t.Error("an untouched device vanished")
	}

	// A dm device appears on the partition (its slaves link names it).
	tr.DM(0, "vg-lv", "LVM-x", 1<<19, "loop0p1")
	dm, _ := tr.SysPath("dm-0")
	src.SendEvent(blockEvent(uevent.ActionAdd, dm, "disk", 253, 0))
	ev = next(t, w)
	lv, ok := ev.Graph.ByName("vg-lv")
	if !ok || ev.Device != lv || len(ev.Graph.Parents(lv)) != 1 || ev.Graph.Parents(lv)[0].KName != "loop0p1" {
		t.Fatalf("dm add: %+v", ev)
	}
	loop0, _ := ev.Graph.ByName("loop0")
	if got := knames(ev.Graph.Descendants(loop0)); strings.Join(got, ",") != "loop0p1,dm-0" {
		t.Errorf("descendants of loop0: %v", got)
	}

	// Remove the dm device, then the partition.
	src.SendEvent(blockEvent(uevent.ActionRemove, dm, "disk", 253, 0))
	ev = next(t, w)
	if _, ok := ev.Graph.ByName("vg-lv"); ok || ev.Device != nil {
		t.Errorf("dm still there after remove")
	}
	p, _ := tr.SysPath("loop0p1")
	src.SendEvent(blockEvent(uevent.ActionRemove, p, "partition", 259, 0))
	ev = next(t, w)
	loop0, _ = ev.Graph.ByName("loop0")
	if len(ev.Graph.Children(loop0)) != 0 || ev.Graph.Len() != 2 || w.Graph() != ev.Graph {
		t.Errorf("after removes: %d devices, children %v", ev.Graph.Len(), knames(ev.Graph.Children(loop0)))
	}

	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-w.Events(); ok {
		t.Error("events not closed after Close")
	}
}

func TestWatchStopsWithContext(t *testing.T) {
	defer goleak.VerifyNone(t)
	tr := blockdevtest.New(t.TempDir())
	tr.Virtio("vda", 0, 0, 1<<30)
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := blockdev.Watch(ctx, blockdev.WithRoot(tr.Dir), blockdev.WithEventSource(uevent.NewFakeSource()))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for range w.Events() {
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := blockdev.Watch(context.Background(), blockdev.WithEventSource(nil)); !errors.Is(err, blockdev.ErrInvalidOption) {
		t.Errorf("nil source: %v", err)
	}
}

// TestWatchLoopDevice attaches and detaches a real loop device and waits for
// the kernel's events to show both in the graph.
func TestWatchLoopDevice(t *testing.T) {
	testenv.RequireRoot(t)
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w, err := blockdev.Watch(ctx, blockdev.WithProbe(false))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var name string
	waitFor := func(t *testing.T, what string, ok func(d *blockdev.Device) bool) {
		t.Helper()
		for {
			// Look at the snapshot, not just the event: after an overrun
			// the change arrives inside a Resync, with no event of its own.
			// Other tests' loop devices come and go too.
			ev := next(t, w)
			d, _ := ev.Graph.ByName(name)
			if ok(d) {
				return
			}
			if ev.KName == name {
				t.Logf("%s: %s event, not yet %s", name, ev.Action, what)
			}
		}
	}
	// The subtest's cleanup detaches the device (exactly once: a second
	// detach could hit another test's device that took the same node).
	t.Run("attach", func(t *testing.T) {
		dev := testenv.Loop(t, 8<<20)
		name = filepath.Base(dev)
		waitFor(t, "attached", func(d *blockdev.Device) bool {
			return d != nil && d.Size != nil && *d.Size == 8<<20 && d.LoopBackingFile != ""
		})
	})
	if name == "" {
		t.FailNow()
	}
	waitFor(t, "detached", func(d *blockdev.Device) bool {
		return d == nil || d.Size == nil || *d.Size == 0
	})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
