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

func TestRunSimpleChain(t *testing.T) {
	var o order
	p := NewPlan(
		Operation{ID: "c", Dependencies: []string{"b"}, Execute: o.exec("c")},
		Operation{ID: "a", Execute: o.exec("a")},
		Operation{ID: "b", Dependencies: []string{"a"}, Execute: o.exec("b")},
	)
	rep, err := mustNew(t).Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if got := o.get(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("order %v", got)
	}
	if rep.Count(StateSucceeded) != 3 {
		t.Fatalf("results %+v", rep.Results)
	}
	if r, ok := rep.Result("b"); !ok || r.Attempts != 1 || r.State != StateSucceeded {
		t.Fatalf("b: %+v", r)
	}
}

func TestEmptyPlan(t *testing.T) {
	rep, err := mustNew(t).Run(context.Background(), NewPlan())
	if err != nil || len(rep.Results) != 0 {
		t.Fatal(rep, err)
	}
}

func TestPriorityOrder(t *testing.T) {
	var o order
	p := NewPlan()
	for i, pr := range []int{1, 5, 3, 5, -2, 0} {
		id := fmt.Sprintf("op%d", i)
		p.Add(Operation{ID: id, Priority: pr, Execute: o.exec(id)})
	}
	if _, err := mustNew(t, WithWorkers(1)).Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	// Equal priorities (op1, op3) keep plan order.
	want := []string{"op1", "op3", "op2", "op0", "op5", "op4"}
	if got := o.get(); !slices.Equal(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
	stages, err := mustNew(t, WithWorkers(1)).DryRun(p)
	if err != nil {
		t.Fatal(err)
	}
	var dry []string
	for _, st := range stages {
		dry = append(dry, st.Units[0]...)
	}
	if !slices.Equal(dry, want) {
		t.Fatalf("dry run %v disagrees with run %v", dry, want)
	}
}

func TestContinueIndependent(t *testing.T) {
	boom := errors.New("boom")
	p := NewPlan(
		Operation{ID: "fail", Priority: 9, Execute: func(context.Context, Progress) error { return boom }},
		Operation{ID: "x", Execute: noop},
		Operation{ID: "y", Dependencies: []string{"x"}, Execute: noop},
	)
	for _, tc := range []struct {
		pol  FailurePolicy
		want State
	}{{ContinueIndependent, StateSucceeded}, {StopOnFailure, StateCancelled}} {
		rep, err := mustNew(t, WithWorkers(1), WithFailurePolicy(tc.pol), WithRollback(false)).Run(context.Background(), p)
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		for _, id := range []string{"x", "y"} {
			if r, _ := rep.Result(id); r.State != tc.want {
				t.Errorf("%v: %s is %v, want %v", tc.pol, id, r.State, tc.want)
			}
		}
	}
}

func TestPanicBecomesError(t *testing.T) {
	p := NewPlan(Operation{ID: "p", Execute: func(context.Context, Progress) error { panic("kaboom") }})
	rep, err := mustNew(t).Run(context.Background(), p)
	var pe *PanicError
	if !errors.Is(err, ErrPanicked) || !errors.As(err, &pe) || pe.Value != "kaboom" || len(pe.Stack) == 0 {
		t.Fatalf("err %v", err)
	}
	if rep.Results[0].State != StateFailed {
		t.Fatal(rep.Results[0])
	}
}

func TestTimeoutPerAttempt(t *testing.T) {
	p := NewPlan(Operation{ID: "slow", Timeout: time.Millisecond, Execute: func(ctx context.Context, _ Progress) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	_, err := mustNew(t).Run(context.Background(), p)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
}

func TestCancellationMidPlan(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	holding := make(chan struct{})
	var rolled order
	p := NewPlan(
		Operation{ID: "first", Execute: noop, Rollback: func(context.Context) error { rolled.exec("first")(nil, nil); return nil }},
		Operation{ID: "running", Dependencies: []string{"first"}, Execute: func(ctx context.Context, _ Progress) error {
			close(started)
			<-ctx.Done()
			return ctx.Err()
		}},
		Operation{ID: "queued", Dependencies: []string{"running"}, Execute: noop},
		Operation{ID: "waiting", Resources: []Resource{Disk("8:0").Exclusive()}, Dependencies: []string{"first"}, Execute: noop, Priority: -1},
		Operation{ID: "holder", Resources: []Resource{Disk("8:0").Partition(1).Shared()}, Dependencies: []string{"first"}, Execute: func(ctx context.Context, _ Progress) error {
			close(holding)
			<-ctx.Done()
			return nil
		}, Rollback: func(ctx context.Context) error {
			if ctx.Err() != nil {
				return fmt.Errorf("rollback context already done: %w", ctx.Err())
			}
			rolled.exec("holder")(nil, nil)
			return nil
		}},
	)
	// Cancel once both are running: work that has not started by then
	// would be cancelled instead.
	go func() {
		<-started
		<-holding
		cancel()
	}()
	rep, err := mustNew(t, WithWorkers(4)).Run(ctx, p)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	want := map[string]State{"first": StateRolledBack, "running": StateFailed, "holder": StateRolledBack}
	// "queued" is cancelled, or skipped if "running" failed before the
	// context watcher ran: both say it never started, with a reason.
	if r, _ := rep.Result("queued"); (r.State != StateCancelled && r.State != StateSkipped) || r.Reason == "" || r.Attempts != 0 {
		t.Errorf("queued %+v", r)
	}
	for id, st := range want {
		if r, _ := rep.Result(id); r.State != st {
			t.Errorf("%s: %v, want %v", id, r.State, st)
		}
	}
	// "waiting" was blocked by "holder"'s lock when the cancel came.
	if r, _ := rep.Result("waiting"); r.State != StateCancelled || !errors.Is(r.Err, ErrCancelled) {
		t.Errorf("waiting %+v", r)
	}
	if got := rolled.get(); !slices.Equal(got, []string{"holder", "first"}) {
		t.Errorf("rolled %v", got)
	}
}

func TestProgressEvents(t *testing.T) {
	rec := &recorder{}
	p := NewPlan(Operation{ID: "copy", Kind: "copy", Execute: func(_ context.Context, pr Progress) error {
		for i := int64(1); i <= 3; i++ {
			pr(i, 3, "blocks")
		}
		return nil
	}})
	if _, err := mustNew(t, WithSubscriber(rec.add)).Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	ev := rec.ofType(EventProgress)
	if len(ev) != 3 || ev[2].Done != 3 || ev[2].Total != 3 || ev[2].Note != "blocks" || ev[2].Kind != "copy" {
		t.Fatalf("%+v", ev)
	}
	var types []EventType
	for _, e := range rec.events {
		types = append(types, e.Type)
	}
	want := []EventType{EventStarted, EventProgress, EventProgress, EventProgress, EventSucceeded}
	if !slices.Equal(types, want) {
		t.Fatalf("events %v", types)
	}
}

func TestOptionsValidated(t *testing.T) {
	for i, o := range []Option{WithWorkers(0), WithRetry(RetryPolicy{Multiplier: 0.5}), WithRetry(RetryPolicy{Jitter: 2}),
		WithFailurePolicy(0), WithRollbackTimeout(0), WithClock(nil), WithRand(nil), WithMaxBatch(0), WithLookahead(0)} {
		if _, err := New(o); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("option %d: err %v", i, err)
		}
	}
}

func TestRunWithCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran atomic.Bool
	p := NewPlan(Operation{ID: "a", Execute: func(context.Context, Progress) error { ran.Store(true); return nil }}, op("b", "a"))
	rep, err := mustNew(t).Run(ctx, p)
	if !errors.Is(err, context.Canceled) || ran.Load() || rep.Count(StateCancelled) != 2 {
		t.Fatalf("err %v ran %v %+v", err, ran.Load(), rep.Results)
	}
}

func TestRunsAreSerialized(t *testing.T) {
	s := mustNew(t)
	inside := make(chan struct{})
	release := make(chan struct{})
	first := NewPlan(Operation{ID: "hold", Execute: func(context.Context, Progress) error {
		close(inside)
		<-release
		return nil
	}})
	errc := make(chan error, 1)
	go func() {
		_, err := s.Run(context.Background(), first)
		errc <- err
	}()
	<-inside
	// A second Run waits; its context bounds the wait.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if rep, err := s.Run(ctx, NewPlan(op("x"))); err == nil || rep != nil {
		t.Fatalf("second Run did not wait for the first: %v %v", rep, err)
	}
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Run(context.Background(), NewPlan(op("x"))); err != nil {
		t.Fatal(err)
	}
}

