package sched

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoggerGetsEvents(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	boom := errors.New("boom")
	p := NewPlan(
		Operation{ID: "ok", Kind: "mkfs", Execute: noop, Rollback: func(context.Context) error { return nil }},
		Operation{ID: "bad", Kind: "resize", Dependencies: []string{"ok"}, Execute: func(context.Context, Progress) error { return boom }},
		Operation{ID: "dep", Dependencies: []string{"bad"}, Execute: noop},
	)
	if _, err := mustNew(t, WithLogger(log), WithWorkers(1)).Run(context.Background(), p); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	type line struct {
		Level, Msg, Op, Kind, Err, Reason string
	}
	var got []line
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var l line
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		got = append(got, l)
	}
	want := []string{
		"DEBUG sched: started ok",
		"INFO sched: succeeded ok",
		"DEBUG sched: started bad",
		"ERROR sched: failed bad",
		"WARN sched: skipped dep",
		"DEBUG sched: rolling back ok",
		"INFO sched: rolled back ok",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d lines: %+v", len(got), got)
	}
	for i, l := range got {
		if s := fmt.Sprintf("%s %s %s", l.Level, l.Msg, l.Op); s != want[i] {
			t.Errorf("line %d: %q, want %q", i, s, want[i])
		}
	}
	if got[3].Err == "" || got[3].Kind != "resize" || got[4].Reason == "" {
		t.Errorf("attributes missing: %+v %+v", got[3], got[4])
	}
}

// TestEventsInDependencyOrder: a subscriber never sees an operation start
// before the Succeeded event of everything it depends on.
func TestEventsInDependencyOrder(t *testing.T) {
	var ops []Operation
	randomDAG(500, 3, func(op Operation) {
		op.Execute = noop
		ops = append(ops, op)
	})
	deps := map[string][]string{}
	for _, op := range ops {
		deps[op.ID] = op.Dependencies
	}
	done := map[string]bool{}
	var bad []string
	sub := func(e Event) { // serialized by the scheduler
		switch e.Type {
		case EventSucceeded:
			done[e.ID] = true
		case EventStarted:
			for _, d := range deps[e.ID] {
				if !done[d] {
					bad = append(bad, e.ID+" before "+d)
				}
			}
		}
	}
	if _, err := mustNew(t, WithWorkers(8), WithSubscriber(sub)).Run(context.Background(), NewPlan(ops...)); err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("%d out of order, first %s", len(bad), bad[0])
	}
}

func TestNamesOfEnums(t *testing.T) {
	for _, s := range []fmt.Stringer{EventStarted, EventRollbackFailed, EventType(99), StateRolledBack, State(0), Shared, Exclusive, Mode(7), StopOnFailure, FailurePolicy(9)} {
		if s.String() == "" {
			t.Errorf("%#v has no name", s)
		}
	}
}

// TestSubscriberPanicDoesNotAbortThePlan: a subscriber that panics on
// every event must not kill the worker goroutine (which would take the
// process down with locks held and nothing rolled back) nor cut the
// rollback short; the logger still gets every event and the panic.
func TestSubscriberPanicDoesNotAbortThePlan(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	boom := errors.New("boom")
	var undone order
	undo := func(id string) func(context.Context) error {
		return func(context.Context) error { undone.exec(id)(nil, nil); return nil }
	}
	p := NewPlan(
		Operation{ID: "a", Execute: noop, Rollback: undo("a")},
		Operation{ID: "b", Dependencies: []string{"a"}, Execute: noop, Rollback: undo("b")},
		Operation{ID: "c", Dependencies: []string{"b"}, Execute: func(context.Context, Progress) error { return boom }},
	)
	sub := func(e Event) { panic("subscriber bug on " + e.Type.String()) }
	rep, err := mustNew(t, WithSubscriber(sub), WithLogger(log), WithWorkers(2)).Run(context.Background(), p)
	if !errors.Is(err, boom) || errors.Is(err, ErrPanicked) {
		t.Fatalf("err %v", err)
	}
	if got := undone.get(); !slices.Equal(got, []string{"b", "a"}) {
		t.Fatalf("rolled back %v", got)
	}
	for id, st := range map[string]State{"a": StateRolledBack, "b": StateRolledBack, "c": StateFailed} {
		if r, _ := rep.Result(id); r.State != st {
			t.Errorf("%s: %v want %v", id, r.State, st)
		}
	}
	out := buf.String()
	for _, s := range []string{`"msg":"sched: rolled back","op":"a"`, "subscriber bug on rolled back", "sched: event subscriber panicked"} {
		if !strings.Contains(out, s) {
			t.Errorf("log lacks %q", s)
		}
	}
}

// TestPanickingLoggerDoesNotAbortThePlan: the same for a slog handler that
// panics, with the subscriber still served.
func TestPanickingLoggerDoesNotAbortThePlan(t *testing.T) {
	rec := &recorder{}
	p := NewPlan(op("a"), op("b", "a"))
	rep, err := mustNew(t, WithSubscriber(rec.add), WithLogger(slog.New(panicHandler{}))).Run(context.Background(), p)
	if err != nil || rep.Count(StateSucceeded) != 2 {
		t.Fatalf("err %v %+v", err, rep.Results)
	}
	if got := rec.ids(EventSucceeded); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("subscriber saw %v", got)
	}
}

type panicHandler struct{}

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("handler bug") }
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h panicHandler) WithGroup(string) slog.Handler           { return h }

// gateClock blocks the first Now after arm until open is closed, to hold a
// goroutine at a chosen point inside the scheduler.
type gateClock struct {
	armed   atomic.Bool
	holding chan struct{}
	open    chan struct{}
}

func (c *gateClock) Now() time.Time {
	if c.armed.CompareAndSwap(true, false) {
		close(c.holding)
		<-c.open
	}
	return time.Now()
}

func (c *gateClock) Sleep(ctx context.Context, d time.Duration) error {
	return realClock{}.Sleep(ctx, d)
}

// TestNoProgressAfterTerminalEvent: a goroutine the operation left behind
// reports progress, passes the "still running" check and is held there
// while the operation returns and its Succeeded event is delivered. Its
// report must be dropped, not delivered after Succeeded.
func TestNoProgressAfterTerminalEvent(t *testing.T) {
	clk := &gateClock{holding: make(chan struct{}), open: make(chan struct{})}
	leftover := make(chan struct{})
	var events []EventType
	sub := func(e Event) { // serialized by the scheduler
		events = append(events, e.Type)
		if e.Type == EventSucceeded {
			close(clk.open)
		}
	}
	p := NewPlan(Operation{ID: "a", Execute: func(_ context.Context, pr Progress) error {
		go func() {
			defer close(leftover)
			clk.armed.Store(true)
			pr(1, 1, "late")
		}()
		<-clk.holding
		return nil
	}})
	if _, err := mustNew(t, WithClock(clk), WithSubscriber(sub)).Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	<-leftover
	if want := []EventType{EventStarted, EventSucceeded}; !slices.Equal(events, want) {
		t.Fatalf("events %v, want %v", events, want)
	}
}
