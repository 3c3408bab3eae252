package blockdev_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"go.uber.org/goleak"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/uevent"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
)

// failedTree is two disks with a partition each, vdb1 mounted and swap on
// vda1, so that a mount or swap table read as empty shows as a change.
func failedTree(t *testing.T) *blockdevtest.Tree {
	t.Helper()
	tr := blockdevtest.New(t.TempDir())
	tr.Virtio("vda", 0, 0, 1<<30)
	tr.AddPartition("vda", "vda1", 254, 1, 1, 2048, 1<<20)
	tr.Virtio("vdb", 1, 16, 1<<30)
	tr.AddPartition("vdb", "vdb1", 254, 17, 1, 2048, 1<<20)
	tr.Mount("vdb1", "/data", "ext4")
	tr.Swap("vda1")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	return tr
}

// replaceWithDir turns a proc file of the tree into a directory: opening it
// succeeds, reading it fails with EISDIR, whoever runs the test (root
// ignores permission bits, so a chmod would not make it unreadable).
func replaceWithDir(t *testing.T, tr *blockdevtest.Tree, abs string) {
	t.Helper()
	p := tr.Path(abs)
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func errsMatch(errs []error, target error) bool {
	for _, e := range errs {
		if errors.Is(e, target) {
			return true
		}
	}
	return false
}

// TestUnlistableDisk: a disk whose sysfs directory cannot be listed is still
// listed, with an error saying its partitions are unknown; the disk beside
// it keeps its partition. Before the fix the failure was dropped and the
// disk looked as if it had no partitions at all.
func TestUnlistableDisk(t *testing.T) {
	tr := failedTree(t)
	eio := &fs.PathError{Op: "readdirent", Path: "vdb", Err: syscall.EIO}
	list := func(d *sysfs.Dir) ([]string, error) {
		if d.Path() == tr.Path("/sys/block/vdb") {
			return nil, eio
		}
		return d.Names()
	}
	for _, workers := range []int{1, 2} {
		g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir),
			blockdev.WithListFunc(list), blockdev.WithDiskWorkers(workers))
		if err != nil {
			t.Fatal(err)
		}
		vdb, ok := g.ByName("vdb")
		if !ok {
			t.Fatal("vdb not listed")
		}
		if vdb.Size == nil || *vdb.Size != 1<<30 {
			t.Errorf("vdb size %v: its attributes are still readable", vdb.Size)
		}
		if !hasAttrErr(vdb, ".", syscall.EIO) || !errsMatch(vdb.Errs, blockdev.ErrPartitions) {
			t.Errorf("vdb errs %v: want an ErrPartitions AttrError wrapping EIO", vdb.Errs)
		}
		if _, ok := g.ByName("vda1"); !ok {
			t.Error("vda1 lost")
		}
		if vda, _ := g.ByName("vda"); len(vda.Errs) != 0 {
			t.Errorf("vda errs %v", vda.Errs)
		}
	}
}

// TestUnopenableDisk: a disk directory that cannot be opened at all is
// listed too, and its error also says the partitions are unknown.
func TestUnopenableDisk(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.Virtio("vda", 0, 0, 1<<30)
	tr.Symlink("loopy", "/sys/block/loopy")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir))
	if err != nil {
		t.Fatal(err)
	}
	d, ok := g.ByName("loopy")
	if !ok {
		t.Fatal("loopy not listed")
	}
	if !hasAttrErr(d, ".", syscall.ELOOP) || !errsMatch(d.Errs, blockdev.ErrPartitions) {
		t.Errorf("loopy errs %v", d.Errs)
	}
}

