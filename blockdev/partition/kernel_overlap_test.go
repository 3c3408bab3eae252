package partition

import (
	"context"
	"errors"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// SyncKernel is handed a table that overlaps (it does not write, so nothing
// validated it). The kernel only refuses the overlapping add after the
// deletes before it went through, so a partition vanished from the kernel.
// It must refuse before the first BLKPG call.
func TestSyncKernelRefusesOverlapBeforeAnyCall(t *testing.T) {
	testenv.RequireRoot(t)
	ctx := context.Background()
	dev := testenv.Loop(t, 32<<20)
	d := openT(t, dev)
	tab, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, tab, AddSpec{Size: Bytes(8 << 20)})
	mustAdd(t, tab, AddSpec{Size: Bytes(8 << 20)})
	if err := d.Write(ctx, tab); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SyncKernel(ctx, tab); err != nil {
		t.Fatal(err)
	}
	before, err := d.KernelPartitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	bad := tab.Clone()
	p1, _ := bad.Partition(1)
	bad.Partitions[bad.index(2)].Start = p1.Start + 8 // inside partition 1
	if _, err := d.SyncKernel(ctx, bad); !errors.Is(err, ErrOverlap) {
		t.Errorf("SyncKernel of an overlapping table: %v, want ErrOverlap", err)
	}
	after, err := d.KernelPartitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmpDiff(before, after); diff != "" {
		t.Errorf("the kernel's partitions changed (-before +after):\n%s", diff)
	}
}
