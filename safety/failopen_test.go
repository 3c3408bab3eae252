package safety

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/blockdevtest"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"golang.org/x/sys/unix"
)

// Every fact preflight could not gather must end as a refusal, never as
// "nothing there". Each test below was allowed before the fix it names.

func wantUnreadable(t *testing.T, r *Report, sub string) {
	t.Helper()
	wantCodes(t, r, CodeUnreadable)
	if ev := evidence(r, CodeUnreadable); !strings.Contains(ev, sub) {
		t.Fatalf("unreadable evidence %q lacks %q", ev, sub)
	}
}

// A discovery that fails (no sysfs block directory under the root) used to
// be logged and ignored: with no graph there were no mounts, holders or
// partitions, and a clean device was allowed.
func TestCheckDiscoveryFailureRefuses(t *testing.T) {
	dev := testenv.Loop(t, loopSize)
	r := check(t, dev, OpWipe, WithRoot(t.TempDir()))
	wantUnreadable(t, r, "discovery failed")
}

// A target that discovery does not list (a stale graph from WithGraph, a
// node whose sysfs entry is gone) has unknown mounts and holders.
func TestCheckDeviceMissingFromGraphRefuses(t *testing.T) {
	dev := testenv.Loop(t, loopSize)
	dir := t.TempDir()
	// A machine with one SATA disk: no loop device that could share our
	// device's number (the Sample tree has loop0 and loop200).
	tree := blockdevtest.New(dir)
	tree.SATA("sda", 0, 0, 64*blockdevtest.GiB, "WDC WD640", "WD-0001", true)
	if err := tree.Err(); err != nil {
		t.Fatal(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir))
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() != 1 {
		t.Fatalf("fake graph has %d devices", g.Len())
	}
	r := check(t, dev, OpWipe, WithGraph(g))
	wantUnreadable(t, r, "not in sysfs")
}

