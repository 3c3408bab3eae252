package safety

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// interruptedAfter begins the test mutation, applies the first k ranges
// (recording a step after each) and closes the journal without an outcome,
// as a crash would leave it.
func interruptedAfter(t *testing.T, dir, path string, id Identity, k int) string {
	t.Helper()
	ctx := context.Background()
	j, err := OpenJournal(ctx, WithStateDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	m, err := j.Begin(ctx, Intent{Op: "test.write", Target: id, Ranges: testRanges})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < k; i++ {
		if err := applyRange(path, testRanges[i]); err != nil {
			t.Fatal(err)
		}
		if err := m.Step(ctx, "range", ""); err != nil {
			t.Fatal(err)
		}
	}
	return m.ID()
}

func TestRecoverRollsBackOrForward(t *testing.T) {
	ctx := context.Background()
	for k := 0; k <= len(testRanges); k++ {
		for _, fwd := range []bool{false, true} {
			dir := t.TempDir()
			path, id, old := target(t, 32768)
			mid := interruptedAfter(t, dir, path, id, k)
			var opts []Option
			if fwd {
				opts = append(opts, WithRollForward("test.write", rollForwardAll))
			}
			j := openJ(t, dir, opts...)
			in := j.Interrupted()
			if len(in) != 1 || in[0].ID != mid || len(in[0].StepsDone()) != k {
				t.Fatalf("k=%d: interrupted %+v", k, in)
			}
			res, err := j.Recover(ctx)
			if err != nil || len(res) != 1 || res[0].Err != nil {
				t.Fatalf("k=%d fwd=%v: %+v %v", k, fwd, res, err)
			}
			want, wantO := old, OutcomeRolledBack
			if fwd {
				want, wantO = newContent(old), OutcomeRolledForward
			}
			if res[0].Outcome != wantO || !bytes.Equal(mustRead(t, path), want) {
				t.Fatalf("k=%d fwd=%v: outcome %s, content wrong", k, fwd, res[0].Outcome)
			}
			// Double recovery equals one.
			res2, err := j.Recover(ctx)
			if err != nil || len(res2) != 0 || !bytes.Equal(mustRead(t, path), want) {
				t.Fatalf("second Recover: %+v %v", res2, err)
			}
			j.Close()
			j2 := openJ(t, dir, opts...)
			if len(j2.Interrupted()) != 0 {
				t.Fatal("still interrupted after reopen")
			}
			e, _ := j2.Entry(mid)
			if e.Outcome != wantO || e.Recoveries != 1 {
				t.Fatalf("journal says %s after %d recoveries", e.Outcome, e.Recoveries)
			}
		}
	}
}

func TestRecoverFallsBackWhenForwardFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, id, old := target(t, 32768)
	interruptedAfter(t, dir, path, id, 2)
	j := openJ(t, dir, WithRollForward("test.write", func(context.Context, Entry) error {
		return ErrCannotFinish
	}))
	res, err := j.Recover(ctx)
	if err != nil || res[0].Outcome != OutcomeRolledBack || !bytes.Equal(mustRead(t, path), old) {
		t.Fatalf("%+v %v", res, err)
	}
}

// A kind's own undo runs before the before-images are restored; when it
// fails, the images are restored all the same and the target locked down,
// since the images alone are not the old state.
func TestRecoverRunsTheOwnUndoFirst(t *testing.T) {
	ctx := context.Background()
	for _, fail := range []bool{false, true} {
		dir := t.TempDir()
		path, id, old := target(t, 32768)
		interruptedAfter(t, dir, path, id, 2)
		var ran []string
		j := openJ(t, dir, WithRollBack("test.write", func(_ context.Context, e Entry) error {
			ran = append(ran, e.LastStep())
			if fail {
				return errors.New("undo file unreadable")
			}
			return nil
		}))
		res, err := j.Recover(ctx)
		if err != nil || len(res) != 1 || len(ran) != 1 || ran[0] != "range" {
			t.Fatalf("fail=%v: %+v %v, own undo ran %v", fail, res, err, ran)
		}
		if !bytes.Equal(mustRead(t, path), old) {
			t.Fatalf("fail=%v: the before-images were not restored", fail)
		}
		want := OutcomeRolledBack
		if fail {
			want = OutcomeLockedDown
		}
		if res[0].Outcome != want {
			t.Fatalf("fail=%v: outcome %s, want %s (%v)", fail, res[0].Outcome, want, res[0].Err)
		}
		j.Close()
	}
	if _, err := OpenJournal(ctx, WithStateDir(t.TempDir()), WithRollBack("x", nil)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("nil roll-back: %v", err)
	}
}

