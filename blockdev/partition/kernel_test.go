package partition

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

func TestKernelPlanOrder(t *testing.T) {
	have := []KernelPartition{{Number: 1, Start: 2048, Size: 100}, {Number: 2, Start: 4096, Size: 100}, {Number: 3, Start: 8192, Size: 100}, {Number: 4, Start: 9000, Size: 50}}
	want := map[int]KernelPartition{
		1: {Number: 1, Start: 2048, Size: 100},  // unchanged
		2: {Number: 2, Start: 4096, Size: 4000}, // grows into 3's space
		4: {Number: 4, Start: 9000, Size: 20},   // shrinks
		5: {Number: 5, Start: 20000, Size: 10},  // new
	}
	got := kernelPlan(have, want)
	exp := []KernelChange{{"delete", 3, 8192, 100}, {"resize", 4, 9000, 20}, {"resize", 2, 4096, 4000}, {"add", 5, 20000, 10}}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Error(diff)
	}
}

func kernelView(t *testing.T, d *Disk) map[int]KernelPartition {
	t.Helper()
	kp, err := d.KernelPartitions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[int]KernelPartition{}
	for _, p := range kp {
		p.Name, p.Path = "", ""
		m[p.Number] = p
	}
	return m
}

// partx reads the table itself (libblkid): the oracle for what the kernel
// should have after SyncKernel.
func partxView(t *testing.T, dev string) map[int]KernelPartition {
	t.Helper()
	out := testenv.Run(t, "partx", "-g", "-r", "-o", "NR,START,SECTORS,TYPE", dev)
	m := map[int]KernelPartition{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		n, _ := strconv.Atoi(f[0])
		s, _ := strconv.ParseUint(f[1], 10, 64)
		z, _ := strconv.ParseUint(f[2], 10, 64)
		if len(f) == 4 && (f[3] == "0x5" || f[3] == "0xf" || f[3] == "0x85") {
			z = 2 // the kernel registers an extended partition's first 1 KiB only
		}
		m[n] = KernelPartition{Number: n, Start: s, Size: z}
	}
	return m
}

func TestSyncKernelDOSWithLogicalsMatchesPartx(t *testing.T) {
	testenv.RequireTool(t, "partx")
	dev := testenv.Loop(t, 128<<20)
	d := openT(t, dev)
	tab, err := NewDOS(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, tab, AddSpec{Size: Bytes(10 << 20)})
	mustAdd(t, tab, AddSpec{Size: Bytes(80 << 20), Type: "extended"})
	mustAdd(t, tab, AddSpec{Size: Bytes(10 << 20), Logical: true})
	mustAdd(t, tab, AddSpec{Size: Bytes(20 << 20), Logical: true, Type: "swap"})
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	changes, err := d.SyncKernel(context.Background(), tab)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 4 {
		t.Errorf("changes %v, want 4 adds", changes)
	}
	if diff := cmp.Diff(partxView(t, dev), kernelView(t, d)); diff != "" {
		t.Errorf("kernel view after SyncKernel differs from partx's reading of the table (-partx +kernel):\n%s", diff)
	}
	// A second sync has nothing to do.
	if changes, err := d.SyncKernel(context.Background(), tab); err != nil || len(changes) != 0 {
		t.Errorf("second sync: %v %v", changes, err)
	}
	// Delete the first logical: the second becomes 5, which the kernel
	// learns as delete 6 and a move of 5.
	if err := tab.Delete(5); err != nil {
		t.Fatal(err)
	}
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SyncKernel(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(partxView(t, dev), kernelView(t, d)); diff != "" {
		t.Errorf("after deleting a logical (-partx +kernel):\n%s", diff)
	}
}

func mounted(t *testing.T, node string) bool {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), node+" ")
}

// Editing partitions of a disk with one mounted works and leaves the mount
// alone; touching the mounted one is refused with the reason, before any
// kernel call; a whole-table re-read is refused while anything is in use.
func TestSyncKernelWithMountedPartition(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ext4", "mount")
	dev := testenv.Loop(t, 96<<20)
	d := openT(t, dev)
	tab, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, tab, AddSpec{Size: Bytes(16 << 20), Name: "data"})
	mustAdd(t, tab, AddSpec{Size: Bytes(16 << 20)})
	mustAdd(t, tab, AddSpec{Size: Bytes(16 << 20)})
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SyncKernel(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	p1 := PartitionNode(dev, 1)
	testenv.Run(t, "mkfs.ext4", "-q", "-F", p1)
	mnt := t.TempDir()
	testenv.Run(t, "mount", p1, mnt)
	t.Cleanup(func() { _, _ = testenv.RunErr("umount", mnt) })

	// Delete 3, grow 2, add 4: allowed, p1 untouched.
	if err := tab.Delete(3); err != nil {
		t.Fatal(err)
	}
	if _, err := tab.Resize(2, Bytes(32<<20)); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, tab, AddSpec{Size: Size{Rest: true}})
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	changes, err := d.SyncKernel(context.Background(), tab)
	if err != nil {
		t.Fatalf("SyncKernel with p1 mounted: %v", err)
	}
	for _, c := range changes {
		if c.Partition == 1 {
			t.Errorf("touched the mounted partition: %v", c)
		}
	}
	if !mounted(t, p1) {
		t.Fatal("p1 no longer mounted")
	}
	if diff := cmp.Diff(wanted(tab), kernelView(t, d)); diff != "" {
		t.Errorf("kernel view (-table +kernel):\n%s", diff)
	}

	// Resizing the mounted partition is refused with the reason.
	before := kernelView(t, d)
	big := tab.Clone()
	if err := big.Delete(2); err != nil {
		t.Fatal(err)
	}
	if _, err := big.Resize(1, Bytes(24<<20)); err != nil {
		t.Fatal(err)
	}
	_, err = d.SyncKernel(context.Background(), big)
	var ke *KernelError
	if !errors.As(err, &ke) || !errors.Is(err, ErrBusy) || !errors.Is(err, ErrKernelNotUpdated) || ke.Partition != 1 {
		t.Fatalf("resize of mounted p1: %v, want a KernelError with ErrBusy for partition 1", err)
	}
	if !strings.Contains(ke.Advice, "partx -u") {
		t.Errorf("advice %q does not say what to do", ke.Advice)
	}
	if diff := cmp.Diff(before, kernelView(t, d)); diff != "" {
		t.Errorf("a refused sync changed the kernel view:\n%s", diff)
	}
	if err := d.Reread(context.Background(), tab); !errors.Is(err, ErrBusy) {
		t.Errorf("Reread with p1 mounted: %v, want ErrBusy", err)
	}
}

// With nothing in use Reread works even on a kernel without table parsers.
func TestRereadWhenIdle(t *testing.T) {
	dev := testenv.Loop(t, 32<<20)
	d := openT(t, dev)
	tab, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, tab, AddSpec{Size: Bytes(8 << 20)})
	mustAdd(t, tab, AddSpec{Size: Size{Rest: true}})
	if err := d.Write(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	if err := d.Reread(context.Background(), tab); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wanted(tab), kernelView(t, d)); diff != "" {
		t.Errorf("kernel view (-table +kernel):\n%s", diff)
	}
}
