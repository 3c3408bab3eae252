package blockdev_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// briefTree has every kind of device the brief read must tell apart: two
// detached loop devices, a bound one, one bound to an empty file (loop/
// exists, size zero), an empty zram disk (size zero, another major), a SATA
// disk with a partition and a dm device on it.
func briefTree(t *testing.T) *blockdevtest.Tree {
	t.Helper()
	tr := blockdevtest.New(t.TempDir())
	tr.Loop(0, 1<<20, "/img")
	tr.Loop(1, 0, "")
	tr.Loop(2, 0, "")
	tr.Loop(3, 0, "/empty.img")
	tr.Set("loop3", "size", "0")
	tr.Set("loop2", "ro", "1") // left by its last binding
	tr.AddDisk(blockdevtest.Disk{Name: "zram0", Major: 252, Minor: 0})
	tr.SATA("sda", 0, 0, 1<<30, "M", "S", true)
	tr.AddPartition("sda", "sda1", 8, 1, 1, 1<<20, 1<<29)
	tr.DM(0, "vg-lv", "LVM-x", 1<<20, "sda1")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	return tr
}

func byKName(g *blockdev.Graph) map[string]*blockdev.Device {
	m := map[string]*blockdev.Device{}
	for _, d := range g.All() {
		m[d.KName] = d
	}
	return m
}

// errText compares errors by their text (they hold unexported fields).
var errText = cmp.Comparer(func(a, b error) bool { return (a == nil) == (b == nil) && (a == nil || a.Error() == b.Error()) })

// notBrief are the Device fields a brief read leaves out: ro, diskseq and
// everything of the optional groups but the transport and hotplug.
var notBrief = cmpopts.IgnoreFields(blockdev.Device{}, "ReadOnly", "DiskSeq", "Rotational",
	"LogicalSectorSize", "PhysicalSectorSize", "MinIO", "OptIO", "Alignment", "DiscardAlignment",
	"DiscardGranularity", "DiscardMax", "DiscardZeroes", "Scheduler", "NrRequests", "ReadAheadKiB",
	"Zoned", "DAX", "AddRandom", "WriteSameMax", "ZoneSize", "ZoneWriteGranularity", "ZoneAppendMax",
	"Zones", "MaxOpenZones", "MaxActiveZones", "State", "Subsystems", "Node")

// TestBriefDetachedLoops: with every attribute group, a brief read gives
// every device but the detached loop devices exactly as a full read does,
// and those with the fields it documents (name, number, paths, type, size,
// removable, transport, hotplug) as a full read has them, no others and no
// errors; the graph is the same.
func TestBriefDetachedLoops(t *testing.T) {
	tr := briefTree(t)
	ctx := context.Background()
	for _, g := range []blockdev.AttrGroup{blockdev.AttrAll, blockdev.AttrDefault, blockdev.AttrHardware | blockdev.AttrRotational, 0} {
		opts := []blockdev.Option{blockdev.WithRoot(tr.Dir), blockdev.WithAttributes(g)}
		full, err := blockdev.Discover(ctx, opts...)
		if err != nil {
			t.Fatal(err)
		}
		brief, err := blockdev.Discover(ctx, append(opts, blockdev.WithBriefDetachedLoops(true))...)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := kernelNames(brief), kernelNames(full); !slices.Equal(got, want) {
			t.Fatalf("groups %#x: brief lists %v, full %v", uint(g), got, want)
		}
		fm := byKName(full)
		for name, b := range byKName(brief) {
			f := fm[name]
			if name == "loop1" || name == "loop2" {
				if diff := cmp.Diff(f, b, notBrief, errText); diff != "" {
					t.Errorf("groups %#x: %s brief differs from full (-full +brief):\n%s", uint(g), name, diff)
				}
				if b.ReadOnly != nil || b.DiskSeq != nil || b.Rotational != nil || b.Node != nil || b.Alignment != nil || len(b.Errs) > 0 {
					t.Errorf("groups %#x: %s brief read more than documented: %+v", uint(g), name, b)
				}
				continue
			}
			if diff := cmp.Diff(f, b, errText); diff != "" {
				t.Errorf("groups %#x: %s differs (-full +brief):\n%s", uint(g), name, diff)
			}
		}
		bm := byKName(brief)
		for _, f := range full.All() {
			b := bm[f.KName]
			if got, want := knames(brief.Children(b)), knames(full.Children(f)); !slices.Equal(got, want) {
				t.Errorf("groups %#x: %s children %v, full %v", uint(g), f.KName, got, want)
			}
		}
	}
}

