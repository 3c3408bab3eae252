package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

func loopEngine(t *testing.T) (*Engine, *safety.Journal) {
	t.Helper()
	ctx := context.Background()
	j, err := safety.OpenJournal(ctx, append([]safety.Option{safety.WithStateDir(t.TempDir())}, JournalOptions()...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	e, err := New(WithJournal(j))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, j
}

func mustApply(t *testing.T, e *Engine, p *Plan) {
	t.Helper()
	rep, err := e.Apply(context.Background(), p)
	if err != nil {
		for _, r := range rep.Results {
			t.Logf("%s %s %v", r.State, r.ID, r.Err)
		}
		t.Fatalf("apply: %v", err)
	}
	if n := rep.Count(sched.StateSucceeded); n != len(p.Actions) {
		t.Fatalf("%d of %d actions succeeded", n, len(p.Actions))
	}
}

// TestLoopSpecToMountsAndGrow builds GPT -> partitions -> ext4 and xfs ->
// mounts on a blank loop device from one spec, re-plans it empty, then
// grows partition 2 and its mounted xfs as one plan.
func TestLoopSpecToMountsAndGrow(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.ext4", "mkfs.xfs", "xfs_growfs")
	ctx := context.Background()
	const M = int64(1) << 20
	dev := testenv.Loop(t, 1024*M)
	mnt := t.TempDir()
	a, b := filepath.Join(mnt, "a"), filepath.Join(mnt, "b")
	spec := &Spec{
		Disks:       []DiskSpec{{ID: "d", Path: dev, Partitions: []PartitionSpec{{Number: 1, SizeBytes: 128 * M, Name: "a"}, {Number: 2, SizeBytes: 320 * M, Name: "b"}}}},
		Filesystems: []FilesystemSpec{{Device: "d#1", Type: "ext4", Label: "a"}, {Device: "d#2", Type: "xfs", Label: "b"}},
		Mounts:      []MountSpec{{Device: "d#1", Target: a}, {Device: "d#2", Target: b}},
	}
	e, j := loopEngine(t)
	p, err := e.Plan(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Actions) != 5 || len(p.Stages) != 3 {
		t.Fatalf("plan %v stages %v", ids(p), p.Stages)
	}
	mustApply(t, e, p)
	if err := os.WriteFile(filepath.Join(b, "f"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := e.Plan(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Empty() {
		t.Fatalf("re-plan of an applied spec: %v", ids(again))
	}
	// Whole-stack grow: partition 2 to the rest of the disk, its xfs with it.
	spec.Disks[0].Partitions[1].SizeBytes = 0
	grow, err := e.Plan(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{KindPartitionWrite + ":" + dev, KindFSResize + ":" + partPath(dev, 2)}
	if !slices.Equal(ids(grow), want) {
		t.Fatalf("grow plan %v, want %v", ids(grow), want)
	}
	mustApply(t, e, grow)
	info, err := e.Filesystems().Inspect(ctx, partPath(dev, 2))
	if err != nil {
		t.Fatal(err)
	}
	if info.SizeBytes < 800*M || !slices.Contains(info.Mountpoints, b) {
		t.Fatalf("after the grow: %d bytes, mounted %v", info.SizeBytes, info.Mountpoints)
	}
	if got, _ := os.ReadFile(filepath.Join(b, "f")); string(got) != "kept" {
		t.Fatalf("data after the grow: %q", got)
	}
	if final, err := e.Plan(ctx, spec); err != nil || !final.Empty() {
		t.Fatalf("re-plan after the grow: %v %v", final, err)
	}
	for _, en := range j.Entries() {
		if en.Outcome != safety.OutcomeDone {
			t.Errorf("journal %s %s: %s", en.ID, en.Intent.Op, en.Outcome)
		}
	}
}

// TestLoopEnsureHelpers runs the CSI/Nomad helpers twice each on a loop
// device (xfs: the host cannot grow ext4 online without CAP_SYS_RESOURCE):
// the second call changes nothing.
func TestLoopEnsureHelpers(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.xfs", "xfs_growfs", "losetup")
	ctx := context.Background()
	const M = int64(1) << 20
	img := filepath.Join(t.TempDir(), "img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 320*M); err != nil {
		t.Fatal(err)
	}
	dev := testenv.LoopFile(t, img)
	e, j := loopEngine(t)
	info, err := e.EnsureFilesystem(ctx, dev, "xfs", fsysMake("v"))
	if err != nil || info.Type != "xfs" {
		t.Fatalf("EnsureFilesystem: %v %v", info, err)
	}
	n := len(j.Entries())
	if _, err := e.EnsureFilesystem(ctx, dev, "xfs", fsysMake("other")); err != nil {
		t.Fatal(err)
	}
	if len(j.Entries()) != n {
		t.Fatal("a second EnsureFilesystem journaled a change")
	}
	if _, err := e.EnsureFilesystem(ctx, dev, "ext4", fsysMake("")); !errors.Is(err, ErrConflict) {
		t.Fatalf("another type: %v", err)
	}
	target := t.TempDir()
	for range 2 {
		if err := e.EnsureMounted(ctx, dev, target, "xfs", fsysMount()); err != nil {
			t.Fatal(err)
		}
	}
	// Grow the backing file and the loop device, then the filesystem online.
	if err := os.Truncate(img, 512*M); err != nil {
		t.Fatal(err)
	}
	testenv.Run(t, "losetup", "-c", dev)
	if err := e.GrowFilesystem(ctx, dev); err != nil {
		t.Fatal(err)
	}
	n = len(j.Entries())
	if err := e.GrowFilesystem(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if len(j.Entries()) != n {
		t.Fatal("a second GrowFilesystem journaled a change")
	}
	for range 2 {
		if err := e.EnsureUnmounted(ctx, target); err != nil {
			t.Fatal(err)
		}
	}
	if info, _ := e.Filesystems().Inspect(ctx, dev); info == nil || info.SizeBytes < 500*M || info.Mounted() {
		t.Fatalf("after grow and unmount: %+v", info)
	}
}

func fsysMake(label string) fsys.MakeOptions { return fsys.MakeOptions{Label: label} }
func fsysMount() fsys.MountOptions           { return fsys.MountOptions{} }
