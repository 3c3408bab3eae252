package blockdev_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/uevent"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestWithDetachedLoops: only loop devices with no backing file are left
// out. A loop device bound to an empty file (size 0, loop/ present), an
// empty disk of another kind and a loop device whose number cannot be read
// are all listed; partitions are untouched.
func TestWithDetachedLoops(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.Loop(0, 1<<20, "/img")
	tr.Loop(1, 0, "")
	tr.Loop(2, 0, "/empty.img")
	tr.Loop(3, 0, "")
	tr.Set("loop3", "dev", "garbage")
	tr.AddDisk(blockdevtest.Disk{Name: "zram0", Major: 252, Minor: 0, Size: 0})
	tr.SATA("sda", 0, 0, 1<<30, "M", "S", false)
	tr.AddPartition("sda", "sda1", 8, 1, 1, 1<<20, 1<<20)
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	g, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir), blockdev.WithDetachedLoops(false))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := kernelNames(g), []string{"loop0", "loop2", "loop3", "sda", "sda1", "zram0"}; !slices.Equal(got, want) {
		t.Errorf("WithDetachedLoops(false): %v, want %v", got, want)
	}
	if d, ok := g.ByName("loop2"); !ok || d.LoopBackingFile != "/empty.img" || d.Type != blockdev.TypeLoop {
		t.Errorf("loop2 bound to an empty file: %+v", d)
	}
	if d, ok := g.ByName("loop3"); !ok || len(d.Errs) == 0 {
		t.Errorf("loop3 with an unreadable number must be listed with the error: %+v", d)
	}
	// The same devices, read the same way, as without the option.
	all, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range g.All() {
		o, ok := all.ByName(d.KName)
		if !ok || o.MajMin != d.MajMin || *o.Size != *d.Size || o.Type != d.Type || len(o.Errs) != len(d.Errs) {
			t.Errorf("%s differs from a plain Discover: %+v vs %+v", d.KName, d, o)
		}
	}
}

// TestWithDetachedLoopsOpens: a detached loop device left out costs two
// opens (dev and the loop/ lookup); any other disk costs what it costs
// without the option (its dev, read to decide, is not read again).
func TestWithDetachedLoopsOpens(t *testing.T) {
	count := func(build func(*blockdevtest.Tree), opts ...blockdev.Option) int {
		t.Helper()
		return treeOpens(t, build, opts...)
	}
	off := blockdev.WithDetachedLoops(false)
	base := count(func(*blockdevtest.Tree) {}, off)
	if got := count(func(tr *blockdevtest.Tree) { tr.Loop(1, 0, "") }, off) - base; got != 2 {
		t.Errorf("a detached loop device left out cost %d opens, want 2", got)
	}
	for name, build := range map[string]func(*blockdevtest.Tree){
		"sata": func(tr *blockdevtest.Tree) { tr.SATA("sda", 0, 0, 1<<30, "M", "S", false) },
		"loop": func(tr *blockdevtest.Tree) { tr.Loop(0, 1<<20, "/img") },
	} {
		with, without := count(build, off), count(build)
		// A bound loop device also costs the loop/ lookup that tells.
		if extra := with - without; (name == "sata" && extra != 0) || (name == "loop" && extra != 1) {
			t.Errorf("%s costs %d opens with WithDetachedLoops(false), %d without", name, with, without)
		}
	}
}

// TestDetachedLoopsMatchLsblkLive: on this machine, WithDetachedLoops(false)
// lists exactly the devices lsblk lists without -a (which also leaves out
// RAM disks, major 1, by default). A free loop device is made sure of with
// losetup -f. Other tests attach and detach loop devices meanwhile, so the
// comparison is retried until lsblk gives the same answer before and after
// Discover.
func TestDetachedLoopsMatchLsblkLive(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "lsblk")
	testenv.RequireTool(t, "losetup")
	testenv.Run(t, "losetup", "-f") // creates a detached loop device if none is free
	ctx := context.Background()
	for try := 0; ; try++ {
		before := lsblkMajMins(t, testenv.Run(t, "lsblk", "-J", "-o", "MAJ:MIN"))
		g, err := blockdev.Discover(ctx, blockdev.WithProbe(false), blockdev.WithDetachedLoops(false))
		if err != nil {
			t.Fatal(err)
		}
		after := lsblkMajMins(t, testenv.Run(t, "lsblk", "-J", "-o", "MAJ:MIN"))
		var got []string
		for _, d := range g.All() {
			if d.MajMin.Major != 1 {
				got = append(got, d.MajMin.String())
			}
		}
		slices.Sort(got)
		if slices.Equal(got, before) {
			return
		}
		if !slices.Equal(before, after) && try < 20 {
			continue // the machine changed under us
		}
		t.Fatalf("lsblk lists %v, Discover with WithDetachedLoops(false) %v", before, got)
	}
}

// TestWatchDetachedLoops: a Watch that leaves out detached loop devices
// shows one once it is attached and drops it, with Device nil on the
// kernel's change event, once it is detached again.
func TestWatchDetachedLoops(t *testing.T) {
	defer goleak.VerifyNone(t)
	tr := blockdevtest.New(t.TempDir())
	tr.Virtio("vda", 0, 0, 1<<30)
	loop := tr.Loop(0, 0, "")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	src := uevent.NewFakeSource()
	w, err := blockdev.Watch(context.Background(), blockdev.WithRoot(tr.Dir), blockdev.WithEventSource(src),
		blockdev.WithDetachedLoops(false))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, ok := w.Graph().ByName("loop0"); ok {
		t.Fatal("a detached loop device is in the first graph")
	}
	tr.Set("loop0", "size", "2048").Set("loop0", "loop/backing_file", "/img")
	src.SendEvent(blockEvent(uevent.ActionChange, loop, "disk", 7, 0))
	if ev := next(t, w); ev.Device == nil || ev.Device.LoopBackingFile != "/img" {
		t.Fatalf("attach: %+v", ev)
	}
	tr.Set("loop0", "size", "0").Remove("loop0", "loop/backing_file")
	if err := os.Remove(filepath.Join(tr.Dir, "sys/devices/virtual/block/loop0/loop")); err != nil {
		t.Fatal(err)
	}
	src.SendEvent(blockEvent(uevent.ActionChange, loop, "disk", 7, 0))
	ev := next(t, w)
	if ev.Action != uevent.ActionChange || ev.Device != nil {
		t.Fatalf("detach: %+v", ev)
	}
	if _, ok := ev.Graph.ByName("loop0"); ok {
		t.Error("the detached loop device is still in the graph")
	}
}
