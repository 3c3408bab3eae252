package quota

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// crashSpec is one journaled quota mutation, as the parent test and the
// child it kills both build it.
type crashSpec struct {
	Op      string `json:"op"`
	Step    string `json:"step"`    // the step after which the child is killed
	Journal string `json:"journal"` // the journal's state directory
	Target  string `json:"target"`  // mountpoint, directory or device
	Kind    Kind   `json:"kind"`
	ID      uint64 `json:"id"`
	Limits  Limits `json:"limits"`
	Grace   Grace  `json:"grace"`
	ProjID  uint32 `json:"projid"`
	Inherit bool   `json:"inherit"`
	// Undo: run the mutation in a plan whose next step fails, and kill the
	// child at the undo (the plan's rollback) instead.
	Undo bool `json:"undo"`
}

func (s crashSpec) op(m *Manager, opts ...OpOption) (sched.Operation, error) {
	switch s.Op {
	case OpSetLimits:
		return m.SetLimitsOp(s.Target, s.Kind, s.ID, s.Limits, opts...)
	case OpSetGrace:
		return m.SetGraceOp(s.Target, s.Kind, s.Grace, opts...)
	case OpSetProject:
		return m.SetProjectOp(s.Target, s.ProjID, s.Inherit, opts...)
	case OpEnable:
		return m.EnableOp(s.Target, opts...)
	}
	return sched.Operation{}, fmt.Errorf("no op %q", s.Op)
}

const crashEnv = "EOS_QUOTA_CRASH"

