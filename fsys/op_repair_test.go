package fsys

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

// failAfterRepair runs every command for real, then fails an e2fsck that
// was given an undo file, as a repair that crashed after writing would.
type failAfterRepair struct{ real command.Runner }

var errRepairCrashed = errors.New("e2fsck crashed (test)")

func (f failAfterRepair) Run(ctx context.Context, c command.Cmd) (*command.Result, error) {
	res, err := f.real.Run(ctx, c)
	if c.Tool == "e2fsck" && slices.Contains(c.Args, "-z") {
		return res, errRepairCrashed
	}
	return res, err
}

func deviceSum(t *testing.T, dev string) [32]byte {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

// An ext repair keeps e2fsck's undo file in the journal: when the repair
// fails after e2fsck wrote its fixes, e2undo puts every byte of the device
// back, and the journal says compensated. A repair that succeeds leaves the
// filesystem clean.
func TestRepairFailureUndoneByE2undo(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.ext4", "e2fsck", "e2undo", "debugfs")
	dev := testenv.Loop(t, 64<<20)
	testenv.Run(t, "mkfs.ext4", "-q", "-F", dev)
	// A wrong free-blocks count: what a preen fixes.
	testenv.Run(t, "debugfs", "-w", "-R", "ssv free_blocks_count 1234", dev)
	before := deviceSum(t, dev)

	x, err := command.New()
	if err != nil {
		t.Fatal(err)
	}
	m, j := newTestManager(t, WithRunner(failAfterRepair{x}))
	ctx := context.Background()
	op, err := m.RepairOp(ctx, dev, CheckOptions{Mode: CheckPreen}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Execute(ctx, nil); !errors.Is(err, errRepairCrashed) {
		t.Fatalf("repair: %v, want the crash", err)
	}
	if deviceSum(t, dev) != before {
		t.Fatal("the failed repair was not undone byte for byte")
	}
	es := j.Entries()
	if len(es) == 0 || es[len(es)-1].Outcome != safety.OutcomeCompensated || !slices.Contains(es[len(es)-1].StepsDone(), "undo_file") {
		t.Fatalf("journal: %+v", es)
	}

	// The same repair, not failed, fixes it.
	m2, _ := newTestManager(t)
	res, err := m2.Repair(ctx, dev, CheckOptions{Mode: CheckPreen})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != VerdictFixed {
		t.Fatalf("repair verdict %s, want fixed\n%s", res.Verdict, res.Output)
	}
	testenv.Run(t, "e2fsck", "-fn", dev)
}

// Cancelling a started offline resize does not stop it midway (a resize2fs
// killed midway leaves a filesystem only a repair makes consistent): the
// shrink runs to its end, the filesystem is clean at the new size and the
// journal says done. A resize cancelled before it starts writes nothing.
func TestResizeCancelled(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.ext4", "e2fsck", "resize2fs")
	const M = 1 << 20
	dev := testenv.Loop(t, 256*M)
	testenv.Run(t, "mkfs.ext4", "-q", "-F", dev)

	// Cancelled before it starts: nothing written.
	before := deviceSum(t, dev)
	m0, _ := newTestManager(t)
	op, _, err := m0.ResizeOp(context.Background(), dev, 128*M)
	if err != nil {
		t.Fatal(err)
	}
	done, cancel0 := context.WithCancel(context.Background())
	cancel0()
	if err := op.Execute(done, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before the start: %v", err)
	}
	if deviceSum(t, dev) != before {
		t.Fatal("a resize cancelled before it started wrote to the device")
	}

	// Cancelled once e2fsck has passed and resize2fs is about to run.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, j := newTestManager(t, WithStepHook(func(kind, step string) {
		if kind == OpResize && step == "checked" {
			cancel()
		}
	}))
	op, _, err = m.ResizeOp(ctx, dev, 128*M)
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Execute(ctx, nil); err != nil {
		t.Fatalf("a resize cancelled midway: %v, want it run to its end", err)
	}
	if ctx.Err() == nil {
		t.Fatal("the step hook did not cancel")
	}
	info, err := m.Inspect(context.Background(), dev)
	if err != nil {
		t.Fatal(err)
	}
	if info.SizeBytes != 128*M {
		t.Fatalf("size %d after the cancelled resize, want %d", info.SizeBytes, 128*M)
	}
	testenv.Run(t, "e2fsck", "-fn", dev)
	es := j.Entries()
	if len(es) == 0 || es[len(es)-1].Outcome != safety.OutcomeDone {
		t.Fatalf("journal: %+v", es)
	}
}

// A resize of a mounted filesystem to the size it has is nothing to do, and
// not refused as mounted (the CSI driver's NodeExpandVolume repeats it).
func TestResizeMountedToItsSize(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.xfs")
	dev := testenv.Loop(t, 320<<20)
	testenv.Run(t, "mkfs.xfs", "-q", "-f", dev)
	_, umount := mountAt(t, dev)
	defer umount()
	m, j := newTestManager(t)
	ctx := context.Background()
	info, err := m.Inspect(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := m.Resize(ctx, dev, info.SizeBytes, nil)
	if err != nil {
		t.Fatalf("resize to its own size while mounted: %v", err)
	}
	if plan.Mountpoint == "" || plan.To != plan.From {
		t.Fatalf("plan %+v", plan)
	}
	if es := j.Entries(); len(es) == 0 || es[len(es)-1].LastStep() != "nothing_to_do" {
		t.Fatalf("journal %+v", es)
	}
}
