package sched

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestFailureSkipsDependentsAndRollsBackInReverse(t *testing.T) {
	var rb order
	boom := errors.New("boom")
	mk := func(id string, deps ...string) Operation {
		return Operation{ID: id, Dependencies: deps, Execute: noop, Rollback: func(context.Context) error {
			rb.exec(id)(nil, nil)
			return nil
		}}
	}
	fail := Operation{ID: "fail", Dependencies: []string{"b"}, Execute: func(context.Context, Progress) error { return boom }}
	p := NewPlan(mk("a"), mk("b", "a"), fail, mk("after", "fail"), mk("after2", "after"))
	rec := &recorder{}
	rep, err := mustNew(t, WithWorkers(2), WithSubscriber(rec.add)).Run(context.Background(), p)
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if got := rb.get(); !slices.Equal(got, []string{"b", "a"}) {
		t.Fatalf("rollback order %v", got)
	}
	want := map[string]State{"a": StateRolledBack, "b": StateRolledBack, "fail": StateFailed, "after": StateSkipped, "after2": StateSkipped}
	for id, st := range want {
		r, _ := rep.Result(id)
		if r.State != st {
			t.Errorf("%s: %v, want %v (%+v)", id, r.State, st, r)
		}
	}
	r, _ := rep.Result("after2")
	if !errors.Is(r.Err, ErrSkipped) || r.Reason == "" || r.Attempts != 0 {
		t.Errorf("after2 %+v", r)
	}
	if got := rec.ids(EventSkipped); len(got) != 2 {
		t.Errorf("skipped events %v", got)
	}
	if got := rec.ids(EventRolledBack); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("rolled back events %v", got)
	}
}

func TestRollbackErrorKeepsCause(t *testing.T) {
	boom := errors.New("execute failed")
	undo := errors.New("undo failed")
	var aRolled atomic.Bool
	p := NewPlan(
		Operation{ID: "a", Execute: noop, Rollback: func(context.Context) error { aRolled.Store(true); return nil }},
		Operation{ID: "b", Dependencies: []string{"a"}, Execute: noop, Rollback: func(context.Context) error { return undo }},
		Operation{ID: "indep", Execute: noop, Rollback: func(context.Context) error { return nil }, Priority: 10},
		Operation{ID: "c", Dependencies: []string{"b"}, Execute: func(context.Context, Progress) error { return boom }},
	)
	rep, err := mustNew(t, WithWorkers(1)).Run(context.Background(), p)
	if !errors.Is(err, boom) || !errors.Is(err, undo) || !errors.Is(err, ErrRollback) {
		t.Fatalf("err %v", err)
	}
	b, _ := rep.Result("b")
	var rbe *RollbackError
	if b.State != StateRollbackFailed || !errors.As(b.RollbackErr, &rbe) {
		t.Fatalf("b %+v", b)
	}
	if !errors.Is(rbe, undo) || !errors.Is(rbe, boom) {
		t.Fatalf("rollback error lost one side: %v", rbe)
	}
	// a is under b, whose undo failed: it must be kept, not undone.
	a, _ := rep.Result("a")
	if aRolled.Load() || a.State != StateSucceeded || a.Reason == "" {
		t.Fatalf("a %+v rolled=%v", a, aRolled.Load())
	}
	if in, _ := rep.Result("indep"); in.State != StateRolledBack {
		t.Fatalf("indep %+v", in)
	}
}

func TestRollbackTimeoutBoundsHungUndo(t *testing.T) {
	boom := errors.New("boom")
	p := NewPlan(
		Operation{ID: "a", Execute: noop, Rollback: func(ctx context.Context) error {
			<-ctx.Done() // a hung undo
			return ctx.Err()
		}},
		Operation{ID: "b", Dependencies: []string{"a"}, Execute: func(context.Context, Progress) error { return boom }},
	)
	rep, err := mustNew(t, WithRollbackTimeout(5*time.Millisecond)).Run(context.Background(), p)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if r, _ := rep.Result("a"); r.State != StateRollbackFailed {
		t.Fatalf("a %+v", r)
	}
}

// TestRollbackPanic: a panicking Rollback is a failed rollback carrying
// ErrPanicked and the cause; what it depends on is kept, and independent
// work is still undone.
func TestRollbackPanic(t *testing.T) {
	boom := errors.New("boom")
	var undone order
	p := NewPlan(
		Operation{ID: "a", Execute: noop, Rollback: func(context.Context) error { undone.exec("a")(nil, nil); return nil }},
		Operation{ID: "b", Dependencies: []string{"a"}, Execute: noop, Rollback: func(context.Context) error { panic("undo bug") }},
		Operation{ID: "x", Execute: noop, Rollback: func(context.Context) error { undone.exec("x")(nil, nil); return nil }},
		Operation{ID: "c", Dependencies: []string{"b", "x"}, Execute: func(context.Context, Progress) error { return boom }},
	)
	rep, err := mustNew(t, WithWorkers(1)).Run(context.Background(), p)
	if !errors.Is(err, boom) || !errors.Is(err, ErrPanicked) || !errors.Is(err, ErrRollback) {
		t.Fatalf("err %v", err)
	}
	if r, _ := rep.Result("b"); r.State != StateRollbackFailed || !errors.Is(r.RollbackErr, ErrPanicked) || !errors.Is(r.RollbackErr, boom) {
		t.Errorf("b %+v", r)
	}
	if r, _ := rep.Result("a"); r.State != StateSucceeded || r.Reason == "" {
		t.Errorf("a %+v", r)
	}
	if got := undone.get(); !slices.Equal(got, []string{"x"}) {
		t.Errorf("undone %v", got)
	}
}

// TestSkipReasonStaysShort: the reason a skipped operation gives names the
// dependency that did not succeed and the failure at the root, not the
// whole chain between them; nesting the chain made a 10,000-long chain
// cost memory quadratic in its length (gigabytes of reasons).
func TestSkipReasonStaysShort(t *testing.T) {
	const n = 2000
	boom := errors.New("boom")
	p := NewPlan(Operation{ID: "root", Execute: func(context.Context, Progress) error { return boom }})
	for i := 1; i < n; i++ {
		dep := fmt.Sprint(i - 1)
		if i == 1 {
			dep = "root"
		}
		p.Add(op(fmt.Sprint(i), dep))
	}
	rep, err := mustNew(t).Run(context.Background(), p)
	if !errors.Is(err, boom) || rep.Count(StateSkipped) != n-1 {
		t.Fatalf("err %v, %d skipped", err, rep.Count(StateSkipped))
	}
	if r, _ := rep.Result("1"); r.Reason != `dependency "root" failed` {
		t.Errorf("direct dependent: %q", r.Reason)
	}
	last, _ := rep.Result(fmt.Sprint(n - 1))
	if want := fmt.Sprintf(`dependency "%d" was skipped: "root" failed`, n-2); last.Reason != want || !errors.Is(last.Err, ErrSkipped) {
		t.Errorf("end of chain: %q, want %q", last.Reason, want)
	}
}
