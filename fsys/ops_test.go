package fsys

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/blockdev/probe"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

func probeType(t *testing.T, dev string) string {
	t.Helper()
	f, size, err := openDev(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := probe.ReaderAt(context.Background(), f, size)
	if err != nil {
		t.Fatal(err)
	}
	return res.Type
}

// Makes on different devices run at once under the scheduler; each is
// journaled and reads back as its type.
func TestMakeOpsInParallel(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.ext4", "mkfs.xfs", "mkfs.btrfs", "mkfs.fat")
	m, j := newTestManager(t)
	ctx := context.Background()
	types := []Type{Ext4, XFS, Btrfs, VFAT, Swap}
	var ops []sched.Operation
	devs := map[Type]string{}
	for _, typ := range types {
		dev := testenv.Loop(t, 320<<20)
		devs[typ] = dev
		op, err := m.MakeOp(ctx, dev, typ, MakeOptions{Label: "eos" + string(typ)[:2]})
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		ops = append(ops, op)
	}
	s, err := sched.New(sched.WithWorkers(len(ops)))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Run(ctx, sched.NewPlan(ops...))
	if err != nil {
		t.Fatal(err)
	}
	if n := rep.Count(sched.StateSucceeded); n != len(ops) {
		t.Fatalf("%d of %d makes succeeded: %+v", n, len(ops), rep)
	}
	for typ, dev := range devs {
		info, err := m.Inspect(ctx, dev)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if info.Type != string(typ) || info.Label != "eos"+string(typ)[:2] {
			t.Errorf("%s: reads as %s %q", typ, info.Type, info.Label)
		}
	}
	done := 0
	for _, e := range j.Entries() {
		if e.Intent.Op == OpMake && e.Outcome == safety.OutcomeDone && e.LastStep() == "verified" {
			done++
		}
	}
	if done != len(types) {
		t.Errorf("%d makes journaled done and verified, want %d", done, len(types))
	}
}

// A device holding a filesystem is not blank: the make is refused before
// anything is written.
func TestMakeRefusesNonBlank(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.xfs", "mkfs.ext4")
	dev := testenv.Loop(t, 320<<20)
	testenv.Run(t, "mkfs.xfs", "-q", "-f", dev)
	m, _ := newTestManager(t)
	before := deviceHash(t, dev, 320<<20)
	err := m.Make(context.Background(), dev, Ext4, MakeOptions{})
	if !errors.Is(err, safety.ErrUnsafe) {
		t.Fatalf("make over xfs: %v, want refused", err)
	}
	if deviceHash(t, dev, 320<<20) != before {
		t.Fatal("a refused make wrote to the device")
	}
}

// An overridden make over an old filesystem is undone exactly: the plan
// rolls it back with mke2fs's undo file from the journal, and the old xfs
// and its files are back.
func TestMakeOverrideUndoneByE2undo(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.xfs", "mkfs.ext4", "e2undo", "xfs_repair")
	dev := testenv.Loop(t, 320<<20)
	testenv.Run(t, "mkfs.xfs", "-q", "-f", dev)
	dir, umount := mountAt(t, dev)
	data := writeData(t, dir, 4, 1<<20, 11)
	umount()
	before := deviceHash(t, dev, 320<<20)
	m, j := newTestManager(t)
	ctx := context.Background()
	op, err := m.MakeOp(ctx, dev, Ext4, MakeOptions{}, WithOverride(safety.CodeNotEmpty, "replacing a scratch volume", "test"))
	if err != nil {
		t.Fatal(err)
	}
	fail := sched.Operation{ID: "fails", Kind: "test", Dependencies: []string{op.ID},
		Resources: []sched.Resource{sched.Global("test").Exclusive()},
		Execute:   func(context.Context, sched.Progress) error { return errors.New("a later step failed") }}
	s, err := sched.New()
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := s.Run(ctx, sched.NewPlan(op, fail))
	if r, _ := rep.Result(op.ID); r.State != sched.StateRolledBack {
		t.Fatalf("make: %v (%v / %v)", r.State, r.Err, r.RollbackErr)
	}
	if got := probeType(t, dev); got != "xfs" {
		t.Fatalf("after the rollback the device reads as %q, want xfs", got)
	}
	if deviceHash(t, dev, 320<<20) != before {
		t.Error("e2undo did not restore every byte")
	}
	toolCheck(t, XFS, dev, "after e2undo")
	dir, umount = mountAt(t, dev)
	data.verify(t, dir, "after e2undo")
	umount()
	var kinds []string
	for _, e := range j.Entries() {
		kinds = append(kinds, e.Intent.Op+"="+string(e.Outcome))
	}
	if len(kinds) != 2 || kinds[0] != "fsys.make=done" || kinds[1] != "fsys.make.rollback=done" {
		t.Errorf("journal %v", kinds)
	}
}

// A make over a blank device rolled back leaves it blank again: the
// before-images of the signature regions are restored.
func TestMakeRollbackLeavesBlank(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs")
	dev := testenv.Loop(t, 320<<20)
	m, _ := newTestManager(t)
	ctx := context.Background()
	op, err := m.MakeOp(ctx, dev, Btrfs, MakeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Execute(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := probeType(t, dev); got != "btrfs" {
		t.Fatalf("made %q", got)
	}
	if err := op.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := probeType(t, dev); got != "" {
		t.Fatalf("after the rollback the device reads as %q, want blank", got)
	}
	// And preflight calls it blank again.
	r, err := safety.Check(ctx, dev, safety.OpFormat)
	if err != nil || !r.Allowed {
		t.Fatalf("after the rollback: %v %v", r, err)
	}
}

// Labels: offline by the tool, online by the ioctl; the rollback puts
// the old one back.
func TestLabelOnlineAndOffline(t *testing.T) {
	testenv.RequireRoot(t)
	for _, tc := range []struct {
		typ    Type
		mkfs   []string
		online bool
	}{
		{Ext4, []string{"mkfs.ext4", "-q", "-F", "-L", "old"}, true},
		{XFS, []string{"mkfs.xfs", "-q", "-f", "-L", "old"}, true},
		{Btrfs, []string{"mkfs.btrfs", "-q", "-f", "-L", "old"}, true},
		{VFAT, []string{"mkfs.fat", "-n", "OLD"}, false},
		{Swap, []string{"mkswap", "-L", "old"}, false},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			testenv.RequireTool(t, tc.mkfs[0])
			dev := testenv.Loop(t, 320<<20)
			testenv.Run(t, tc.mkfs[0], append(tc.mkfs[1:], dev)...)
			m, _ := newTestManager(t)
			ctx := context.Background()
			old := "old"
			if tc.typ == VFAT {
				old = "OLD"
			}
			newLabel := "eosnew"
			if tc.typ == VFAT {
				newLabel = "EOSNEW"
			}
			op, err := m.LabelOp(ctx, dev, newLabel)
			if err != nil {
				t.Fatal(err)
			}
			if err := op.Execute(ctx, nil); err != nil {
				t.Fatal(err)
			}
			if got := string(testenv.Run(t, "blkid", "-p", "-s", "LABEL", "-o", "value", dev)); got != newLabel+"\n" {
				t.Errorf("offline: blkid says %q", got)
			}
			if err := op.Rollback(ctx); err != nil {
				t.Fatal(err)
			}
			if got := string(testenv.Run(t, "blkid", "-p", "-s", "LABEL", "-o", "value", dev)); got != old+"\n" {
				t.Errorf("rollback: blkid says %q", got)
			}
			if tc.typ == Swap {
				return
			}
			if tc.typ == VFAT && !kernelHas(t, "vfat") {
				return // the host kernel has no vfat driver to mount it with
			}
			dir, umount := mountAt(t, dev)
			defer umount()
			if tc.online {
				// Mounted, the change still runs the preflight, for what
				// is not the mount: a protected device refuses.
				err := m.SetLabel(ctx, dev, "eoson", WithPreflight(safety.WithProtected(dev)))
				var re *safety.RefusedError
				if !errors.As(err, &re) || !slices.Contains(re.Report.Codes(), safety.CodeProtected) || slices.Contains(re.Report.Codes(), safety.CodeMounted) {
					t.Fatalf("online label of a protected device: %v, want refused as protected (and not as mounted)", err)
				}
			}
			err = m.SetLabel(ctx, dev, "eoson")
			if !tc.online {
				if !errors.Is(err, ErrMounted) && !errors.Is(err, ErrNotSupported) {
					t.Fatalf("online label on %s: %v, want refused", tc.typ, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("online label: %v", err)
			}
			got, err := getLabelOnline(ctx, dir)
			if err != nil || got != "eoson" {
				t.Fatalf("FS_IOC_GETFSLABEL: %q %v", got, err)
			}
		})
	}
}

// kernelHas reports whether the running kernel can mount fstype.
func kernelHas(t *testing.T, fstype string) bool {
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[len(f)-1] == fstype {
			return true
		}
	}
	return false
}

// Swap made over an old filesystem (an override) leaves no other
// signature behind: the device reads as swap alone.
func TestMakeSwapOverOldSignatures(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "mkfs.btrfs")
	dev := testenv.Loop(t, 320<<20)
	testenv.Run(t, "mkfs.btrfs", "-q", "-f", dev)
	m, _ := newTestManager(t)
	err := m.Make(context.Background(), dev, Swap, MakeOptions{Label: "eosswap"},
		WithOverride(safety.CodeNotEmpty, "replacing a scratch volume", "test"))
	if err != nil {
		t.Fatal(err)
	}
	if got := probeType(t, dev); got != "swap" {
		t.Fatalf("after the make the probe says %q", got)
	}
	if out := string(testenv.Run(t, "blkid", "-p", "-o", "export", dev)); !strings.Contains(out, "TYPE=swap\n") || strings.Contains(out, "btrfs") {
		t.Fatalf("blkid -p:\n%s", out)
	}
}