func TestRecoverRefusesIdentityMismatch(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, id, _ := target(t, 32768)
	interruptedAfter(t, dir, path, id, 1)
	before := mustRead(t, path)
	// A different file now has the name: same path, new inode.
	// Written beside and renamed over, so the old inode is still alive when
	// the new one is allocated and the numbers differ.
	if err := os.WriteFile(path+".new", before, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	j := openJ(t, dir)
	res, err := j.Recover(ctx)
	if err != nil || len(res) != 1 || !errors.Is(res[0].Err, ErrIdentityMismatch) || res[0].Outcome != "" {
		t.Fatalf("%+v %v", res, err)
	}
	if !bytes.Equal(mustRead(t, path), before) {
		t.Fatal("recovery wrote to a target whose identity does not match")
	}
	if len(j.Interrupted()) != 1 {
		t.Fatal("refused mutation must stay interrupted")
	}
	// Serial and WWN mismatches refuse the same way.
	if err := (Identity{Path: "/dev/sdz", Serial: "A"}).Mismatch(Identity{Path: "/dev/sdz", Serial: "B"}); !errors.Is(err, ErrIdentityMismatch) {
		t.Fatal(err)
	}
	// A table being rewritten may carry the new PTUUID, or none.
	rec := Identity{PTUUID: "old", DiskSeq: 4}
	if err := rec.Mismatch(Identity{PTUUID: "new", DiskSeq: 4}, "new"); err != nil {
		t.Fatal(err)
	}
	if err := rec.Mismatch(Identity{DiskSeq: 4}); err != nil {
		t.Fatal(err)
	}
	if err := rec.Mismatch(Identity{PTUUID: "other", DiskSeq: 4}, "new"); !errors.Is(err, ErrIdentityMismatch) {
		t.Fatal(err)
	}
	// The operator abandons it; then the target is free again.
	mid := j.Interrupted()[0].ID
	if err := j.Abandon(ctx, mid, "disk was replaced"); err != nil {
		t.Fatal(err)
	}
	nowID, _ := IdentityOf(ctx, path)
	m, err := j.Begin(ctx, Intent{Op: "x", Target: nowID})
	if err != nil {
		t.Fatal(err)
	}
	m.Done(ctx)
}

func TestRecoverLocksDownWhenRestoreFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, id, _ := target(t, 32768)
	mid := interruptedAfter(t, dir, path, id, 1)
	// Damage a before-image: recovery must not write it, and locks down.
	e := func() Entry {
		j := openJ(t, dir)
		defer j.Close()
		e, _ := j.Entry(mid)
		return e
	}()
	os.WriteFile(filepath.Join(dir, e.Images[1].File), []byte("garbage"), 0o600)
	mixed := mustRead(t, path)
	j := openJ(t, dir)
	res, err := j.Recover(ctx)
	if err != nil || res[0].Outcome != OutcomeLockedDown || !errors.Is(res[0].Err, ErrImageMismatch) {
		t.Fatalf("%+v %v", res, err)
	}
	if !bytes.Equal(mustRead(t, path), mixed) {
		t.Fatal("a damaged image set must write nothing")
	}
	if _, ok := j.LockedDown(id); !ok {
		t.Fatal("not locked down")
	}
}

// cancelOnWrite simulates a crash during a restore: after n writes the
// context is cancelled and the write fails.
type cancelOnWrite struct {
	Device
	n      *int
	cancel context.CancelFunc
}

func (c cancelOnWrite) WriteAt(p []byte, off int64) (int, error) {
	if *c.n == 0 {
		c.cancel()
		return 0, context.Canceled
	}
	*c.n--
	return c.Device.WriteAt(p, off)
}

func TestRecoveryInterruptedAtEveryStep(t *testing.T) {
	// Recovery touches the journal (records) and the target (restores); a
	// crash at any of them must be finished by the next run.
	for _, fwd := range []bool{false, true} {
		for failAt := 1; ; failAt++ {
			dir := t.TempDir()
			path, id, old := target(t, 32768)
			interruptedAfter(t, dir, path, id, 2)
			want := old
			var opts []Option
			if fwd {
				want = newContent(old)
				opts = append(opts, WithRollForward("test.write", rollForwardAll))
			}
			ffs := &faultFS{failAt: failAt}
			ctx, cancel := context.WithCancel(context.Background())
			writes := failAt - 1
			opener := func(p string, flag int) (Device, error) {
				d, err := openDevice(p, flag)
				if err != nil {
					return nil, err
				}
				return cancelOnWrite{Device: d, n: &writes, cancel: cancel}, nil
			}
			j, err := OpenJournal(context.Background(), append(opts, WithStateDir(dir), WithFS(ffs), WithDeviceOpener(opener))...)
			if err != nil {
				cancel()
				continue // the fault hit the open itself
			}
			ffs.armed = true
			res, rerr := j.Recover(ctx)
			j.Close()
			cancel()
			completed := rerr == nil && len(res) == 1 && res[0].Outcome != ""
			// Next run, healthy.
			j2 := openJ(t, dir, opts...)
			res2, err := j2.Recover(context.Background())
			if err != nil {
				t.Fatalf("failAt=%d: second recovery: %v", failAt, err)
			}
			if completed && len(res2) != 0 {
				t.Fatalf("failAt=%d: finished recovery re-ran", failAt)
			}
			if ls := j2.Lockdowns(); len(ls) != 0 {
				t.Fatalf("failAt=%d fwd=%v: a crash during recovery locked down: %+v", failAt, fwd, ls)
			}
			if !bytes.Equal(mustRead(t, path), want) {
				t.Fatalf("failAt=%d fwd=%v: target is neither exactly old nor new as the journal says", failAt, fwd)
			}
			j2.Close()
			if completed && ffs.faults == 0 && writes > 0 {
				t.Logf("fwd=%v: %d fault points exercised", fwd, failAt-1)
				break // no fault point left
			}
		}
	}
}

func TestConcurrentRecoverSettlesOnce(t *testing.T) {
	dir := t.TempDir()
	path, id, old := target(t, 32768)
	interruptedAfter(t, dir, path, id, 2)
	j := openJ(t, dir)
	var wg sync.WaitGroup
	results := make([][]Recovered, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = j.Recover(context.Background())
		}()
	}
	wg.Wait()
	n := 0
	for _, r := range results {
		n += len(r)
	}
	if n != 1 || !bytes.Equal(mustRead(t, path), old) {
		t.Fatalf("%d recoveries", n)
	}
	if e := j.Entries(); e[0].Recoveries != 1 {
		t.Fatalf("journal shows %d recovery starts", e[0].Recoveries)
	}
}
