package safety

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"testing"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/testenv"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

func writeAll(path string, n int) error {
	for i := 0; i < n && i < len(testRanges); i++ {
		if err := applyRange(path, testRanges[i]); err != nil {
			return err
		}
	}
	return nil
}

func TestGuardPlanFailureRollsBackEverything(t *testing.T) {
	ctx := context.Background()
	j := openJ(t, t.TempDir())
	pa, _, olda := target(t, 32768)
	pb, _, oldb := target(t, 32768)
	a, err := Guard(j, Guarded{Op: sched.Operation{ID: "a", Kind: "test.write"}, Target: pa, Exclusive: true,
		Intent: Intent{Ranges: testRanges},
		Execute: func(ctx context.Context, m *Mutation, l *DeviceLock, _ sched.Progress) error {
			if l.Excl == nil {
				return errors.New("no exclusive descriptor")
			}
			return writeAll(pa, 3)
		}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Guard(j, Guarded{Op: sched.Operation{ID: "b", Kind: "test.write", Dependencies: []string{"a"}}, Target: pb,
		Intent: Intent{Ranges: testRanges},
		Execute: func(ctx context.Context, m *Mutation, _ *DeviceLock, _ sched.Progress) error {
			writeAll(pb, 2) // half done, then it fails
			return errors.New("device went away")
		}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sched.New()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Run(ctx, sched.NewPlan(a, b))
	if rep == nil {
		t.Fatal(err)
	}
	ra, _ := rep.Result("a")
	rb, _ := rep.Result("b")
	if ra.State != sched.StateRolledBack || rb.State != sched.StateFailed {
		t.Fatalf("a %v (%v), b %v (%v)", ra.State, ra.RollbackErr, rb.State, rb.Err)
	}
	if !bytes.Equal(mustRead(t, pa), olda) || !bytes.Equal(mustRead(t, pb), oldb) {
		t.Fatal("targets not back to their old bytes")
	}
	var outcomes []string
	for _, e := range j.Entries() {
		outcomes = append(outcomes, e.Intent.Op+"="+string(e.Outcome))
	}
	want := []string{"test.write=done", "test.write=rolled_back", "test.write.rollback=done"}
	if len(outcomes) != 3 || outcomes[0] != want[0] || outcomes[1] != want[1] || outcomes[2] != want[2] {
		t.Fatalf("journal %v, want %v", outcomes, want)
	}
}

func TestGuardRollbackLocksDownWhenEverythingFails(t *testing.T) {
	ctx := context.Background()
	failWrites := func(p string, flag int) (Device, error) {
		if flag&(os.O_RDWR|os.O_WRONLY) != 0 {
			return nil, fs.ErrPermission
		}
		return openDevice(p, flag)
	}
	j := openJ(t, t.TempDir(), WithDeviceOpener(failWrites))
	pa, ida, _ := target(t, 32768)
	pb, _, _ := target(t, 32768)
	a, _ := Guard(j, Guarded{Op: sched.Operation{ID: "a"}, Target: pa, Intent: Intent{Ranges: testRanges},
		Execute: func(context.Context, *Mutation, *DeviceLock, sched.Progress) error { return writeAll(pa, 3) },
		Compensate: func(context.Context, *DeviceLock) error {
			return errors.New("cannot compensate")
		}})
	b, _ := Guard(j, Guarded{Op: sched.Operation{ID: "b", Dependencies: []string{"a"}}, Target: pb,
		Execute: func(context.Context, *Mutation, *DeviceLock, sched.Progress) error { return errors.New("fail") }})
	s, _ := sched.New()
	rep, err := s.Run(ctx, sched.NewPlan(a, b))
	if rep == nil {
		t.Fatal(err)
	}
	ra, _ := rep.Result("a")
	if ra.State != sched.StateRollbackFailed || !errors.Is(ra.RollbackErr, ErrLockedDown) {
		t.Fatalf("a: %v %v", ra.State, ra.RollbackErr)
	}
	if _, ok := j.LockedDown(ida); !ok {
		t.Fatal("target a not locked down")
	}
	// b had no ranges and failed: nothing to restore, so it is locked too
	// (unknown state), and a is refused from now on.
	if _, err := j.Begin(ctx, Intent{Op: "x", Target: ida}); !errors.Is(err, ErrLockedDown) {
		t.Fatalf("Begin on locked target: %v", err)
	}
}

func TestGuardPreflightRefuses(t *testing.T) {
	testenv.RequireTool(t, "mkswap")
	dev := testenv.Loop(t, loopSize)
	testenv.Run(t, "mkswap", dev)
	j := openJ(t, t.TempDir())
	ran := false
	op, err := Guard(j, Guarded{Op: sched.Operation{ID: "fmt", Kind: "fsys.mkfs"}, Target: dev, Preflight: OpFormat,
		Exclusive: true,
		Execute:   func(context.Context, *Mutation, *DeviceLock, sched.Progress) error { ran = true; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if len(op.Resources) != 1 || op.Resources[0].Mode != sched.Exclusive {
		t.Fatalf("resources %v", op.Resources)
	}
	s, _ := sched.New()
	rep, err := s.Run(context.Background(), sched.NewPlan(op))
	if rep == nil {
		t.Fatal(err)
	}
	r, _ := rep.Result("fmt")
	if r.State != sched.StateFailed || !errors.Is(r.Err, ErrUnsafe) || ran {
		t.Fatalf("%v %v ran=%v", r.State, r.Err, ran)
	}
	if len(j.Entries()) != 0 {
		t.Fatal("a refused operation was journaled as a mutation")
	}
	// With the one reason overridden it runs, and the intent carries the override.
	op, _ = Guard(j, Guarded{Op: sched.Operation{ID: "fmt", Kind: "fsys.mkfs"}, Target: dev, Preflight: OpFormat,
		PreflightOpts: []CheckOption{WithOverride(CodeNotEmpty, "old swap, reformat", "test")},
		Execute:       func(context.Context, *Mutation, *DeviceLock, sched.Progress) error { ran = true; return nil }})
	rep, _ = s.Run(context.Background(), sched.NewPlan(op))
	if r, _ := rep.Result("fmt"); r.State != sched.StateSucceeded || !ran {
		t.Fatalf("%v %v", r.State, r.Err)
	}
	es := j.Entries()
	if len(es) != 1 || len(es[0].Intent.Overrides) != 1 || es[0].Intent.Overrides[0].Code != CodeNotEmpty {
		t.Fatalf("entries %+v", es)
	}
}

func TestGuardValidates(t *testing.T) {
	j := openJ(t, t.TempDir())
	if _, err := Guard(nil, Guarded{}); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
	if _, err := Guard(j, Guarded{Op: sched.Operation{ID: "x"}, Target: "/dev/null", Preflight: "mkfs",
		Execute: func(context.Context, *Mutation, *DeviceLock, sched.Progress) error { return nil }}); !errors.Is(err, ErrInvalid) {
		t.Fatal(err)
	}
}

// When a failed Execute cannot be undone and not even locked down (the
// journal broke while recording it), the caller must hear that the undo
// failed: the error used to be only Execute's, as if nothing was left behind.
func TestGuardReportsAFailedUndo(t *testing.T) {
	ctx := context.Background()
	ffs := &faultFS{failAt: 1}
	j := openJ(t, t.TempDir(), WithFS(ffs))
	p, _, _ := target(t, 32768)
	op, err := Guard(j, Guarded{Op: sched.Operation{ID: "a"}, Target: p,
		Execute: func(context.Context, *Mutation, *DeviceLock, sched.Progress) error {
			ffs.mu.Lock()
			ffs.armed = true // the next journal write (the lock-down) fails
			ffs.mu.Unlock()
			return errors.New("device went away")
		}})
	if err != nil {
		t.Fatal(err)
	}
	err = op.Execute(ctx, func(int64, int64, string) {})
	if !errors.Is(err, ErrJournalBroken) {
		t.Fatalf("Execute: %v", err)
	}
}
