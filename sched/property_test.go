package sched

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// behaviour is how one generated operation behaves.
type behaviour struct {
	fail         bool // Execute always fails
	busy         int  // Execute returns EBUSY this many times first
	hasRollback  bool
	rollbackFail bool
}

// harness instruments every Execute and Rollback of a generated plan and
// checks the scheduler's promises against what actually happened.
type harness struct {
	ops   []Operation
	beh   map[string]behaviour
	deps  map[string][]string
	check overlapCheck

	mu         sync.Mutex
	execs      map[string]int
	succeeded  map[string]bool
	violations []string
	rollbacks  []string
	total      int
	cancelAt   int // cancel the run's context at this Execute call (0: never)
	cancel     context.CancelFunc
	// directOrder limits the rollback order check to direct dependencies,
	// which keeps verifying a 10,000-operation run linear.
	directOrder bool
	// linger keeps each execution inside its locks for a moment, so that
	// two executions the scheduler wrongly lets overlap do overlap in
	// time, where the overlap check can see them; without it no-op bodies
	// finish too fast for a broken lock table to show.
	linger time.Duration

	// span records, per operation, its resources (a batch's union for a
	// member) and when its last execution entered and left its locks, on
	// one counter, to check the rollback order of independent operations
	// that conflict.
	clock int
	span  map[string]span
}

type span struct {
	res         []Resource
	enter, left int
}

// tick returns the next value of the harness's counter.
func (h *harness) tick() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clock++
	return h.clock
}

func (h *harness) record(ids []string, res []Resource, enter, left int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.span == nil {
		h.span = map[string]span{}
	}
	for _, id := range ids {
		h.span[id] = span{res: res, enter: enter, left: left}
	}
}

func (h *harness) hold() {
	if h.linger > 0 {
		time.Sleep(h.linger)
	}
}

var errInjected = errors.New("injected failure")

func newHarness() *harness {
	return &harness{beh: map[string]behaviour{}, deps: map[string][]string{}, execs: map[string]int{}, succeeded: map[string]bool{}}
}

// body is an operation's work without the overlap bookkeeping, so that a
// merged batch can run its members' bodies under one set of locks.
func (h *harness) body(id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, d := range h.deps[id] {
		if !h.succeeded[d] {
			h.violations = append(h.violations, fmt.Sprintf("%s started before dependency %s succeeded", id, d))
		}
	}
	h.execs[id]++
	h.total++
	if h.total == h.cancelAt {
		h.cancel()
	}
	b := h.beh[id]
	switch {
	case b.fail:
		return fmt.Errorf("%s: %w", id, errInjected)
	case h.execs[id] <= b.busy:
		return fmt.Errorf("%s: %w", id, syscall.EBUSY)
	}
	h.succeeded[id] = true
	return nil
}

func (h *harness) add(op Operation, b behaviour) {
	id := op.ID
	h.beh[id] = b
	h.deps[id] = op.Dependencies
	res := op.Resources
	op.Execute = func(context.Context, Progress) error {
		h.check.enter(id, res)
		defer h.check.leave(id)
		enter := h.tick()
		defer func() { h.record([]string{id}, res, enter, h.tick()) }()
		h.hold()
		return h.body(id)
	}
	if b.hasRollback {
		op.Rollback = func(context.Context) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.rollbacks = append(h.rollbacks, id)
			if b.rollbackFail {
				return fmt.Errorf("undo %s: %w", id, errInjected)
			}
			return nil
		}
	}
	h.ops = append(h.ops, op)
}

func (h *harness) merge(key string, ops []Operation) (Operation, error) {
	var all []Resource
	ids := make([]string, len(ops))
	for i, o := range ops {
		all = append(all, o.Resources...)
		ids[i] = o.ID
	}
	name := "batch[" + strings.Join(ids, ",") + "]"
	return Operation{Execute: func(context.Context, Progress) error {
		h.check.enter(name, all)
		defer h.check.leave(name)
		enter := h.tick()
		defer func() { h.record(ids, all, enter, h.tick()) }()
		h.hold()
		var errs []error
		for _, id := range ids {
			errs = append(errs, h.body(id))
		}
		return errors.Join(errs...)
	}}, nil
}

// verify checks the report against the recorded execution.
// tb is what verify needs from *testing.T and *rapid.T alike.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Error(args ...any)
}

