package sched

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
)

// partitionEdits returns n edits of one disk's table, each exclusive on the
// disk, batched by the disk, and a merge that records what it merged.
func partitionEdits(n int) (*Plan, *[][]string, MergeFunc) {
	var mu sync.Mutex
	var merged [][]string
	d := Disk("8:0")
	p := NewPlan()
	for i := range n {
		p.Add(Operation{
			ID:        "edit" + string(rune('a'+i)),
			Kind:      "partition.add",
			Resources: []Resource{d.Exclusive()},
			BatchKey:  d.String(),
			Execute:   noop,
		})
	}
	merge := func(key string, ops []Operation) (Operation, error) {
		ids := make([]string, len(ops))
		for i, o := range ops {
			ids[i] = o.ID
		}
		mu.Lock()
		merged = append(merged, ids)
		mu.Unlock()
		return Operation{Execute: func(ctx context.Context, p Progress) error {
			for _, o := range ops {
				if err := o.Execute(ctx, p); err != nil {
					return err
				}
			}
			return nil
		}}, nil
	}
	return p, &merged, merge
}

func TestBatchingMergesReadyOps(t *testing.T) {
	p, merged, merge := partitionEdits(4)
	p.Add(Operation{ID: "other", BatchKey: "elsewhere", Execute: noop})
	rep, err := mustNew(t, WithWorkers(2), WithMerge(merge)).Run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"edita", "editb", "editc", "editd"}
	if len(*merged) != 1 || !slices.Equal((*merged)[0], want) {
		t.Fatalf("merged %v", *merged)
	}
	for _, id := range want {
		r, _ := rep.Result(id)
		if r.State != StateSucceeded || !slices.Equal(r.Batch, want) || r.Attempts != 1 {
			t.Errorf("%s: %+v", id, r)
		}
	}
	if r, _ := rep.Result("other"); r.Batch != nil {
		t.Errorf("lone op has batch %v", r.Batch)
	}
}

func TestBatchingMaxBatch(t *testing.T) {
	p, merged, merge := partitionEdits(5)
	if _, err := mustNew(t, WithWorkers(1), WithMerge(merge), WithMaxBatch(2)).Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	// The fifth edit is alone: a batch of one is not merged.
	want := [][]string{{"edita", "editb"}, {"editc", "editd"}}
	if !slices.EqualFunc(*merged, want, slices.Equal) {
		t.Fatalf("merged %v", *merged)
	}
}

func TestBatchingOnlyReadyTogether(t *testing.T) {
	p, merged, merge := partitionEdits(3)
	// editc waits for a dependency that finishes after the first batch.
	ops := p.Operations()
	ops[2].Dependencies = []string{"edita"}
	p = NewPlan(ops...)
	if _, err := mustNew(t, WithWorkers(1), WithMerge(merge)).Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"edita", "editb"}}; !slices.EqualFunc(*merged, want, slices.Equal) {
		t.Fatalf("merged %v", *merged)
	}
	stages, err := mustNew(t, WithWorkers(1), WithMerge(merge)).DryRun(p)
	if err != nil || len(stages) != 2 || !slices.Equal(stages[0].Units[0], []string{"edita", "editb"}) {
		t.Fatalf("dry run %+v %v", stages, err)
	}
}

func TestBatchFailureAndRollback(t *testing.T) {
	boom := errors.New("table write failed")
	d := Disk("8:0")
	var undone []string
	var mu sync.Mutex
	undo := func(id string) func(context.Context) error {
		return func(context.Context) error {
			mu.Lock()
			undone = append(undone, id)
			mu.Unlock()
			return nil
		}
	}
	p := NewPlan(
		Operation{ID: "a", BatchKey: "t", Resources: []Resource{d.Exclusive()}, Execute: noop, Rollback: undo("a")},
		Operation{ID: "b", BatchKey: "t", Resources: []Resource{d.Exclusive()}, Execute: noop, Rollback: undo("b")},
		Operation{ID: "later", Dependencies: []string{"a"}, Execute: func(context.Context, Progress) error { return boom }},
	)
	merge := func(_ string, ops []Operation) (Operation, error) {
		return Operation{Execute: noop}, nil // no merged Rollback: members undo themselves
	}
	rep, err := mustNew(t, WithWorkers(1), WithMerge(merge)).Run(context.Background(), p)
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if !slices.Equal(undone, []string{"b", "a"}) {
		t.Fatalf("undone %v", undone)
	}
	for _, id := range []string{"a", "b"} {
		if r, _ := rep.Result(id); r.State != StateRolledBack {
			t.Errorf("%s %+v", id, r)
		}
	}

	// A failing merged execution fails every member and skips dependents.
	failMerge := func(_ string, ops []Operation) (Operation, error) {
		return Operation{Execute: func(context.Context, Progress) error { return boom }}, nil
	}
	p2 := NewPlan(p.ops[0], p.ops[1], Operation{ID: "dep", Dependencies: []string{"b"}, Execute: noop})
	rep, err = mustNew(t, WithMerge(failMerge)).Run(context.Background(), p2)
	var oe *OpError
	if !errors.As(err, &oe) || !slices.Equal(oe.Batch, []string{"a", "b"}) {
		t.Fatalf("err %v", err)
	}
	for id, st := range map[string]State{"a": StateFailed, "b": StateFailed, "dep": StateSkipped} {
		if r, _ := rep.Result(id); r.State != st {
			t.Errorf("%s: %v want %v", id, r.State, st)
		}
	}

	// A merge function that errors or panics fails the batch, not the process.
	for _, bad := range []MergeFunc{
		func(string, []Operation) (Operation, error) { return Operation{}, boom },
		func(string, []Operation) (Operation, error) { panic("merge bug") },
		func(string, []Operation) (Operation, error) { return Operation{}, nil },
	} {
		rep, err := mustNew(t, WithMerge(bad)).Run(context.Background(), NewPlan(p.ops[0], p.ops[1]))
		if err == nil || rep.Count(StateFailed) != 2 {
			t.Errorf("bad merge: %v %+v", err, rep.Results)
		}
	}
}
