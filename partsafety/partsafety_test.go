package partsafety

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/partition"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

func openJournal(t *testing.T, dir string) *safety.Journal {
	t.Helper()
	j, err := safety.OpenJournal(context.Background(), safety.WithStateDir(dir), RollForward())
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func image(t *testing.T, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	return p
}

func gptWith(t *testing.T, d *partition.Disk, sizes ...uint64) *partition.Table {
	t.Helper()
	tab, err := partition.NewGPT(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sizes {
		if _, err := tab.Add(partition.AddSpec{Size: partition.Bytes(s)}); err != nil {
			t.Fatal(err)
		}
	}
	return tab
}

// A journaled write leaves a finished mutation whose before-images hold
// the old bytes of every range written.
func TestJournaledWrite(t *testing.T) {
	ctx := context.Background()
	img := image(t, 32<<20)
	j := openJournal(t, t.TempDir())
	defer j.Close()
	d, err := partition.Open(ctx, img, partition.WithJournal(Journal(j)))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Write(ctx, gptWith(t, d, 4<<20)); err != nil {
		t.Fatal(err)
	}
	es := j.Entries()
	if len(es) != 1 || es[0].Outcome != safety.OutcomeDone || es[0].Intent.Op != Op {
		t.Fatalf("journal entries %+v", es)
	}
	if n := len(es[0].Images); n != 5 {
		t.Errorf("%d before-images, want one per step (5)", n)
	}
	if got := es[0].StepsDone(); strings.Join(got, ",") != "backup entries,backup header,primary entries,primary header,protective MBR" {
		t.Errorf("steps %v", got)
	}
}

// A write interrupted after any step is finished by Recover: the journal
// rolls it forward and the disk holds exactly the new table.
func TestRecoverRollsForwardAfterEveryStep(t *testing.T) {
	ctx := context.Background()
	for stop := 0; stop < 5; stop++ {
		img := image(t, 32<<20)
		dir := t.TempDir()
		d, err := partition.Open(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		old := gptWith(t, d, 4<<20)
		if err := d.Write(ctx, old); err != nil {
			t.Fatal(err)
		}
		next := old.Clone()
		if _, err := next.Add(partition.AddSpec{Size: partition.Bytes(8 << 20), Name: "new"}); err != nil {
			t.Fatal(err)
		}
		steps, err := d.Plan(ctx, next)
		if err != nil {
			t.Fatal(err)
		}
		// The process "dies" after stop steps: intent journaled, no outcome.
		j := openJournal(t, dir)
		tx, err := Journal(j).Begin(ctx, partition.WriteIntent{Target: img, Steps: steps, NewTableID: strings.ToLower(next.DiskGUID.String())})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Apply(ctx, steps[:stop]); err != nil {
			t.Fatal(err)
		}
		for _, s := range steps[:stop] {
			_ = tx.Step(ctx, s.What)
		}
		d.Close()
		j.Close()

		j = openJournal(t, dir)
		if n := len(j.Interrupted()); n != 1 {
			t.Fatalf("stop %d: %d interrupted", stop, n)
		}
		rs, err := j.Recover(ctx)
		if err != nil || len(rs) != 1 || rs[0].Outcome != safety.OutcomeRolledForward {
			t.Fatalf("stop %d: recover %+v %v", stop, rs, err)
		}
		j.Close()
		d, err = partition.Open(ctx, img)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Partitions) != 2 || got.Partitions[1].Name != "new" {
			t.Errorf("stop %d: after recovery %+v", stop, got.Partitions)
		}
		if r, err := d.Verify(ctx); err != nil || !r.OK() {
			t.Errorf("stop %d: verify after recovery %v %v", stop, r.Problems, err)
		}
		d.Close()
	}
}

// On a loop device with partition 1 mounted: changing partition 2 passes
// preflight, changing partition 1 is refused with safety's reasons, and a
// new table over the existing one is refused unless overridden.
func TestPreflightOnLoopWithMountedPartition(t *testing.T) {
	testenv.RequireTool(t, "mkfs.ext4", "mount")
	ctx := context.Background()
	dev := testenv.Loop(t, 96<<20)
	d, err := partition.Open(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tab := gptWith(t, d, 16<<20, 16<<20)
	if err := d.Write(ctx, tab); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SyncKernel(ctx, tab); err != nil {
		t.Fatal(err)
	}
	p1 := partition.PartitionNode(dev, 1)
	testenv.Run(t, "mkfs.ext4", "-q", "-F", p1)
	mnt := t.TempDir()
	testenv.Run(t, "mount", p1, mnt)
	t.Cleanup(func() { _, _ = testenv.RunErr("umount", mnt) })

	ok := tab.Clone()
	if _, err := ok.Resize(2, partition.Size{Rest: true}); err != nil {
		t.Fatal(err)
	}
	if err := Preflight(ctx, d, ok); err != nil {
		t.Errorf("growing partition 2 beside a mounted partition 1: %v", err)
	}

	bad := tab.Clone()
	if err := bad.Delete(1); err != nil {
		t.Fatal(err)
	}
	err = Preflight(ctx, d, bad)
	var re *RefusedError
	if !errors.As(err, &re) || !errors.Is(err, partition.ErrUnsafe) || !errors.Is(err, safety.ErrUnsafe) {
		t.Fatalf("deleting mounted partition 1: %v, want a RefusedError", err)
	}
	if !strings.Contains(err.Error(), "mount") || !strings.Contains(err.Error(), p1) {
		t.Errorf("the refusal does not say why: %v", err)
	}
	t.Log(err)

	dos, err := partition.NewDOS(d.Geometry())
	if err != nil {
		t.Fatal(err)
	}
	if err := Preflight(ctx, d, dos); !errors.As(err, &re) {
		t.Errorf("a dos table over a GPT with a mounted partition: %v, want refused", err)
	}
}