// TestBriefDetachedLoopsReadsFull: what only looks like a detached loop
// device is read in full: a size that is not zero or cannot be parsed
// (reported as in a full read), a loop/ directory.
func TestBriefDetachedLoopsReadsFull(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.Loop(1, 0, "")
	tr.Set("loop1", "size", "8") // no loop/, yet a size: not the driver's state
	tr.Loop(2, 0, "")
	tr.Set("loop2", "size", "garbage")
	tr.Loop(3, 0, "/empty.img")
	tr.Set("loop3", "size", "0")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	full, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir))
	if err != nil {
		t.Fatal(err)
	}
	brief, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir), blockdev.WithBriefDetachedLoops(true))
	if err != nil {
		t.Fatal(err)
	}
	fm := byKName(full)
	for name, b := range byKName(brief) {
		if diff := cmp.Diff(fm[name], b, errText); diff != "" {
			t.Errorf("%s differs (-full +brief):\n%s", name, diff)
		}
	}
	if d := byKName(brief)["loop2"]; d == nil || len(d.Errs) == 0 || d.Size != nil {
		t.Errorf("loop2's unparsable size: %+v, want absent with its error", d)
	}
}

// TestBriefDetachedLoopsLeftOut: with empty devices or detached loop devices
// left out, brief changes nothing: they are not listed.
func TestBriefDetachedLoopsLeftOut(t *testing.T) {
	tr := briefTree(t)
	ctx := context.Background()
	for _, o := range []blockdev.Option{blockdev.WithEmpty(false), blockdev.WithDetachedLoops(false)} {
		a, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir), o)
		if err != nil {
			t.Fatal(err)
		}
		b, err := blockdev.Discover(ctx, blockdev.WithRoot(tr.Dir), o, blockdev.WithBriefDetachedLoops(true))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(byKName(a), byKName(b), errText); diff != "" {
			t.Errorf("brief changed a discovery that leaves detached loops out:\n%s", diff)
		}
		if _, ok := b.ByName("loop1"); ok {
			t.Error("loop1 listed")
		}
	}
}

