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