// TestUnreadableProcTables: a mount or swap table that cannot be read is an
// error of the graph, never an empty table; devices are still listed. Before
// the fix a mounted partition looked unused.
func TestUnreadableProcTables(t *testing.T) {
	cases := []struct {
		name    string
		bend    func(t *testing.T, tr *blockdevtest.Tree)
		want    error // nil: no error
		mounted bool
		swap    bool
	}{
		{"intact", func(*testing.T, *blockdevtest.Tree) {}, nil, true, true},
		{"mountinfo is a directory", func(t *testing.T, tr *blockdevtest.Tree) {
			replaceWithDir(t, tr, "/proc/self/mountinfo")
		}, blockdev.ErrMounts, false, true},
		{"mountinfo missing", func(t *testing.T, tr *blockdevtest.Tree) {
			if err := os.Remove(tr.Path("/proc/self/mountinfo")); err != nil {
				t.Fatal(err)
			}
		}, blockdev.ErrMounts, false, true},
		{"swaps is a directory", func(t *testing.T, tr *blockdevtest.Tree) {
			replaceWithDir(t, tr, "/proc/swaps")
		}, blockdev.ErrSwaps, true, false},
		// A kernel without CONFIG_SWAP has no /proc/swaps: no swap, no error.
		{"swaps missing", func(t *testing.T, tr *blockdevtest.Tree) {
			if err := os.Remove(tr.Path("/proc/swaps")); err != nil {
				t.Fatal(err)
			}
		}, nil, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := failedTree(t)
			c.bend(t, tr)
			s, err := blockdev.NewScanner(blockdev.WithRoot(tr.Dir))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			discovers := map[string]func() (*blockdev.Graph, error){
				"Discover": func() (*blockdev.Graph, error) {
					return blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir))
				},
				"Scanner": func() (*blockdev.Graph, error) { return s.Discover(context.Background()) },
			}
			for how, discover := range discovers {
				g, err := discover()
				if err != nil {
					t.Fatalf("%s: %v", how, err)
				}
				checkTables(t, how, g, c.want, c.mounted, c.swap)
			}
		})
	}
}

func checkTables(t *testing.T, how string, g *blockdev.Graph, want error, mounted, swap bool) {
	t.Helper()
	if g.Len() != 4 {
		t.Errorf("%s: %d devices, want 4", how, g.Len())
	}
	errs := g.Errs()
	if want == nil && len(errs) != 0 {
		t.Errorf("%s: graph errs %v, want none", how, errs)
	}
	if want != nil && (len(errs) != 1 || !errors.Is(errs[0], want)) {
		t.Errorf("%s: graph errs %v, want one matching %v", how, errs, want)
	}
	if vdb1, ok := g.ByName("vdb1"); !ok || (len(vdb1.Mounts) != 0) != mounted {
		t.Errorf("%s: vdb1 mounts %v, want mounted %v", how, vdb1, mounted)
	}
	if vda1, ok := g.ByName("vda1"); !ok || vda1.Swap != swap {
		t.Errorf("%s: vda1 swap %v, want %v", how, vda1, swap)
	}
}

// TestWatchUnreadableMounts: an event re-reads the mount table; when that
// read fails the snapshot says so, and keeps saying so for devices read
// before the failure would have been wrong too.
func TestWatchUnreadableMounts(t *testing.T) {
	defer goleak.VerifyNone(t)
	tr := failedTree(t)
	src := uevent.NewFakeSource()
	w, err := blockdev.Watch(context.Background(), blockdev.WithRoot(tr.Dir), blockdev.WithEventSource(src))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if errs := w.Graph().Errs(); len(errs) != 0 {
		t.Fatalf("first graph errs %v", errs)
	}
	replaceWithDir(t, tr, "/proc/self/mountinfo")
	sys, _ := tr.SysPath("vdb")
	src.SendEvent(blockEvent(uevent.ActionChange, sys, "disk", 254, 16))
	ev := next(t, w)
	if errs := ev.Graph.Errs(); len(errs) != 1 || !errors.Is(errs[0], blockdev.ErrMounts) {
		t.Errorf("after a failed mountinfo read: errs %v", errs)
	}
	if vdb1, ok := ev.Graph.ByName("vdb1"); !ok {
		t.Error("vdb1 lost")
	} else if len(vdb1.Mounts) != 0 {
		t.Errorf("vdb1 mounts %v from an unreadable table", vdb1.Mounts)
	}
	// A second event on another disk: the table is still unreadable, one
	// error (not one per event).
	sysA, _ := tr.SysPath("vda")
	src.SendEvent(blockEvent(uevent.ActionChange, sysA, "disk", 254, 0))
	ev = next(t, w)
	if errs := ev.Graph.Errs(); len(errs) != 1 || !errors.Is(errs[0], blockdev.ErrMounts) {
		t.Errorf("second event: errs %v", errs)
	}
	// The table is readable again and vda is re-read: vdb1 still carries
	// what it was read with (no mounts), so the error must stay.
	if err := os.Remove(tr.Path("/proc/self/mountinfo")); err != nil {
		t.Fatal(err)
	}
	tr.Mount("vdb1", "/data", "ext4")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	src.SendEvent(blockEvent(uevent.ActionChange, sysA, "disk", 254, 0))
	ev = next(t, w)
	if vdb1, _ := ev.Graph.ByName("vdb1"); vdb1 == nil || len(vdb1.Mounts) != 0 {
		t.Errorf("vdb1 %v: not re-read, so still without mounts", vdb1)
	}
	if errs := ev.Graph.Errs(); len(errs) != 1 || !errors.Is(errs[0], blockdev.ErrMounts) {
		t.Errorf("third event: errs %v, want the earlier failure kept", errs)
	}
}