// TestCancelBeforeDispatchedWorkStarts: an operation can be dispatched (its
// locks taken) just before ctx is cancelled and reach its worker just
// after. Cancelling stops queued work at once, so its Execute must not be
// called: it ends cancelled, never started, and the Run says cancelled even
// when it was the last operation left.
func TestCancelBeforeDispatchedWorkStarts(t *testing.T) {
	for _, tail := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		var ran atomic.Bool
		var undone atomic.Bool
		ops := []Operation{
			{ID: "a", Execute: noop, Rollback: func(context.Context) error { undone.Store(true); return nil }},
			{ID: "b", Dependencies: []string{"a"}, Execute: func(context.Context, Progress) error { ran.Store(true); return nil }},
		}
		if !tail {
			ops = append(ops, op("c", "b"))
		}
		// The subscriber sees a's Succeeded after b was dispatched and
		// before b's worker reaches it.
		sub := func(e Event) {
			if e.Type == EventSucceeded && e.ID == "a" {
				cancel()
			}
		}
		rep, err := mustNew(t, WithWorkers(1), WithSubscriber(sub)).Run(ctx, NewPlan(ops...))
		cancel()
		if ran.Load() {
			t.Errorf("tail=%v: b's Execute ran after the cancel", tail)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("tail=%v: err %v", tail, err)
		}
		if r, _ := rep.Result("b"); r.State != StateCancelled || r.Attempts != 0 || !errors.Is(r.Err, ErrCancelled) || r.Reason == "" {
			t.Errorf("tail=%v: b %+v", tail, r)
		}
		if r, _ := rep.Result("a"); r.State != StateRolledBack || !undone.Load() {
			t.Errorf("tail=%v: a %+v", tail, r)
		}
		if r, ok := rep.Result("c"); ok && r.State != StateCancelled {
			t.Errorf("tail=%v: c %+v", tail, r)
		}
	}
}