func (h *harness) verify(t tb, rep *Report, err error, rollback, cancelTriggered bool) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, v := range h.violations {
		t.Error(v)
	}
	for _, c := range h.check.conflict {
		t.Error(c)
	}
	state := map[string]State{}
	for _, r := range rep.Results {
		state[r.ID] = r.State
	}
	anyFailed := false
	for _, r := range rep.Results {
		execs := h.execs[r.ID]
		switch r.State {
		case StateSucceeded, StateRolledBack, StateRollbackFailed:
			if !h.succeeded[r.ID] || execs != r.Attempts || execs < 1 {
				t.Errorf("%s %v: succeeded=%v execs=%d attempts=%d", r.ID, r.State, h.succeeded[r.ID], execs, r.Attempts)
			}
		case StateFailed:
			anyFailed = true
			if execs != r.Attempts || execs < 1 || r.Err == nil || !errors.Is(err, r.Err) && !errors.Is(err, errors.Unwrap(r.Err)) {
				t.Errorf("%s failed: execs=%d attempts=%d err=%v", r.ID, execs, r.Attempts, r.Err)
			}
		case StateSkipped:
			blocked := false
			for _, d := range h.deps[r.ID] {
				if s := state[d]; s == StateFailed || s == StateSkipped || s == StateCancelled {
					blocked = true
				}
			}
			if execs != 0 || r.Attempts != 0 || r.Reason == "" || !errors.Is(r.Err, ErrSkipped) || !blocked {
				t.Errorf("%s skipped: execs=%d reason=%q err=%v blocked=%v", r.ID, execs, r.Reason, r.Err, blocked)
			}
		case StateCancelled:
			if execs != 0 || r.Reason == "" || !errors.Is(r.Err, ErrCancelled) {
				t.Errorf("%s cancelled: execs=%d reason=%q", r.ID, execs, r.Reason)
			}
		default:
			t.Errorf("%s: no final state (%v)", r.ID, r.State)
		}
	}
	// A cancel that lands when nothing is left to start cancels nothing.
	cancelled := errors.Is(err, context.Canceled)
	if cancelled && !cancelTriggered {
		t.Errorf("cancelled without a cancel: %v", err)
	}
	if (err == nil) != !(anyFailed || cancelled) {
		t.Errorf("err %v but anyFailed=%v cancelled=%v", err, anyFailed, cancelled)
	}
	if !anyFailed && !cancelled && rep.Count(StateCancelled) > 0 {
		t.Errorf("cancelled operations without a failure or cancel")
	}
	// Rollbacks: exactly the completed ones with a Rollback, once each,
	// dependents before dependencies; kept ones only under a failed undo.
	pos := map[string]int{}
	for i, id := range h.rollbacks {
		if _, dup := pos[id]; dup {
			t.Errorf("%s rolled back twice", id)
		}
		pos[id] = i
	}
	doRollback := (anyFailed || cancelled) && rollback
	for _, r := range rep.Results {
		_, rolled := pos[r.ID]
		// A batch member whose own body succeeded in a failed batch did
		// not complete: the batch's outcome is its outcome.
		completed := r.State == StateSucceeded || r.State == StateRolledBack || r.State == StateRollbackFailed
		b := h.beh[r.ID]
		switch {
		case !doRollback || !completed || !b.hasRollback:
			if rolled {
				t.Errorf("%s rolled back (doRollback=%v completed=%v)", r.ID, doRollback, completed)
			}
		case rolled:
			want := StateRolledBack
			if b.rollbackFail {
				want = StateRollbackFailed
			}
			if r.State != want {
				t.Errorf("%s: %v after rollback, want %v", r.ID, r.State, want)
			}
			if b.rollbackFail && !errors.Is(r.RollbackErr, errInjected) {
				t.Errorf("%s: rollback err %v", r.ID, r.RollbackErr)
			}
		default:
			if r.State != StateSucceeded || !strings.HasPrefix(r.Reason, "kept") || !h.dependentUndoFailed(r.ID, state) {
				t.Errorf("%s completed but not rolled back: %+v", r.ID, r)
			}
		}
	}
	// An operation whose dependent's undo failed is kept, never undone
	// underneath it.
	for b, s := range state {
		if s != StateRollbackFailed {
			continue
		}
		for a := range pos {
			if h.dependsOn(b, a) {
				t.Errorf("%s rolled back under %s, whose rollback failed", a, b)
			}
		}
	}
	// Members of a batch undo themselves in reverse batch order.
	for _, r := range rep.Results {
		for i := 1; i < len(r.Batch); i++ {
			pa, oka := pos[r.Batch[i-1]]
			pb, okb := pos[r.Batch[i]]
			if oka && okb && pb > pa {
				t.Errorf("batch %v: %s undone before %s", r.Batch, r.Batch[i-1], r.Batch[i])
			}
		}
	}
	if h.directOrder {
		// Large runs check direct dependencies only, in linear time.
		for b, pb := range pos {
			for _, a := range h.deps[b] {
				if pa, ok := pos[a]; ok && pb > pa {
					t.Errorf("%s depends on %s but was rolled back after it", b, a)
				}
			}
		}
		return
	}
	// Reverse order of completion also holds between independent
	// operations that conflict: the later change is undone first.
	for a, pa := range pos {
		for b, pb := range pos {
			sa, sb := h.span[a], h.span[b]
			if sa.left < sb.enter && pb > pa && conflictAny(sa.res, sb.res) {
				t.Errorf("%s ran after %s on a conflicting resource but was rolled back after it", b, a)
			}
		}
	}
	for a, pa := range pos {
		for b, pb := range pos {
			if h.dependsOn(b, a) && pb > pa {
				t.Errorf("%s depends on %s but was rolled back after it", b, a)
			}
		}
	}
}