// TestWatchUnreadableBlockDir: when /sys/block cannot be opened to re-read
// the disk an event concerns, the disk must not vanish from the snapshot
// (that is a remove, which the kernel did not send); the snapshot keeps it
// and says the update failed.
func TestWatchUnreadableBlockDir(t *testing.T) {
	defer goleak.VerifyNone(t)
	tr := failedTree(t)
	src := uevent.NewFakeSource()
	w, err := blockdev.Watch(context.Background(), blockdev.WithRoot(tr.Dir), blockdev.WithEventSource(src))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	sys, _ := tr.SysPath("vdb")
	block := tr.Path("/sys/block")
	if err := os.Rename(block, block+".away"); err != nil {
		t.Fatal(err)
	}
	src.SendEvent(blockEvent(uevent.ActionChange, sys, "disk", 254, 16))
	ev := next(t, w)
	if err := os.Rename(block+".away", block); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"vdb", "vdb1"} {
		if _, ok := ev.Graph.ByName(n); !ok {
			t.Errorf("%s vanished from the snapshot", n)
		}
	}
	if ev.Device == nil {
		t.Error("event carries no device, as if removed")
	}
	if errs := ev.Graph.Errs(); len(errs) != 1 || !errors.Is(errs[0], blockdev.ErrNoDevices) {
		t.Errorf("errs %v, want one matching ErrNoDevices", errs)
	}
}

// TestMalformedMountLine: a mountinfo line that cannot be parsed may be the
// mount of any device, so the graph says the table was not fully read (one
// error however many lines), and the mounts on the other lines are kept.
func TestMalformedMountLine(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.Virtio("vda", 0, 0, 1<<30)
	tr.WriteFile("/proc/self/mountinfo", "1 0 0:1 / / rw - rootfs rootfs rw\n"+
		"37 1 254:0 /mnt rw - ext4\ngarbage\n"+
		"36 1 254:0 / /mnt rw,relatime - ext4 /dev/vda rw\n")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir))
	if err != nil {
		t.Fatal(err)
	}
	if errs := g.Errs(); len(errs) != 1 || !errors.Is(errs[0], blockdev.ErrMounts) || !errors.Is(errs[0], blockdev.ErrSyntax) {
		t.Errorf("errs %v, want one matching ErrMounts and ErrSyntax", errs)
	}
	if d, ok := g.ByName("vda"); !ok || len(d.MountPoints()) != 1 {
		t.Errorf("vda: %v", d)
	}
}

// TestUnexaminablePartitionEntry: an entry of a disk's directory named like
// a partition whose "partition" attribute cannot be examined (here a
// symlink loop: ELOOP, not "does not exist") is listed with its errors.
// It used to vanish, since a failed stat counted as "not a partition".
func TestUnexaminablePartitionEntry(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.Virtio("vda", 0, 0, 1<<30)
	tr.AddPartition("vda", "vda1", 254, 1, 1, 2048, 1<<20)
	sys, _ := tr.SysPath("vda")
	tr.Symlink("vda2", sys+"/vda2")
	// Entries that are not partitions stay out: a file and a directory
	// without a partition attribute.
	tr.WriteFile(sys+"/vda_file", "x")
	tr.WriteFile(sys+"/vdaq/other", "x")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	for _, empty := range []bool{true, false} {
		g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir), blockdev.WithEmpty(empty))
		if err != nil {
			t.Fatal(err)
		}
		if g.Len() != 3 {
			t.Errorf("%d devices, want vda, vda1, vda2", g.Len())
		}
		d, ok := g.ByName("vda2")
		if !ok {
			t.Fatal("vda2 not listed")
		}
		if !hasAttrErr(d, "partition", syscall.ELOOP) {
			t.Errorf("vda2 errs %v", d.Errs)
		}
		if v1, _ := g.ByName("vda1"); v1 == nil || v1.PartNumber == nil || *v1.PartNumber != 1 || len(v1.Errs) != 0 {
			t.Errorf("vda1: %+v", v1)
		}
	}
}
