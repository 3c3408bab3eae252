package partition

import (
	"context"
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
	next := mustRead(t, d).Clone()
	mustAdd(t, next, AddSpec{Size: mustSize(t, "4MiB")})

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
