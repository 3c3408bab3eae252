package fsys

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// TestBtrfsResizeClaimsFilesystemKey: the resize of a btrfs member claims
// the filesystem-wide key that fsys/btrfs's balance claims, so the
// scheduler never runs them together.
func TestBtrfsResizeClaimsFilesystemKey(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs", "btrfs")
	dev := testenv.Loop(t, 512<<20)
	testenv.Run(t, "mkfs.btrfs", "-f", "-q", dev)
	t.Cleanup(func() { _, _ = testenv.RunErr("btrfs", "device", "scan", "--forget", dev) })
	dir := t.TempDir()
	if err := unix.Mount(dev, dir, "btrfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { olUnmount(t, dir) })
	m, _ := newTestManager(t)
	op, plan, err := m.ResizeOp(context.Background(), dev, 400<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := btrfs.FilesystemKey(plan.UUID).Exclusive()
	found := false
	for _, r := range op.Resources {
		found = found || r == want
	}
	if !found {
		t.Fatalf("resize resources %v lack %v", op.Resources, want)
	}
	bal, err := btrfs.BalanceOp(dir, btrfs.BalanceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conflict := false
	for _, a := range op.Resources {
		for _, b := range bal.Resources {
			conflict = conflict || a.Conflicts(b)
		}
	}
	if !conflict {
		t.Errorf("resize %v and balance %v do not conflict", op.Resources, bal.Resources)
	}
}
