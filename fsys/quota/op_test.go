package quota

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// SetLimitsOp on a real btrfs: a plan that sets a limit and then fails is
// rolled back to exactly the old limit; a plan that succeeds leaves the
// new one; a failing Execute (user quotas on btrfs) changes nothing.
func TestSetLimitsOpRollback(t *testing.T) {
	testenv.RequireTool(t, "btrfs")
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
	if err := m.SetLimits(bg, mnt, Subvolume, id, Limits{BlockHard: 3 * mib}); err != nil {
		t.Fatal(err)
	}
	s, err := sched.New()
	if err != nil {
		t.Fatal(err)
	}
	run := func(ops ...sched.Operation) error {
		_, err := s.Run(context.Background(), sched.NewPlan(ops...))
		return err
	}
	set, err := m.SetLimitsOp(mnt, Subvolume, id, Limits{BlockHard: mib})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("later step failed")
	fail := sched.Operation{ID: "fail", Dependencies: []string{set.ID}, Execute: func(context.Context, sched.Progress) error { return boom }}
	if err := run(set, fail); err == nil {
		t.Fatal("plan with a failing step succeeded")
	}
	if u, err := m.Get(bg, mnt, Subvolume, id); err != nil || u.Limits.BlockHard != 3*mib {
		t.Errorf("after rollback: %+v, %v (want the old 3 MiB)", u, err)
	}
	set, _ = m.SetLimitsOp(mnt, Subvolume, id, Limits{BlockHard: mib})
	if err := run(set); err != nil {
		t.Fatal(err)
	}
	if u, _ := m.Get(bg, mnt, Subvolume, id); u.Limits.BlockHard != mib {
		t.Errorf("after the plan: %+v", u)
	}
	bad, err := m.SetLimitsOp(mnt, User, 1000, Limits{BlockHard: mib})
	if err != nil {
		t.Fatal(err)
	}
	if err := run(bad); !errors.Is(err, ErrNotSupported) {
		t.Errorf("user limit on btrfs through the scheduler: %v", err)
	}
	if u, _ := m.Get(bg, mnt, Subvolume, id); u.Limits.BlockHard != mib {
		t.Errorf("a failed op changed the limit: %+v", u)
	}
	k1, _ := Key(mnt, Subvolume, id)
	k2, _ := Key(filepath.Join(mnt, "a"), Subvolume, id)
	if k1 != k2 {
		t.Errorf("one filesystem, two keys: %v %v", k1, k2)
	}
}
