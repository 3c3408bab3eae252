package lvm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// opsLab is blank loop devices with a private LVM_SYSTEM_DIR, a Tool
// scoped to them without device-mapper, a journal with lvm's recovery and
// a Manager on both.
type opsLab struct {
	devs []string
	tool *Tool
	jdir string
	j    *safety.Journal
	m    *Manager
	hook func(kind, step string) error
}

func newOpsLab(t *testing.T, n int, hook func(kind, step string) error) *opsLab {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireTool(t, "lvm", "losetup")
	sys := t.TempDir()
	if err := os.WriteFile(filepath.Join(sys, "lvm.conf"), []byte(labConf), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &opsLab{jdir: t.TempDir()}
	for i := 0; i < n; i++ {
		l.devs = append(l.devs, testenv.Loop(t, 64<<20))
	}
	x, err := command.New()
	if err != nil {
		t.Fatal(err)
	}
	l.tool, err = NewTool(x, WithSystemDir(sys), WithDevices(l.devs...), WithoutDeviceMapper())
	if err != nil {
		t.Fatal(err)
	}
	l.hook = hook
	l.open(t, hook)
	return l
}

func (l *opsLab) open(t *testing.T, hook func(kind, step string) error) {
	t.Helper()
	j, err := safety.OpenJournal(context.Background(), append([]safety.Option{safety.WithStateDir(l.jdir)}, RollForward(l.tool)...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	l.j = j
	l.m, err = NewManager(l.tool, WithJournal(j), WithStepHook(hook))
	if err != nil {
		t.Fatal(err)
	}
}

func run1(t *testing.T, op sched.Operation, err error) error {
	t.Helper()
	if err != nil {
		return err
	}
	return runOp(context.Background(), op)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (l *opsLab) inv(t *testing.T) *Report {
	t.Helper()
	r, err := l.tool.Inventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// metadata is the VG's text metadata as vgcfgbackup writes it, without
// the lines that change on every write (seqno, times, host).
func (l *opsLab) metadata(t *testing.T, vg string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "m")
	must(t, l.tool.Run(context.Background(), "vgcfgbackup", "-f", f, vg))
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return volatile.ReplaceAllString(string(b), "")
}

var volatile = regexp.MustCompile(`(?m)^\s*(seqno|creation_time|creation_host|description|contents|version|# Generated).*$|(?m)^(created_time|creation_host|description).*$`)

func TestLifecycleMetadata(t *testing.T) {
	l := newOpsLab(t, 3, nil)
	ctx := context.Background()
	m := l.m
	for _, d := range l.devs {
		op, err := m.PVCreateOp(ctx, d)
		must(t, run1(t, op, err))
	}
	// pvcreate again: the device now carries an LVM label, so it is not blank.
	op, err := m.PVCreateOp(ctx, l.devs[0])
	if err = run1(t, op, err); err == nil || !errors.Is(err, safety.ErrUnsafe) {
		t.Fatalf("pvcreate on a PV: %v, want a safety refusal", err)
	}
	op, err = m.VGCreateOp(ctx, "vg_ops", l.devs[:2], VGOptions{ExtentBytes: 4 << 20, Tags: []string{"t"}})
	must(t, run1(t, op, err))
	op, err = m.VGExtendOp(ctx, "vg_ops", l.devs[2:])
	must(t, run1(t, op, err))
	if v := l.inv(t).VG("vg_ops"); v == nil || v.PVCount != 3 {
		t.Fatalf("after vgextend: %+v", v)
	}
	op, err = m.LVCreateOp(ctx, "vg_ops", LVSpec{Name: "lin", SizeBytes: 16 << 20})
	must(t, run1(t, op, err))
	op, err = m.LVCreateOp(ctx, "vg_ops", LVSpec{Name: "str", Type: LVStriped, Stripes: 2, StripeSizeBytes: 64 << 10, SizeBytes: 16 << 20})
	must(t, run1(t, op, err))
	if lv := l.inv(t).LV("vg_ops", "str"); lv == nil || len(lv.Segments) == 0 || lv.Segments[0].Stripes != 2 {
		t.Fatalf("striped LV: %+v", lv)
	}
	// Extend, then a reduce: refused without a readable filesystem, allowed
	// by override (metadata only: nothing is active here).
	op, err = m.LVResizeOp(ctx, "vg_ops", "lin", 32<<20)
	must(t, run1(t, op, err))
	op, err = m.LVResizeOp(ctx, "vg_ops", "lin", 8<<20)
	var re *RefusedError
	if err = run1(t, op, err); !errors.As(err, &re) || re.Code != CodeFsUnknown {
		t.Fatalf("reduce of an inactive LV: %v, want %s", err, CodeFsUnknown)
	}
	op, err = m.LVResizeOp(ctx, "vg_ops", "lin", 8<<20, WithOverride(CodeFsUnknown, "no filesystem: test", "test"))
	must(t, run1(t, op, err))
	if lv := l.inv(t).LV("vg_ops", "lin"); lv.Size != 8<<20 {
		t.Fatalf("lin is %d bytes", lv.Size)
	}
	op, err = m.LVRenameOp(ctx, "vg_ops", "lin", "lin2")
	must(t, run1(t, op, err))
	op, err = m.LVRemoveOp(ctx, "vg_ops", "lin2")
	must(t, run1(t, op, err))
	if l.inv(t).LV("vg_ops", "lin2") != nil {
		t.Fatal("lin2 still there")
	}
	op, err = m.VGReduceOp(ctx, "vg_ops", l.devs[2:])
	must(t, run1(t, op, err))
	// pvremove of a PV still in a VG is refused.
	op, err = m.PVRemoveOp(ctx, l.devs[0])
	if err = run1(t, op, err); !errors.As(err, &re) || re.Code != CodeNotOrphan {
		t.Fatalf("pvremove of a VG member: %v", err)
	}
	op, err = m.VGRenameOp(ctx, "vg_ops", "vg_ops2")
	must(t, run1(t, op, err))
	op, err = m.VGRemoveOp(ctx, "vg_ops2")
	must(t, run1(t, op, err))
	if l.inv(t).VG("vg_ops2") != nil {
		t.Fatal("VG still there")
	}
	for _, d := range l.devs {
		op, err := m.PVRemoveOp(ctx, d)
		must(t, run1(t, op, err))
	}
	if n := len(l.inv(t).PVs); n != 0 {
		t.Fatalf("%d PVs left", n)
	}
}

// TestFaultEachStep fails every VG mutation at each of its steps and
// proves the VG is exactly old (metadata equal to the backup), or exactly
// new when the failure came after the change was journaled, and the
// journal says which.
func TestFaultEachStep(t *testing.T) {
	var failAt string
	l := newOpsLab(t, 2, func(kind, step string) error {
		if step == failAt {
			return errors.New("injected fault at " + step)
		}
		return nil
	})
	ctx := context.Background()
	for _, d := range l.devs {
		op, err := l.m.PVCreateOp(ctx, d)
		must(t, run1(t, op, err))
	}
	op, err := l.m.VGCreateOp(ctx, "vg_f", l.devs[:1], VGOptions{})
	must(t, run1(t, op, err))
	op, err = l.m.LVCreateOp(ctx, "vg_f", LVSpec{Name: "a", SizeBytes: 8 << 20})
	must(t, run1(t, op, err))
	type mk func() (sched.Operation, error)
	cases := map[string]mk{
		"lvcreate": func() (sched.Operation, error) {
			return l.m.LVCreateOp(ctx, "vg_f", LVSpec{Name: "b", SizeBytes: 8 << 20})
		},
		"lvresize": func() (sched.Operation, error) { return l.m.LVResizeOp(ctx, "vg_f", "a", 16<<20) },
		"lvrename": func() (sched.Operation, error) { return l.m.LVRenameOp(ctx, "vg_f", "a", "a2") },
		"lvremove": func() (sched.Operation, error) { return l.m.LVRemoveOp(ctx, "vg_f", "a") },
		"vgextend": func() (sched.Operation, error) { return l.m.VGExtendOp(ctx, "vg_f", l.devs[1:]) },
	}
	for name, f := range cases {
		for _, step := range []string{"backup", "changed"} {
			t.Run(name+"/"+step, func(t *testing.T) {
				old := l.metadata(t, "vg_f")
				failAt = step
				op, err := f()
				if err == nil {
					err = runOp(ctx, op)
				}
				failAt = ""
				if err == nil {
					t.Fatal("the fault did not fail the operation")
				}
				t.Logf("fault at %s: %v", step, err)
				if false {
				}
				if got := l.metadata(t, "vg_f"); got != old {
					t.Fatalf("after a fault at %s the VG is not as before:\n--- old\n%s\n--- now\n%s", step, old, got)
				}
				es := l.j.Entries()
				e := es[len(es)-1]
				if e.Outcome != safety.OutcomeCompensated && e.Outcome != safety.OutcomeRolledBack {
					t.Fatalf("journal outcome %q, want compensated or rolled back", e.Outcome)
				}
			})
		}
	}
}

// TestCrashRecovery leaves an intent in the journal (a "crash" right after
// lvm changed the VG and before the journal said so, and one before lvm
// ran), reopens the journal and recovers: the entry is settled and says
// whether the VG is old or new.
func TestCrashRecovery(t *testing.T) {
	var failAt string
	l := newOpsLab(t, 1, func(kind, step string) error {
		if step == failAt {
			runtime.Goexit() // the process dies here: no undo, no outcome
		}
		return nil
	})
	ctx := context.Background()
	op, err := l.m.PVCreateOp(ctx, l.devs[0])
	must(t, run1(t, op, err))
	op, err = l.m.VGCreateOp(ctx, "vg_c", l.devs, VGOptions{})
	must(t, run1(t, op, err))
	for _, tc := range []struct{ step, want string }{{"backup", "old"}, {"changed", "new"}} {
		failAt = tc.step
		op, err = l.m.LVCreateOp(ctx, "vg_c", LVSpec{Name: "x" + tc.step, SizeBytes: 4 << 20})
		must(t, err)
		done := make(chan struct{})
		go func() {
			defer close(done)
			runOp(ctx, op)
			t.Errorf("crash at %s: the operation finished", tc.step)
		}()
		<-done
		failAt = ""
		// The process "died": reopen the journal as the next run would.
		l.j.Close()
		l.open(t, l.hook)
		in := l.j.Interrupted()
		if len(in) != 1 {
			t.Fatalf("%d interrupted entries", len(in))
		}
		st, err := Settled(ctx, l.tool, in[0])
		must(t, err)
		if st != tc.want {
			t.Fatalf("crash at %s: settled %s, want %s", tc.step, st, tc.want)
		}
		res, err := l.j.Recover(ctx)
		must(t, err)
		if len(res) != 1 || res[0].Outcome != safety.OutcomeRolledForward {
			t.Fatalf("recovery: %+v", res)
		}
		has := l.inv(t).LV("vg_c", "x"+tc.step) != nil
		if has != (tc.want == "new") {
			t.Fatalf("after a crash at %s the LV exists=%v", tc.step, has)
		}
	}
}

// A pvcreate rolled back (its plan failed later) leaves the device as it
// was: its own LVM label does not make the undo's preflight refuse it as
// an LVM member.
func TestPVCreateRollback(t *testing.T) {
	l := newOpsLab(t, 1, nil)
	ctx := context.Background()
	op, err := l.m.PVCreateOp(ctx, l.devs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Execute(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if err := op.Rollback(ctx); err != nil {
		t.Fatalf("rollback of pvcreate: %v", err)
	}
	for _, pv := range l.inv(t).PVs {
		if pv.Name == l.devs[0] {
			t.Fatalf("%s is still a PV after the rollback", l.devs[0])
		}
	}
}

// TestFailedCreateLvmTookBack: lvm can commit a new LV, fail to activate
// it and remove it again (a thin pool without device-mapper: the seqno
// moves by two, no LV is left). That is exactly old: the failure is
// reported, nothing is locked down, and the next change runs.
func TestFailedCreateLvmTookBack(t *testing.T) {
	l := newOpsLab(t, 1, nil)
	ctx := context.Background()
	op, err := l.m.PVCreateOp(ctx, l.devs[0])
	must(t, run1(t, op, err))
	op, err = l.m.VGCreateOp(ctx, "tb", l.devs, VGOptions{})
	must(t, run1(t, op, err))
	t.Cleanup(func() { _ = l.tool.Run(context.Background(), "vgremove", "-f", "-y", "tb") })
	before := l.inv(t).VG("tb").Seqno
	op, err = l.m.LVCreateOp(ctx, "tb", LVSpec{Name: "tp", Type: LVThinPool, SizeBytes: 16 << 20})
	err = run1(t, op, err)
	if err == nil {
		t.Skip("this lvm made a thin pool without device-mapper")
	}
	if strings.Contains(err.Error(), "locked down") {
		t.Fatalf("a create lvm took back locked the VG down: %v", err)
	}
	rep := l.inv(t)
	if rep.LV("tb", "tp") != nil {
		t.Fatal("the failed thin pool is there")
	}
	t.Logf("seqno %d -> %d, no LV: %v", before, rep.VG("tb").Seqno, err)
	op, err = l.m.LVCreateOp(ctx, "tb", LVSpec{Name: "after", SizeBytes: 8 << 20})
	must(t, run1(t, op, err))
}