func openJournal(t testing.TB, dir string) *safety.Journal {
	t.Helper()
	j, err := safety.OpenJournal(context.Background(), append(RollForward(), safety.WithStateDir(dir))...)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// crashChild runs the mutation of crashEnv and SIGKILLs itself right after
// the named step was journaled.
func crashChild() int {
	var s crashSpec
	if err := json.Unmarshal([]byte(os.Getenv(crashEnv)), &s); err != nil {
		return 2
	}
	j, err := safety.OpenJournal(context.Background(), append(RollForward(), safety.WithStateDir(s.Journal))...)
	if err != nil {
		return 3
	}
	m, err := New()
	if err != nil {
		return 3
	}
	hook := WithStepHook(func(_, step string) error {
		if step == s.Step {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
		return nil
	})
	op, err := s.op(m, WithJournal(j), hook)
	if err != nil {
		return 4
	}
	if s.Undo {
		sc, err := sched.New()
		if err != nil {
			return 4
		}
		fail := sched.Operation{ID: "fail", Dependencies: []string{op.ID}, Execute: func(context.Context, sched.Progress) error {
			return errors.New("a later step failed")
		}}
		_, _ = sc.Run(context.Background(), sched.NewPlan(op, fail))
		return 6 // the undo should have killed us
	}
	if err := op.Execute(context.Background(), nil); err != nil {
		return 5
	}
	return 0
}

// crashCase is a mutation with its old and new states on a real
// filesystem: state reads which one the filesystem is in ("old", "new" or
// anything else), reset puts the old one back.
type crashCase struct {
	name  string
	spec  crashSpec
	state func(t *testing.T) string
	reset func(t *testing.T)
	// irreversible: a fault after the change cannot be undone (the
	// journal must then say locked_down, not old).
	irreversible bool
}

func entryOf(t *testing.T, j *safety.Journal, op string) safety.Entry {
	t.Helper()
	var e safety.Entry
	found := false
	for _, x := range j.Entries() {
		if x.Intent.Op == op {
			e, found = x, true
		}
	}
	if !found {
		t.Fatalf("no %s entry in the journal", op)
	}
	return e
}

var journaledSteps = []string{StepBefore, StepRequested, StepDone}

// runCrashMatrix runs c with a fault at each step (in process) and a
// SIGKILL at each step (in a child), then recovery, and checks the result
// is exactly the old or exactly the new state, as the journal says. It
// logs one line per cell: "crash matrix: <case> <fault|kill>@<step>:
// <outcome> <state>".
func runCrashMatrix(t *testing.T, c crashCase) {
	m := newManager(t)
	if got := c.state(t); got != "old" {
		t.Fatalf("%s: starts %s, not old", c.name, got)
	}
	for _, at := range journaledSteps {
		t.Run("fault@"+at, func(t *testing.T) {
			defer c.reset(t)
			j := openJournal(t, t.TempDir())
			defer j.Close()
			boom := errors.New("injected fault")
			op, err := c.spec.op(m, WithJournal(j), WithStepHook(func(_, step string) error {
				if step == at {
					return boom
				}
				return nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			if err := op.Execute(bg, nil); !errors.Is(err, boom) {
				t.Fatalf("Execute with a fault at %s: %v", at, err)
			}
			e := entryOf(t, j, c.spec.Op)
			got := c.state(t)
			want := "old"
			if c.irreversible && at == StepDone {
				// Made and impossible to undo: honest is "unknown", locked down.
				if e.Outcome != safety.OutcomeLockedDown || got != "new" {
					t.Errorf("irreversible change faulted after it was made: journal %s, state %s", e.Outcome, got)
				}
				t.Logf("crash matrix: %s fault@%s: %s %s", c.name, at, e.Outcome, got)
				return
			}
			if got != want || e.Outcome.State() != want {
				t.Errorf("fault at %s: state %s, journal %s (%s), want both %s", at, got, e.Outcome, e.Outcome.State(), want)
			}
			t.Logf("crash matrix: %s fault@%s: %s %s", c.name, at, e.Outcome, got)
		})
		t.Run("kill@"+at, func(t *testing.T) {
			defer c.reset(t)
			s := c.spec
			s.Step, s.Journal = at, t.TempDir()
			killChild(t, s)
			j := openJournal(t, s.Journal)
			defer j.Close()
			if n := len(j.Interrupted()); n != 1 {
				t.Fatalf("%d interrupted mutations after the kill", n)
			}
			rec, err := j.Recover(bg)
			if err != nil || len(rec) != 1 {
				t.Fatalf("recover: %+v %v", rec, err)
			}
			e := entryOf(t, j, c.spec.Op)
			got := c.state(t)
			if rec[0].Outcome != safety.OutcomeRolledForward || e.Outcome.State() != "new" || got != "new" {
				t.Errorf("killed after %s, recovered: %s (journal %s), state %s; want rolled_forward, new (%v)", at, rec[0].Outcome, e.Outcome, got, rec[0].Err)
			}
			if e.LastStep() != at {
				t.Errorf("journal's last step %q, killed after %q", e.LastStep(), at)
			}
			// A second Recover finds nothing to do.
			if again, err := j.Recover(bg); err != nil || len(again) != 0 {
				t.Errorf("second recover: %+v %v", again, err)
			}
			t.Logf("crash matrix: %s kill@%s: %s %s", c.name, at, e.Outcome, got)
		})
	}
	if c.irreversible {
		return
	}
	// A plan failing after the change undoes it; a kill at the undo leaves
	// the undo interrupted, and recovery takes it back to where it started
	// (the forward mutation's new state): exact, and the journal says so.
	t.Run("kill@undo", func(t *testing.T) {
		defer c.reset(t)
		s := c.spec
		s.Step, s.Journal, s.Undo = "undo", t.TempDir(), true
		killChild(t, s)
		j := openJournal(t, s.Journal)
		defer j.Close()
		rec, err := j.Recover(bg)
		if err != nil || len(rec) != 1 || rec[0].Outcome != safety.OutcomeRolledBack {
			t.Fatalf("recover: %+v %v", rec, err)
		}
		fwd, undo := entryOf(t, j, c.spec.Op), entryOf(t, j, c.spec.Op+".rollback")
		if got := c.state(t); got != "new" || fwd.Outcome.State() != "new" {
			t.Errorf("undo killed and recovered: forward %s, undo %s, state %s; want the forward's new state", fwd.Outcome, undo.Outcome, got)
		}
		t.Logf("crash matrix: %s kill@undo: forward %s, undo %s: %s", c.name, fwd.Outcome, undo.Outcome, c.state(t))
	})
	// And a plan failing after the change, uninterrupted: compensated, old.
	t.Run("plan-rollback", func(t *testing.T) {
		defer c.reset(t)
		j := openJournal(t, t.TempDir())
		defer j.Close()
		op, err := c.spec.op(m, WithJournal(j))
		if err != nil {
			t.Fatal(err)
		}
		sc, _ := sched.New()
		fail := sched.Operation{ID: "fail", Dependencies: []string{op.ID}, Execute: func(context.Context, sched.Progress) error { return errors.New("later") }}
		if _, err := sc.Run(bg, sched.NewPlan(op, fail)); err == nil {
			t.Fatal("failing plan succeeded")
		}
		if got, e := c.state(t), entryOf(t, j, c.spec.Op+".rollback"); got != "old" || e.Outcome != safety.OutcomeDone {
			t.Errorf("plan rolled back: state %s, undo journaled %s", got, e.Outcome)
		}
	})
}

func killChild(t *testing.T, s crashSpec) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+string(mustJSON(s)))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed at %s: %v %s", s.Step, err, out)
	}
}

// Journaled quota mutations on the host's real filesystems: btrfs qgroup
// limits and btrfs quota enable, xfs project ids, ext4 enable by tune2fs.
func TestCrashMatrixHost(t *testing.T) {
	testenv.RequireRoot(t)
	t.Run("btrfs-limits", func(t *testing.T) {
		testenv.RequireTool(t, "mkfs.btrfs", "btrfs")
		mnt, _ := mustFS(t, "btrfs", 200*mib, []string{"-q", "-f"}, "")
		m := newManager(t)
		testenv.Run(t, "btrfs", "-q", "subvolume", "create", filepath.Join(mnt, "a"))
		if _, err := m.Enable(bg, mnt); err != nil {
			t.Fatal(err)
		}
		id, err := m.SubvolumeID(bg, filepath.Join(mnt, "a"))
		if err != nil {
			t.Fatal(err)
		}
		old, new := Limits{BlockHard: 3 * mib}, Limits{BlockHard: mib + 1} // bytes, not KiB: kept exactly
		reset := func(t *testing.T) {
			if err := m.SetLimits(bg, mnt, Subvolume, id, old); err != nil {
				t.Fatal(err)
			}
		}
		reset(t)
		runCrashMatrix(t, crashCase{
			name: "btrfs set-limits",
			spec: crashSpec{Op: OpSetLimits, Target: mnt, Kind: Subvolume, ID: id, Limits: new},
			state: func(t *testing.T) string {
				u, err := m.Get(bg, mnt, Subvolume, id)
				if err != nil {
					t.Fatal(err)
				}
				return stateOf(u.Limits, old, new)
			},
			reset: reset,
		})
	})
	t.Run("btrfs-enable", func(t *testing.T) {
		testenv.RequireTool(t, "mkfs.btrfs", "btrfs")
		mnt, _ := mustFS(t, "btrfs", 200*mib, []string{"-q", "-f"}, "")
		m := newManager(t)
		on := func(t *testing.T) bool {
			f, err := m.btrfsOpen(&mount{path: mnt})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b, err := f.QuotaEnabled(bg)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		runCrashMatrix(t, crashCase{
			name:  "btrfs enable",
			spec:  crashSpec{Op: OpEnable, Target: mnt},
			state: func(t *testing.T) string { return stateOf(on(t), false, true) },
			reset: func(t *testing.T) {
				f, err := m.btrfsOpen(&mount{path: mnt})
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if on(t) {
					if err := f.DisableQuota(bg); err != nil {
						t.Fatal(err)
					}
				}
			},
		})
	})
	t.Run("xfs-project", func(t *testing.T) {
		testenv.RequireTool(t, "mkfs.xfs")
		mnt, _ := mustFS(t, "xfs", 300*mib, []string{"-q", "-f"}, "")
		projectMatrix(t, "xfs", mnt)
	})
	t.Run("ext4-enable", func(t *testing.T) {
		testenv.RequireTool(t, "mkfs.ext4", "tune2fs", "e2fsck")
		mnt, dev := mustFS(t, "ext4", 64*mib, []string{"-q", "-F", "-I", "256"}, "")
		testenv.Run(t, "umount", mnt)
		state := func(t *testing.T) string {
			f, err := ext4Features(dev)
			if err != nil {
				t.Fatal(err)
			}
			const both = ext4ROCompatQuota | ext4ROCompatProject
			return stateOf(f&both, 0, both)
		}
		runCrashMatrix(t, crashCase{
			name:         "ext4 enable",
			spec:         crashSpec{Op: OpEnable, Target: dev},
			state:        state,
			reset:        func(t *testing.T) { testenv.Run(t, "mkfs.ext4", "-q", "-F", "-I", "256", dev) },
			irreversible: true,
		})
		// The filesystem tune2fs finished after a kill checks clean.
		testenv.Run(t, "e2fsck", "-fn", dev)
	})
}

// projectMatrix runs the crash matrix of a project id change of a
// directory on the filesystem at mnt.
func projectMatrix(t *testing.T, name, mnt string) {
	m := newManager(t)
	dir := filepath.Join(mnt, "proj")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, new := ProjectAttr{}, ProjectAttr{ID: 4242, Inherit: true}
	runCrashMatrix(t, crashCase{
		name: name + " set-project",
		spec: crashSpec{Op: OpSetProject, Target: dir, ProjID: new.ID, Inherit: new.Inherit},
		state: func(t *testing.T) string {
			a, err := m.GetProject(bg, dir)
			if err != nil {
				t.Fatal(err)
			}
			return stateOf(a, old, new)
		},
		reset: func(t *testing.T) {
			if err := m.SetProject(bg, dir, old.ID, old.Inherit); err != nil {
				t.Fatal(err)
			}
		},
	})
}

func stateOf[T comparable](got, old, new T) string {
	switch got {
	case old:
		return "old"
	case new:
		return "new"
	}
	return fmt.Sprintf("neither (%v)", got)
}

// Without a journal the operations keep their in-memory rollback, and a
// journaled one that fails at the kernel (user quotas on btrfs) is
// journaled as the old state.
func TestJournaledRefusal(t *testing.T) {
	testenv.RequireTool(t, "mkfs.btrfs", "btrfs")
	mnt, _ := mustFS(t, "btrfs", 200*mib, []string{"-q", "-f"}, "")
	m := newManager(t)
	j := openJournal(t, t.TempDir())
	defer j.Close()
	op, err := m.SetLimitsOp(mnt, User, 1000, Limits{BlockHard: mib}, WithJournal(j))
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Execute(bg, nil); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("user limit on btrfs: %v", err)
	}
	if e := entryOf(t, j, OpSetLimits); e.Outcome.State() != "old" {
		t.Errorf("refused change journaled %s", e.Outcome)
	}
	if _, err := m.SetLimitsOp(mnt, User, 1, Limits{}, WithJournal(nil)); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil journal: %v", err)
	}
}

// FuzzDecodeParams: whatever a journal holds, decoding is a typed error
// or params whole for the kind, never a panic.
func FuzzDecodeParams(f *testing.F) {
	for _, s := range []string{
		`{"mountpoint":"/mnt","fs":"7:0","kind":"user","id":5,"limits":{"block_hard":1024}}`,
		`{"mountpoint":"/mnt","fs":"btrfs-x","kind":"subvolume","id":256,"limits":{}}`,
		`{"mountpoint":"/mnt","fs":"7:0","kind":"group","grace":{"block":3600000000000,"inode":0}}`,
		`{"dir":"/mnt/p","fs":"7:0","kind":"user","projid":42,"inherit":true}`,
		`{"device":"/dev/loop0","fs":"7:0","kind":"user"}`,
		`{"fs":"7:0","kind":"tenant"}`, `{`, `null`, `[]`,
	} {
		for _, k := range []string{OpSetLimits, OpSetGrace, OpSetProject, OpEnable, "x"} {
			f.Add(k, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, kind string, b []byte) {
		p, err := decodeParams(kind, b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if p.FS == "" || (kind == OpSetLimits && p.Limits == nil) || (kind == OpSetGrace && p.Grace == nil) {
			t.Fatalf("incomplete params accepted: %+v", p)
		}
	})
}

// When recovery cannot finish a change (here: a project id the kernel
// refuses, journaled by a process killed before it asked), it puts the
// journaled old state back: rolled_back, and the directory keeps its id.
func TestRecoverRollsBack(t *testing.T) {
	testenv.RequireTool(t, "mkfs.xfs")
	mnt, _ := mustFS(t, "xfs", 300*mib, []string{"-q", "-f"}, "")
	m := newManager(t)
	dir := filepath.Join(mnt, "proj")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := m.SetProject(bg, dir, 7, true); err != nil {
		t.Fatal(err)
	}
	s := crashSpec{Op: OpSetProject, Target: dir, ProjID: ^uint32(0), Step: StepRequested, Journal: t.TempDir()}
	killChild(t, s)
	j := openJournal(t, s.Journal)
	defer j.Close()
	rec, err := j.Recover(bg)
	if err != nil || len(rec) != 1 || rec[0].Outcome != safety.OutcomeRolledBack {
		t.Fatalf("recover: %+v %v", rec, err)
	}
	if a, err := m.GetProject(bg, dir); err != nil || a != (ProjectAttr{ID: 7, Inherit: true}) {
		t.Errorf("after the roll-back: %+v %v, want the old project 7", a, err)
	}
	if e := entryOf(t, j, OpSetProject); e.Outcome.State() != "old" {
		t.Errorf("journal says %s", e.Outcome)
	}
}
