package btrfs

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

func conflicts(a, b sched.Operation) bool {
	for _, x := range a.Resources {
		for _, y := range b.Resources {
			if x.Conflicts(y) {
				return true
			}
		}
	}
	return false
}

// TestOpsKeysAndSchedule: the long jobs and resizes of one filesystem
// conflict, subvolume changes at different paths do not; a plan of a
// scrub, a balance, a resize and subvolume work runs through the scheduler
// with the exclusive ones never at once, and a cancelled plan cancels the
// kernel's scrub.
func TestOpsKeysAndSchedule(t *testing.T) {
	tf := newTestFS(t, 1, 1<<30)
	ctx, f := ctxT(t), tf.fs
	fill(t, tf.mnt, 6, 40<<20)
	if err := f.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	mk := func(o sched.Operation, err error) sched.Operation {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	scrub := mk(ScrubOp(tf.mnt, ScrubOptions{ReadOnly: true, Interval: time.Millisecond}))
	bal := mk(BalanceOp(tf.mnt, BalanceOptions{Data: &BalanceFilter{}, Interval: time.Millisecond}))
	rs := mk(ResizeOp(tf.mnt, 1, 0))
	sa := mk(SubvolumeCreateOp(tf.mnt, "a"))
	sb := mk(SubvolumeCreateOp(tf.mnt, "b"))
	snap := mk(SnapshotOp(tf.mnt, "a", "a-snap", true))
	if !conflicts(bal, rs) || !conflicts(scrub, bal) || !conflicts(scrub, rs) {
		t.Error("balance, scrub and resize of one filesystem must conflict")
	}
	if conflicts(sa, sb) || conflicts(sa, bal) {
		t.Error("subvolume creates at two paths, or one and a balance, conflict")
	}
	if !conflicts(sa, snap) {
		t.Error("a snapshot of a and the create of a must conflict")
	}
	if inner := mk(SubvolumeCreateOp(tf.mnt, tf.mnt+"/a/inner")); !conflicts(sa, inner) || conflicts(sb, inner) {
		t.Error("a/inner must conflict with a, not with b")
	}
	if _, err := BalanceOp(tf.mnt, BalanceOptions{Data: &BalanceFilter{Convert: "raid9"}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad convert accepted at plan time: %v", err)
	}
	snap.Dependencies = []string{sa.ID}
	// Watch that scrub, balance and resize never overlap.
	var mu sync.Mutex
	running, overlap := 0, false
	wrapX := func(o sched.Operation) sched.Operation {
		exec := o.Execute
		o.Execute = func(ctx context.Context, p sched.Progress) error {
			mu.Lock()
			running++
			overlap = overlap || running > 1
			mu.Unlock()
			defer func() { mu.Lock(); running--; mu.Unlock() }()
			return exec(ctx, p)
		}
		return o
	}
	s, err := sched.New(sched.WithWorkers(4))
	if err != nil {
		t.Fatal(err)
	}
	plan := sched.NewPlan(wrapX(scrub), wrapX(bal), wrapX(rs), sa, sb, snap)
	rep, err := s.Run(ctx, plan)
	if err != nil {
		t.Fatalf("plan: %v %+v", err, rep)
	}
	if overlap {
		t.Error("scrub, balance and resize of one filesystem ran at once")
	}
	subs, err := f.Subvolumes(ctx)
	if err != nil || len(subs) != 3 {
		t.Fatalf("after the plan: %v %v", subs, err)
	}

	// Progress through sched.Progress: bytes for a scrub, chunks for a
	// balance, ending at what the job did.
	var sDone, sTotal, bDone, bTotal int64
	if err := mk(ScrubOp(tf.mnt, ScrubOptions{ReadOnly: true})).Execute(ctx, func(d, n int64, _ string) { sDone, sTotal = d, n }); err != nil {
		t.Fatal(err)
	}
	if sDone < 200<<20 || sTotal < sDone {
		t.Errorf("scrub progress ended at %d of %d bytes", sDone, sTotal)
	}
	if err := mk(BalanceOp(tf.mnt, BalanceOptions{Data: &BalanceFilter{}})).Execute(ctx, func(d, n int64, _ string) { bDone, bTotal = d, n }); err != nil {
		t.Fatal(err)
	}
	if bDone == 0 || bDone != bTotal {
		t.Errorf("balance progress ended at %d of %d chunks", bDone, bTotal)
	}

	// A plan cancelled mid-scrub cancels the kernel's scrub.
	cctx, cancel := context.WithCancel(ctx)
	sc := mk(ScrubOp(tf.mnt, ScrubOptions{ReadOnly: true, Interval: time.Millisecond}))
	exec := sc.Execute
	sc.Execute = func(ctx context.Context, p sched.Progress) error {
		return exec(ctx, func(done, total int64, note string) {
			if done > 0 {
				cancel()
			}
		})
	}
	_, err = s.Run(cctx, sched.NewPlan(sc))
	cancel()
	if err == nil {
		t.Log("the scrub finished before the cancel landed")
	}
	if _, err := f.ScrubProgress(ctx); !errors.Is(err, ErrNotRunning) {
		t.Errorf("a scrub still runs after its plan was cancelled: %v", err)
	}
}
