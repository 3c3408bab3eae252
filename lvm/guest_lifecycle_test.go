package lvm

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// lifecycleGuestEnv names the guest's disks for TestGuestLifecycle
// (internal/vmtest's TestGuestLVMLifecycle sets it); cacheGuestEnv says the
// guest has dm_cache.
const (
	lifecycleGuestEnv = "EOS_STORAGE_LVM_LIFECYCLE"
	cacheGuestEnv     = "EOS_STORAGE_LVM_CACHE"
)

// TestGuestLifecycle runs only in the VM tier's guest (device-mapper):
// activation, thin pools (create, extend data and metadata), thin LVs and
// thin snapshots, a classic snapshot and its merge, cache attach/detach,
// and filesystem-aware resizes of active LVs: ext4 grown online and
// shrunk offline through fsys, xfs grown and its shrink refused; data
// checksums are compared after every change.
func TestGuestLifecycle(t *testing.T) {
	env := os.Getenv(lifecycleGuestEnv)
	if env == "" {
		t.Skipf("runs in the VM tier's guest (%s unset)", lifecycleGuestEnv)
	}
	if _, err := os.Stat("/dev/mapper/control"); err != nil {
		testenv.Skip(t, "no device-mapper: %v", err)
	}
	disks := strings.Split(env, ",")
	ctx := context.Background()
	x, err := command.New()
	must(t, err)
	tool, err := NewTool(x, WithDevices(disks...))
	must(t, err)
	j, err := safety.OpenJournal(ctx, append([]safety.Option{safety.WithStateDir(t.TempDir())}, RollForward(tool)...)...)
	must(t, err)
	defer j.Close()
	fm, err := fsys.New(fsys.WithJournal(j))
	must(t, err)
	m, err := NewManager(tool, WithJournal(j), WithFsys(fm))
	must(t, err)
	do := func(op opResult) {
		t.Helper()
		must(t, run1(t, op.op, op.err))
	}
	for _, d := range disks {
		do(r(m.PVCreateOp(ctx, d)))
	}
	do(r(m.VGCreateOp(ctx, "gvg", disks, VGOptions{})))
	inv := func() *Report { rep, err := tool.Inventory(ctx); must(t, err); return rep }

	// Activation.
	do(r(m.LVCreateOp(ctx, "gvg", LVSpec{Name: "lin", SizeBytes: 64 << 20})))
	do(r(m.ActivateOp(ctx, "gvg", "lin", false)))
	if inv().LV("gvg", "lin").Attr.Active() {
		t.Fatal("lin still active")
	}
	do(r(m.ActivateOp(ctx, "gvg", "lin", true)))
	if !inv().LV("gvg", "lin").Attr.Active() {
		t.Fatal("lin not active")
	}
	t.Log("activation: ok")

	// ext4: grow online (mounted), shrink offline through fsys.
	dev := "/dev/gvg/lin"
	testenv.Run(t, "mkfs.ext4", "-q", "-F", dev)
	mnt := t.TempDir()
	t.Cleanup(func() { testenv.RunErr("umount", mnt) })
	testenv.Run(t, "mount", dev, mnt)
	sum := writeData(t, filepath.Join(mnt, "data"), 8<<20)
	do(r(m.LVResizeOp(ctx, "gvg", "lin", 128<<20)))
	info, err := fm.Inspect(ctx, dev)
	must(t, err)
	if info.SizeBytes < 120<<20 {
		t.Fatalf("ext4 did not grow online: %+v", info)
	}
	testenv.Run(t, "umount", mnt)
	do(r(m.LVResizeOp(ctx, "gvg", "lin", 96<<20)))
	if l := inv().LV("gvg", "lin"); l.Size != 96<<20 {
		t.Fatalf("lin is %d", l.Size)
	}
	testenv.Run(t, "e2fsck", "-fn", dev)
	testenv.Run(t, "mount", dev, mnt)
	checkData(t, filepath.Join(mnt, "data"), sum)
	// Below the filesystem's MinSize: refused, nothing changed.
	op, err := m.LVResizeOp(ctx, "gvg", "lin", 4<<20)
	if err = run1(t, op, err); err == nil {
		t.Fatal("shrinking mounted ext4 to 4 MiB was allowed")
	}
	t.Logf("ext4 grown online to 128 MiB, shrunk offline to 96 MiB, checksum intact; 4 MiB: %v", err)
	// lvremove of an open (mounted) LV is refused.
	op, err = m.LVRemoveOp(ctx, "gvg", "lin")
	var re *RefusedError
	if err = run1(t, op, err); !errors.As(err, &re) || re.Code != CodeOpen {
		t.Fatalf("lvremove of a mounted LV: %v", err)
	}
	op, err = m.VGRemoveOp(ctx, "gvg")
	if err = run1(t, op, err); !errors.As(err, &re) || re.Code != CodeOpen {
		t.Fatalf("vgremove with a mounted LV: %v", err)
	}
	testenv.Run(t, "umount", mnt)

	// xfs: grow; a shrink is refused.
	do(r(m.LVCreateOp(ctx, "gvg", LVSpec{Name: "x", SizeBytes: 320 << 20})))
	xdev := "/dev/gvg/x"
	testenv.Run(t, "mkfs.xfs", "-q", "-f", xdev)
	testenv.Run(t, "mount", xdev, mnt)
	xsum := writeData(t, filepath.Join(mnt, "data"), 8<<20)
	do(r(m.LVResizeOp(ctx, "gvg", "x", 400<<20)))
	if _, err = m.LVResizeOp(ctx, "gvg", "x", 340<<20); !errors.As(err, &re) || re.Code != CodeFsShrink {
		t.Fatalf("xfs shrink: %v", err)
	}
	checkData(t, filepath.Join(mnt, "data"), xsum)
	testenv.Run(t, "umount", mnt)
	t.Logf("xfs grown to 400 MiB; shrink refused: %v", err)

	// Classic snapshot, then merge (the origin is closed, so it is immediate).
	do(r(m.LVCreateOp(ctx, "gvg", LVSpec{Name: "orig", SizeBytes: 32 << 20})))
	osum := writeData(t, "/dev/gvg/orig", 4<<20)
	do(r(m.SnapshotOp(ctx, "gvg", "orig", "snap", 16<<20)))
	writeData(t, "/dev/gvg/orig", 4<<20) // changes after the snapshot
	op, err = m.LVResizeOp(ctx, "gvg", "orig", 16<<20)
	if err = run1(t, op, err); !errors.As(err, &re) || (re.Code != CodeHasSnapshots && re.Code != CodeFsUnknown) {
		t.Fatalf("reduce of an origin with a snapshot: %v", err)
	}
	do(r(m.MergeSnapshotOp(ctx, "gvg", "snap")))
	if inv().LV("gvg", "snap") != nil {
		t.Fatal("snapshot still there after the merge")
	}
	checkData(t, "/dev/gvg/orig", osum)
	t.Log("classic snapshot merged: the origin reads as at the snapshot")

	// Thin pool, extend data and metadata, thin LV and thin snapshot.
	do(r(m.LVCreateOp(ctx, "gvg", LVSpec{Name: "pool", Type: LVThinPool, SizeBytes: 64 << 20, MetadataBytes: 4 << 20})))
	must(t, m.GrowPool(ctx, "gvg", "pool", 96<<20, 0))
	must(t, m.GrowPool(ctx, "gvg", "pool", 0, 8<<20))
	p := inv().LV("gvg", "pool")
	if p.Size != 96<<20 {
		t.Fatalf("pool data %d", p.Size)
	}
	meta := inv().LV("gvg", "["+p.MetadataLV+"]")
	t.Logf("thin pool: data %d bytes, metadata LV %s %+v", p.Size, p.MetadataLV, meta)
	do(r(m.LVCreateOp(ctx, "gvg", LVSpec{Name: "thin", Type: LVThin, Pool: "pool", SizeBytes: 256 << 20})))
	tsum := writeData(t, "/dev/gvg/thin", 4<<20)
	do(r(m.SnapshotOp(ctx, "gvg", "thin", "tsnap", 0)))
	do(r(m.ActivateOp(ctx, "gvg", "tsnap", true)))
	writeData(t, "/dev/gvg/thin", 4<<20)
	checkData(t, "/dev/gvg/tsnap", tsum)
	t.Log("thin pool extended (data, metadata); thin snapshot keeps the data")

	// Cache attach and detach.
	if os.Getenv(cacheGuestEnv) == "1" {
		do(r(m.LVCreateOp(ctx, "gvg", LVSpec{Name: "cpool", Type: LVCachePool, SizeBytes: 16 << 20})))
		csum := writeData(t, "/dev/gvg/orig", 4<<20)
		do(r(m.CacheAttachOp(ctx, "gvg", "orig", "cpool")))
		if l := inv().LV("gvg", "orig"); !strings.Contains(l.Pool, "cpool") { // lvm 2.03 names it [cpool_cpool]
			t.Fatalf("orig not cached: %+v", l)
		}
		checkData(t, "/dev/gvg/orig", csum)
		do(r(m.CacheDetachOp(ctx, "gvg", "orig")))
		checkData(t, "/dev/gvg/orig", csum)
		t.Log("cache attached and detached, data intact")
	}
	do(r(m.VGRemoveOp(ctx, "gvg")))
	t.Log("lifecycle: ok")
}

func r(op sched.Operation, err error) opResult { return opResult{op, err} }

type opResult struct {
	op  sched.Operation
	err error
}

func writeData(t *testing.T, path string, n int64) dataSum {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	must(t, err)
	h := sha256.New()
	src, err := os.Open("/dev/urandom")
	must(t, err)
	defer src.Close()
	if _, err := io.CopyN(io.MultiWriter(f, h), src, n); err != nil {
		t.Fatal(err)
	}
	must(t, f.Sync())
	must(t, f.Close())
	var s dataSum
	s.n = n
	copy(s.sum[:], h.Sum(nil))
	return s
}

type dataSum struct {
	n   int64
	sum [32]byte
}

func checkData(t *testing.T, path string, want dataSum) {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(h, f, want.n); err != nil {
		t.Fatal(err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	if s != want.sum {
		t.Fatalf("%s: checksum changed", path)
	}
}