func conflictAny(a, b []Resource) bool {
	for _, x := range a {
		for _, y := range b {
			if x.Conflicts(y) {
				return true
			}
		}
	}
	return false
}

func (h *harness) dependsOn(a, b string) bool {
	seen := map[string]bool{}
	stack := slices.Clone(h.deps[a])
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x == b {
			return true
		}
		if !seen[x] {
			seen[x] = true
			stack = append(stack, h.deps[x]...)
		}
	}
	return false
}

func (h *harness) dependentUndoFailed(id string, state map[string]State) bool {
	for other, s := range state {
		if s == StateRollbackFailed && h.dependsOn(other, id) {
			return true
		}
	}
	return false
}

var propKeys = []Key{
	Disk("8:0"), Disk("8:0").Partition(1), Disk("8:0").Partition(2), Disk("8:0").Partition(1).Filesystem(),
	Disk("8:16"), VG("vg0"), VG("vg0").LV("a"), Global("devicemapper"),
}

func TestPropertyRandomPlans(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		h := newHarness()
		h.linger = 50 * time.Microsecond
		n := rapid.IntRange(1, 20).Draw(rt, "n")
		batching := rapid.Bool().Draw(rt, "batching")
		for i := range n {
			id := fmt.Sprintf("op%d", i)
			op := Operation{ID: id, Priority: rapid.IntRange(-3, 3).Draw(rt, "prio")}
			if i > 0 {
				for range rapid.IntRange(0, min(i, 3)).Draw(rt, "ndeps") {
					d := fmt.Sprintf("op%d", rapid.IntRange(0, i-1).Draw(rt, "dep"))
					if !slices.Contains(op.Dependencies, d) {
						op.Dependencies = append(op.Dependencies, d)
					}
				}
			}
			for range rapid.IntRange(0, 2).Draw(rt, "nres") {
				k := rapid.SampledFrom(propKeys).Draw(rt, "key")
				m := rapid.SampledFrom([]Mode{Shared, Exclusive}).Draw(rt, "mode")
				op.Resources = append(op.Resources, Resource{Key: k, Mode: m})
			}
			if batching && rapid.IntRange(0, 2).Draw(rt, "batch") == 0 {
				op.BatchKey = rapid.SampledFrom([]string{"t1", "t2"}).Draw(rt, "batchkey")
			}
			roll := rapid.IntRange(0, 9).Draw(rt, "fate")
			b := behaviour{
				fail:         roll == 0,
				busy:         map[bool]int{true: 1 + roll%2}[roll >= 8],
				hasRollback:  rapid.IntRange(0, 4).Draw(rt, "hasrb") > 0,
				rollbackFail: rapid.IntRange(0, 9).Draw(rt, "rbfail") == 0,
			}
			h.add(op, b)
		}
		opts := []Option{
			WithWorkers(rapid.IntRange(1, 4).Draw(rt, "workers")),
			WithFailurePolicy(rapid.SampledFrom([]FailurePolicy{StopOnFailure, ContinueIndependent}).Draw(rt, "policy")),
			WithClock(newFakeClock()),
			WithRetry(RetryPolicy{MaxAttempts: 3}),
			WithLookahead(rapid.IntRange(1, 8).Draw(rt, "lookahead")),
		}
		rollback := rapid.Bool().Draw(rt, "rollback")
		opts = append(opts, WithRollback(rollback))
		if batching {
			opts = append(opts, WithMerge(h.merge))
		}
		s, err := New(opts...)
		if err != nil {
			rt.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		h.cancel = cancel
		if rapid.IntRange(0, 3).Draw(rt, "cancel?") == 0 {
			h.cancelAt = rapid.IntRange(1, n).Draw(rt, "cancelAt")
		}
		rep, err := s.Run(ctx, NewPlan(h.ops...))
		if rep == nil {
			rt.Fatalf("no report: %v", err)
		}
		h.verify(rt, rep, err, rollback, h.total >= h.cancelAt && h.cancelAt > 0)
	})
}