// liveLinks is a root whose sys and dev are the live ones and whose proc is
// the caller's to shape.
func liveLinks(t *testing.T) (root, proc string) {
	t.Helper()
	root = t.TempDir()
	for _, d := range []string{"sys", "dev"} {
		if err := os.Symlink("/"+d, filepath.Join(root, d)); err != nil {
			t.Fatal(err)
		}
	}
	proc = filepath.Join(root, "proc")
	if err := os.MkdirAll(filepath.Join(proc, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root, proc
}

// Discovery reads an unreadable mountinfo as "nothing mounted"; preflight
// must not.
func TestCheckUnreadableMountTableRefuses(t *testing.T) {
	dev := testenv.Loop(t, loopSize)
	root, proc := liveLinks(t)
	// mountinfo is a directory: it exists and every read fails (EISDIR).
	if err := os.Mkdir(filepath.Join(proc, "self", "mountinfo"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := check(t, dev, OpWipe, WithRoot(root))
	wantUnreadable(t, r, "mount table")

	// With a readable mountinfo and no /proc/swaps (a kernel without swap)
	// the same device is allowed: the refusal above came from the table.
	root, proc = liveLinks(t)
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proc, "self", "mountinfo"), mi, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := check(t, dev, OpWipe, WithRoot(root)); !r.Allowed {
		t.Fatalf("clean device with readable tables refused: %s", r)
	}
	// An unreadable swaps file is unknown swap.
	if err := os.Mkdir(filepath.Join(proc, "swaps"), 0o755); err != nil {
		t.Fatal(err)
	}
	wantUnreadable(t, check(t, dev, OpWipe, WithRoot(root)), "swap table")
}

// An O_EXCL open that fails with anything but EBUSY (here ENXIO: a node
// whose driver is absent) proves nothing about claims on the device; it
// used to count as "not in use".
func TestGatherBusyOtherErrorIsUnreadable(t *testing.T) {
	testenv.RequireRoot(t)
	node := filepath.Join(t.TempDir(), "nodriver")
	// Major 240 is reserved for local use: no driver answers it here.
	if err := unix.Mknod(node, unix.S_IFBLK|0o600, int(unix.Mkdev(240, 77))); err != nil {
		t.Fatal(err)
	}
	f := &Facts{}
	gatherBusy(f, node)
	if f.Busy || !strings.Contains(f.Unreadable, "open(O_EXCL)") {
		t.Fatalf("busy %v unreadable %q", f.Busy, f.Unreadable)
	}
	r, err := Evaluate(context.Background(), &Facts{Path: node, Exists: true, IsBlock: true, Size: loopSize, Unreadable: f.Unreadable}, OpWipe)
	if err != nil || r.Allowed {
		t.Fatalf("allowed %v err %v", r.Allowed, err)
	}
}

// A partition that cannot be read may be an LVM PV or an md member: the
// disk's report is then unproven. It used to be skipped.
func TestCheckUnreadablePartitionRefuses(t *testing.T) {
	dev := testenv.Loop(t, loopSize)
	p1, _ := partitioned(t, dev)
	open := func(path string, flag int) (Device, error) {
		if path == p1 {
			return failingDevice{}, nil
		}
		return openDevice(path, flag)
	}
	wantUnreadable(t, check(t, dev, OpWipe, WithReader(open)), p1)
}

// A sysfs attribute preflight decides from (ro, size, holders) that exists
// but cannot be read is unknown, not false.
func TestGraphFactsUnreadableAttribute(t *testing.T) {
	dir := t.TempDir()
	if err := blockdevtest.Sample(dir).Err(); err != nil {
		t.Fatal(err)
	}
	vda, err := filepath.EvalSymlinks(filepath.Join(dir, "sys", "block", "vda"))
	if err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(vda, "ro")
	if err := os.Remove(ro); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(ro, 0o755); err != nil { // exists, every read fails
		t.Fatal(err)
	}
	g, err := blockdev.Discover(context.Background(), blockdev.WithRoot(dir))
	if err != nil {
		t.Fatal(err)
	}
	d, ok := g.ByName("vda")
	if !ok {
		t.Fatal("no vda")
	}
	c, err := newCheckConfig(OpWipe, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &Facts{Path: d.Path, Exists: true, IsBlock: true}
	graphFacts(f, g, d, c)
	if !strings.Contains(f.Unreadable, "ro") {
		t.Fatalf("unreadable %q, errs %v", f.Unreadable, d.Errs)
	}
	r, _ := Evaluate(context.Background(), f, OpWipe)
	wantCodes(t, r, CodeUnreadable)
}

// A lock-down or an interrupted mutation of the disk covers its partitions,
// and one of a partition covers its disk (rewriting the table under it):
// the state of the whole stack is in doubt. On disks without a serial or
// WWN (loop, virtio) the identities never matched, and both were allowed.
func TestCheckLockdownCoversTheStack(t *testing.T) {
	ctx := context.Background()
	dev := testenv.Loop(t, loopSize)
	p1, p2 := partitioned(t, dev)
	idOf := func(p string) Identity {
		t.Helper()
		id, err := IdentityOf(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}

	j := openJ(t, t.TempDir())
	if err := j.LockDown(ctx, idOf(dev), "table restore failed"); err != nil {
		t.Fatal(err)
	}
	r := check(t, p1, OpFormat, WithJournal(j))
	wantCodes(t, r, CodeLockedDown)
	if ev := evidence(r, CodeLockedDown); !strings.Contains(ev, dev) {
		t.Fatalf("evidence %q does not name the disk", ev)
	}

	j2 := openJ(t, t.TempDir())
	if err := j2.LockDown(ctx, idOf(p2), "mkfs undo failed"); err != nil {
		t.Fatal(err)
	}
	wantCodes(t, check(t, dev, OpPartition, WithJournal(j2)), CodeLockedDown)
	if r := check(t, p1, OpFormat, WithJournal(j2)); r.Has(CodeLockedDown) {
		t.Fatalf("a sibling partition's lock-down refused %s: %s", p1, r)
	}

	// An interrupted mutation of the disk, seen through a snapshot.
	dir := t.TempDir()
	j3, err := OpenJournal(ctx, WithStateDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j3.Begin(ctx, Intent{Op: "partition.write", Target: idOf(dev)}); err != nil {
		t.Fatal(err)
	}
	j3.Close() // no outcome: interrupted
	s, err := ReadJournal(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	wantCodes(t, check(t, p2, OpFormat, WithSnapshot(s)), CodePendingRecovery)
}
