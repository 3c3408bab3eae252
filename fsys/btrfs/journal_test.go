package btrfs

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

func openJournal(t *testing.T, dir string) *safety.Journal {
	t.Helper()
	j, err := safety.OpenJournal(context.Background(), append(RollForward(), safety.WithStateDir(dir))...)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func lastEntry(t *testing.T, j *safety.Journal, kind string) safety.Entry {
	t.Helper()
	var e safety.Entry
	found := false
	for _, x := range j.Entries() {
		if x.Intent.Op == kind {
			e, found = x, true
		}
	}
	if !found {
		t.Fatalf("no %s entry in the journal", kind)
	}
	return e
}

// TestJournaledOps: journaled creates, snapshots, deletes and device
// changes end "done" in the journal; a plan failing after them rolls the
// reversible ones back (compensated, the old state); a failed ioctl is
// journaled as the old state.
func TestJournaledOps(t *testing.T) {
	tf := newTestFS(t, 1, 256<<20)
	ctx, f := ctxT(t), tf.fs
	j := openJournal(t, t.TempDir())
	defer j.Close()
	mk := func(o sched.Operation, err error) sched.Operation {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	s, _ := sched.New()
	create := mk(SubvolumeCreateOp(tf.mnt, "keep", WithJournal(j)))
	if _, err := s.Run(ctx, sched.NewPlan(create)); err != nil {
		t.Fatal(err)
	}
	if e := lastEntry(t, j, OpSubvolumeCreate); e.Outcome != safety.OutcomeDone || strings.Join(e.StepsDone(), ",") != "requested,done" {
		t.Errorf("create entry %s %v", e.Outcome, e.StepsDone())
	}
	// A plan that fails after a create and a snapshot undoes both.
	boom := errors.New("boom")
	c2 := mk(SubvolumeCreateOp(tf.mnt, "temp", WithJournal(j)))
	sn := mk(SnapshotOp(tf.mnt, "keep", "keep-snap", true, WithJournal(j)))
	fail := sched.Operation{ID: "fail", Dependencies: []string{c2.ID, sn.ID}, Execute: func(context.Context, sched.Progress) error { return boom }}
	if _, err := s.Run(ctx, sched.NewPlan(c2, sn, fail)); !errors.Is(err, boom) {
		t.Fatalf("plan: %v", err)
	}
	for _, p := range []string{"temp", "keep-snap"} {
		if ok, _ := isSubvolume(filepath.Join(tf.mnt, p)); ok {
			t.Errorf("%s survived the rollback", p)
		}
	}
	var rollbacks int
	for _, e := range j.Entries() {
		if strings.HasSuffix(e.Intent.Op, ".rollback") && e.Outcome == safety.OutcomeDone {
			rollbacks++
		}
	}
	if rollbacks != 2 {
		t.Errorf("%d rollbacks journaled done, want 2", rollbacks)
	}
	// A failed ioctl (a plain directory is in the way): old state, journaled.
	if err := os.Mkdir(filepath.Join(tf.mnt, "taken"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := mk(SubvolumeCreateOp(tf.mnt, "taken", WithJournal(j)))
	if err := bad.Execute(ctx, nil); err == nil {
		t.Fatal("create over a directory succeeded")
	}
	if e := lastEntry(t, j, OpSubvolumeCreate); e.Outcome.State() != "old" {
		t.Errorf("failed create journaled %s", e.Outcome)
	}
	// A delete refused, then overridden... the default refuses.
	id, _ := f.SubvolumeID(ctx, "keep")
	if err := f.SetDefaultSubvolume(ctx, id); err != nil {
		t.Fatal(err)
	}
	del := mk(SubvolumeDeleteOp(tf.mnt, "keep", WithJournal(j)))
	var re *RefusedError
	if err := del.Execute(ctx, nil); !errors.As(err, &re) || re.Code != RefuseDefault {
		t.Errorf("delete of the default: %v", err)
	}
	if e := lastEntry(t, j, OpSubvolumeDelete); e.Outcome.State() != "old" {
		t.Errorf("refused delete journaled %s", e.Outcome)
	}
	if del.Rollback != nil {
		t.Error("an irreversible delete has a rollback")
	}
	if err := f.SetDefaultSubvolume(ctx, TopLevelID); err != nil {
		t.Fatal(err)
	}
	if err := mk(SubvolumeDeleteOp(tf.mnt, "keep", WithJournal(j))).Execute(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// Device add (preflighted as a format of the new device) and remove.
	spare := spareLoop(t, 256<<20)
	if err := mk(DeviceAddOp(tf.mnt, spare, WithJournal(j))).Execute(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if id, _ := f.devidOf(ctx, spare); id != 2 {
		t.Fatalf("added device has devid %d", id)
	}
	if err := mk(DeviceRemoveOp(tf.mnt, 2, WithJournal(j))).Execute(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if e := lastEntry(t, j, OpDeviceRemove); e.Outcome != safety.OutcomeDone {
		t.Errorf("remove entry %s", e.Outcome)
	}
	// Adding a device that holds a filesystem is refused by the preflight.
	other := spareLoop(t, 256<<20)
	btrfsOut(t, "device", "scan") // harmless
	if out, err := exec.Command("mkfs.btrfs", "-q", "-f", other).CombinedOutput(); err != nil {
		t.Fatalf("mkfs: %v %s", err, out)
	}
	if err := mk(DeviceAddOp(tf.mnt, other, WithJournal(j))).Execute(ctx, nil); !errors.Is(err, safety.ErrUnsafe) {
		t.Errorf("adding a device that holds a btrfs: %v", err)
	}
}

const crashEnv = "EOS_BTRFS_CRASH"

// crashChild runs one journaled operation and SIGKILLs itself right after
// the step named in the environment ("kind|step|mountpoint|journal|path").
func crashChild() int {
	parts := strings.Split(os.Getenv(crashEnv), "|")
	if len(parts) != 5 {
		return 2
	}
	kind, at, mnt, dir, path := parts[0], parts[1], parts[2], parts[3], parts[4]
	j, err := safety.OpenJournal(context.Background(), append(RollForward(), safety.WithStateDir(dir))...)
	if err != nil {
		return 3
	}
	hook := WithStepHook(func(_, step string) {
		if step == at {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	})
	var op sched.Operation
	switch kind {
	case OpSubvolumeCreate:
		op, err = SubvolumeCreateOp(mnt, path, WithJournal(j), hook)
	case OpSnapshot:
		op, err = SnapshotOp(mnt, "src", path, true, WithJournal(j), hook)
	case OpSubvolumeDelete:
		op, err = SubvolumeDeleteOp(mnt, path, WithJournal(j), hook)
	}
	if err != nil {
		return 4
	}
	if err := op.Execute(context.Background(), nil); err != nil {
		return 5
	}
	return 0
}

// TestCrashAtEachStep kills a process running a journaled create, snapshot
// or delete right after each of its steps; recovery then finishes it: the
// subvolume is exactly in its new state, and the journal says
// rolled_forward.
func TestCrashAtEachStep(t *testing.T) {
	tf := newTestFS(t, 1, 256<<20)
	ctx, f := ctxT(t), tf.fs
	if err := f.CreateSubvolume(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{OpSubvolumeCreate, OpSnapshot, OpSubvolumeDelete} {
		for _, at := range []string{"requested", "done"} {
			t.Run(kind+"@"+at, func(t *testing.T) {
				path := strings.ReplaceAll(kind, ".", "-") + "-" + at
				if kind == OpSubvolumeDelete {
					if err := f.CreateSubvolume(ctx, path); err != nil {
						t.Fatal(err)
					}
				}
				dir := t.TempDir()
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), crashEnv+"="+strings.Join([]string{kind, at, tf.mnt, dir, path}, "|"))
				out, err := cmd.CombinedOutput()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("child was not killed at %s: %v %s", at, err, out)
				}
				j := openJournal(t, dir)
				defer j.Close()
				if n := len(j.Interrupted()); n != 1 {
					t.Fatalf("%d interrupted mutations", n)
				}
				rec, err := j.Recover(ctx)
				if err != nil || len(rec) != 1 || rec[0].Outcome != safety.OutcomeRolledForward {
					t.Fatalf("recover: %+v %v", rec, err)
				}
				exists, err := isSubvolume(filepath.Join(tf.mnt, path))
				if err != nil {
					t.Fatal(err)
				}
				if want := kind != OpSubvolumeDelete; exists != want {
					t.Errorf("after recovery %s exists=%v, want %v (the new state)", path, exists, want)
				}
				if e := lastEntry(t, j, kind); e.Outcome.State() != "new" || e.LastStep() != at {
					t.Errorf("journal: %s after step %s", e.Outcome, e.LastStep())
				}
			})
		}
	}
}