// procFile writes /proc/NAME of a fake tree.
func procFile(t *testing.T, tr *blockdevtest.Tree, name string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(tr.Path("/proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tr.Path("/proc"), name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBriefDetachedLoopsOpens: a detached loop device read in brief costs an
// fstatat (of loop/), plus its dev attribute where /proc/diskstats does not
// give its number and its size where /proc/partitions (which lists only
// devices whose size is not zero) cannot be read; each table is read once
// per Discover. In full it costs twenty-odd.
func TestBriefDetachedLoopsOpens(t *testing.T) {
	brief := blockdev.WithBriefDetachedLoops(true)
	loops := func(tr *blockdevtest.Tree) {
		for i := range 10 {
			tr.Loop(i, 0, "")
		}
	}
	none := func(*blockdevtest.Tree) {}
	with := func(stats, parts bool, build func(*blockdevtest.Tree)) func(*blockdevtest.Tree) {
		return func(tr *blockdevtest.Tree) {
			build(tr)
			if stats {
				var b []byte
				for i := range 10 {
					b = fmt.Appendf(b, "   7       %d loop%d 0 0 0 0 0 0 0 0 0 0 0\n", i, i)
				}
				procFile(t, tr, "diskstats", b)
			}
			if parts {
				procFile(t, tr, "partitions", []byte("major minor  #blocks  name\n\n"))
			}
		}
	}
	for _, c := range []struct {
		stats, parts bool
		want         int
	}{{false, false, 30}, {true, false, 20}, {false, true, 20}, {true, true, 10}} {
		if got := treeOpens(t, with(c.stats, c.parts, loops), brief) - treeOpens(t, with(c.stats, c.parts, none), brief); got != c.want {
			t.Errorf("10 detached loop devices in brief (diskstats %v, partitions %v): %d opens, want %d", c.stats, c.parts, got, c.want)
		}
	}
	if full := treeOpens(t, loops) - treeOpens(t, none); full < 150 {
		t.Errorf("10 detached loop devices in full: %d opens; the brief read's case rests on twenty-odd each", full)
	}
}

// TestBriefDetachedLoopsPartitions: /proc/partitions decides the size
// without a read: a loop device it lists (a size when it was read) is read
// in full even with no loop/, one it does not list is detached with size
// zero; where it cannot be parsed a line names nothing.
func TestBriefDetachedLoopsPartitions(t *testing.T) {
	tr := blockdevtest.New(t.TempDir())
	tr.Loop(1, 0, "")
	tr.Loop(2, 0, "")
	tr.Set("loop2", "size", "8")
	tr.Loop(3, 0, "")
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	procFile(t, tr, "partitions", []byte("major minor  #blocks  name\n\n   7        2          4 loop2\n   7   x 4 loop3\n"))
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(tr.Dir), blockdev.WithBriefDetachedLoops(true))
	if err != nil {
		t.Fatal(err)
	}
	m := byKName(g)
	for _, name := range []string{"loop1", "loop3"} {
		if d := m[name]; d == nil || d.Size == nil || *d.Size != 0 || d.ReadOnly != nil {
			t.Errorf("%s: %+v, want a brief read of size 0", name, d)
		}
	}
	if d := m["loop2"]; d == nil || d.Size == nil || *d.Size != 8*512 || d.ReadOnly == nil {
		t.Errorf("loop2: %+v, want a full read of size 4096", d)
	}
}

// TestBriefDetachedLoopsLive: on this machine, every device a full read
// and a brief read both see unchanged (a full read before and after agree
// on it: other tests bind and release loop devices all the time) is the
// same, the detached loop devices with the fields a brief read documents.
// The test detaches one of its own, so that there is one at least (other
// tests may bind it again at once: then it waits for any other).
func TestBriefDetachedLoopsLive(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "losetup")
	// Bound and released at once, without testenv.Loop's cleanup: that
	// would release the device again at the end, by then perhaps another
	// test's.
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := testenv.RunErr("losetup", "-f", "--show", img)
	if err != nil {
		testenv.Skip(t, "cannot attach a loop device: %v", err)
	}
	if _, err := testenv.RunErr("losetup", "-d", strings.TrimSpace(string(out))); err != nil {
		t.Fatalf("losetup -d: %v", err)
	}
	ctx := context.Background()
	opts := []blockdev.Option{blockdev.WithProbe(false)}
	// A mounted filesystem's usage moves between any two reads.
	varies := cmpopts.IgnoreFields(blockdev.Device{}, "FSUsage")
	compared := 0
	for range 5 {
		before, err := blockdev.Discover(ctx, opts...)
		if err != nil {
			t.Fatal(err)
		}
		brief, err := blockdev.Discover(ctx, append(opts, blockdev.WithBriefDetachedLoops(true))...)
		if err != nil {
			t.Fatal(err)
		}
		after, err := blockdev.Discover(ctx, opts...)
		if err != nil {
			t.Fatal(err)
		}
		bm, am := byKName(brief), byKName(after)
		detachedSeen := 0
		for kn, f := range byKName(before) {
			b, a := bm[kn], am[kn]
			if b == nil || a == nil || !cmp.Equal(f, a, varies, errText) {
				continue // changed while we looked
			}
			compared++
			detached := f.Type == blockdev.TypeLoop && f.LoopBackingFile == "" && f.Size != nil && *f.Size == 0
			if detached {
				detachedSeen++
				if diff := cmp.Diff(f, b, notBrief, varies, errText); diff != "" {
					t.Errorf("%s (detached) brief differs from full (-full +brief):\n%s", kn, diff)
				}
				continue
			}
			if diff := cmp.Diff(f, b, varies, errText); diff != "" {
				t.Errorf("%s differs (-full +brief):\n%s", kn, diff)
			}
		}
		if detachedSeen > 0 {
			t.Logf("%d devices compared, %d of them detached loop devices", compared, detachedSeen)
			return
		}
	}
	t.Errorf("no detached loop device seen unchanged by three reads in five tries (%d devices compared)", compared)
}
