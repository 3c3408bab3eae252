package sched

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
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