// TestStopCancelsDispatchedUnstartedWork: under StopOnFailure a unit that
// was handed to a worker before the failure, but had not called Execute,
// must not start after it: it is new work, and would only be undone again.
// The race is narrow end to end, so the test drives the run directly.
func TestStopCancelsDispatchedUnstartedWork(t *testing.T) {
	var ran atomic.Bool
	p := NewPlan(
		Operation{ID: "a", Execute: noop},
		Operation{ID: "b", Execute: func(context.Context, Progress) error { ran.Store(true); return nil }},
		op("c", "b"),
	)
	g, err := p.graph()
	if err != nil {
		t.Fatal(err)
	}
	s := mustNew(t, WithWorkers(2))
	r := newRun(context.Background(), &s.cfg, g)
	units := r.dispatch()
	if len(units) != 2 {
		t.Fatalf("dispatched %d units", len(units))
	}
	// a fails and stops the plan while b waits for its worker.
	units[0].err = errors.New("boom")
	r.complete(units[0])
	r.execute(units[1])
	r.complete(units[1])
	if ran.Load() {
		t.Fatal("b started after the plan stopped")
	}
	for id, st := range map[string]State{"a": StateFailed, "b": StateCancelled, "c": StateCancelled} {
		n := &r.nodes[slices.IndexFunc(r.nodes, func(n node) bool { return n.op.ID == id })]
		if n.res.State != st || (st == StateCancelled && (!errors.Is(n.res.Err, ErrCancelled) || n.res.Reason == "" || n.res.Attempts != 0)) {
			t.Errorf("%s: %+v, want %v", id, n.res, st)
		}
	}
	if r.remaining != 0 || r.cancelled || !r.locks.empty() {
		t.Errorf("remaining %d cancelled %v locks empty %v", r.remaining, r.cancelled, r.locks.empty())
	}
}

// TestUnconfiguredScheduler: a Scheduler not made by New (the zero value,
// or nil) is refused at once instead of hanging on its missing run lock or
// panicking on its missing logger.
func TestUnconfiguredScheduler(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range []*Scheduler{{}, nil} {
		if rep, err := s.Run(ctx, NewPlan(op("a"))); !errors.Is(err, ErrInvalidOption) || rep != nil {
			t.Errorf("Run: %v %v", rep, err)
		}
		if st, err := s.DryRun(NewPlan(op("a"))); !errors.Is(err, ErrInvalidOption) || st != nil {
			t.Errorf("DryRun: %v %v", st, err)
		}
	}
}

// TestNilReport: Run returns no Report for an invalid plan; asking it
// anything must not panic.
func TestNilReport(t *testing.T) {
	rep, err := mustNew(t).Run(context.Background(), NewPlan(op("a", "ghost")))
	if !errors.Is(err, ErrUnknownDependency) || rep != nil {
		t.Fatalf("%v %v", rep, err)
	}
	if _, ok := rep.Result("a"); ok || rep.Count(StateSucceeded) != 0 {
		t.Fatal("nil report answered")
	}
}
