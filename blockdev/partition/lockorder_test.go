package partition

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
)

// Write must plan under the whole-disk lock: a plan made before waiting for
// the lock describes the disk as it was, not as the lock holder left it.
// Here the holder turns the dos disk into GPT while Write waits; a plan made
// earlier had no GPT to erase and left it behind the new dos MBR.
func TestWritePlansUnderTheLock(t *testing.T) {
	testenv.RequireRoot(t)
	ctx := context.Background()
	dev := testenv.Loop(t, 32<<20)
	d := openT(t, dev)
	dos, err := NewDOS(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, dos, AddSpec{Size: mustSize(t, "4MiB")})
	if err := d.Write(ctx, dos); err != nil {
		t.Fatal(err)
	}
	// A new table, not an edit of one read (that would be refused with
	// ErrChanged): the plan itself must see the holder's GPT.
	next, err := NewDOS(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, next, AddSpec{Size: mustSize(t, "8MiB")})

	holder, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := unix.Flock(int(holder.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Write(ctx, next) }()
	// Give Write time to reach the lock (an early plan happens before it);
	// the test cannot fail for timing, only miss the defect.
	time.Sleep(300 * time.Millisecond)
	other, err := NewDisk(holder, d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	gpt, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Write(ctx, gpt); err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(holder.Fd()), unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rep, err := d.Verify(ctx)
	if err != nil || !rep.OK() || rep.Label != LabelDOS {
		t.Errorf("after the write: %s %v %v", rep.Label, rep.Problems, err)
	}
}

// Repair decides from what it reads, so it must read under the lock too:
// here the lock holder writes a new table while Repair waits, and Repair
// wrote the old table (rebuilt from its backup) over it.
func TestRepairReadsUnderTheLock(t *testing.T) {
	testenv.RequireRoot(t)
	ctx := context.Background()
	dev := testenv.Loop(t, 32<<20)
	d := openT(t, dev)
	gpt, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, gpt, AddSpec{Size: mustSize(t, "4MiB")})
	if err := d.Write(ctx, gpt); err != nil {
		t.Fatal(err)
	}
	holder, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.WriteAt([]byte{0xff, 0xee}, 512+60); err != nil { // primary header CRC
		t.Fatal(err)
	}
	if err := unix.Flock(int(holder.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := d.Repair(ctx); done <- err }()
	time.Sleep(300 * time.Millisecond) // let Repair reach the lock
	other, err := NewDisk(holder, d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	newer, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, newer, AddSpec{Size: mustSize(t, "8MiB")})
	mustAdd(t, newer, AddSpec{Size: mustSize(t, "8MiB")})
	if err := other.Write(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(holder.Fd()), unix.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := mustRead(t, d)
	if got.DiskGUID != newer.DiskGUID || len(got.Partitions) != 2 {
		t.Errorf("Repair wrote over the table written while it waited: %+v", got.Dump("d"))
	}
}

// Read, edit, Write is not atomic: another writer may store a table in
// between. Write must not silently overwrite that table with an edit of
// the one read before it.
func TestWriteRefusesTableReadBeforeAnotherWrite(t *testing.T) {
	ctx := context.Background()
	const size = 32 << 20
	dev := newMemDev(size)
	d, _ := NewDisk(dev, geo512(size))
	gpt, err := NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	mustAdd(t, gpt, AddSpec{Size: mustSize(t, "4MiB")})
	if err := d.Write(ctx, gpt); err != nil {
		t.Fatal(err)
	}
	mine := mustRead(t, d)
	// Someone else adds a partition.
	theirs := mustRead(t, d)
	mustAdd(t, theirs, AddSpec{Size: mustSize(t, "4MiB"), Name: "theirs"})
	if err := d.Write(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, mine, AddSpec{Size: mustSize(t, "8MiB"), Name: "mine"})
	before := dev.clone()
	if err := d.Write(ctx, mine); !errors.Is(err, ErrChanged) {
		t.Fatalf("Write of a table read before another write: %v, want ErrChanged", err)
	}
	if diffChunks(before, dev) {
		t.Error("a refused write changed the disk")
	}
	// The other writer's table is still editable and writable twice over.
	mustAdd(t, theirs, AddSpec{Size: mustSize(t, "1MiB")})
	if err := d.Write(ctx, theirs); err != nil {
		t.Errorf("second write of the same table: %v", err)
	}
	// A repaired copy (the primary damaged, read from the backup) is the
	// same table: an edit of it writes.
	dev.WriteAt([]byte{0xff, 0xee}, 512+60)
	fromBackup := mustRead(t, d)
	if fromBackup.Source != FromBackup {
		t.Fatalf("read from %v", fromBackup.Source)
	}
	mustAdd(t, fromBackup, AddSpec{Size: mustSize(t, "1MiB")})
	if err := d.Write(ctx, fromBackup); err != nil {
		t.Errorf("edit of a table read from the backup: %v", err)
	}
}

// Copying a table to another disk (as sgdisk -R does) is not a change made
// behind the reader's back: only the disk a table was read from is checked.
func TestWriteOfATableReadFromAnotherDisk(t *testing.T) {
	ctx := context.Background()
	const size = 32 << 20
	src, dst := newMemDev(size), newMemDev(size)
	ds, _ := NewDisk(src, geo512(size))
	dd, _ := NewDisk(dst, geo512(size))
	for _, d := range []*Disk{ds, dd} {
		tab, err := NewGPT(d.Geometry())
		if err != nil {
			t.Fatal(err)
		}
		mustAdd(t, tab, AddSpec{Size: mustSize(t, "4MiB")})
		if err := d.Write(ctx, tab); err != nil {
			t.Fatal(err)
		}
	}
	cp := mustRead(t, ds)
	if err := dd.Write(ctx, cp); err != nil {
		t.Fatalf("copying a table to another disk: %v", err)
	}
	if got := mustRead(t, dd); got.DiskGUID != cp.DiskGUID {
		t.Error("the copy did not land")
	}
}
