package sched

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

func TestReadyQueueOrder(t *testing.T) {
	var q readyQueue
	ops := []Operation{{ID: "a", Priority: 0}, {ID: "b", Priority: 2}, {ID: "c", Priority: 0}, {ID: "d", Priority: -1}, {ID: "e", Priority: 2}}
	nodes := make([]node, len(ops))
	for i := range ops {
		nodes[i] = node{op: &ops[i], seq: uint64(i)}
		q.push(&nodes[i])
	}
	walk := func() []string {
		var ids []string
		for _, l := range q.levels {
			for n := l.head; n != nil; n = n.next {
				ids = append(ids, n.op.ID)
			}
		}
		return ids
	}
	if got := walk(); !slices.Equal(got, []string{"b", "e", "a", "c", "d"}) {
		t.Fatalf("order %v", got)
	}
	q.remove(&nodes[4]) // e: tail of its level
	q.remove(&nodes[0]) // a: head of its level
	q.remove(&nodes[3]) // d: alone in its level
	if got := walk(); !slices.Equal(got, []string{"b", "c"}) || q.Len() != 2 {
		t.Fatalf("after removals %v (len %d)", got, q.Len())
	}
	q.push(&nodes[0])
	if got := walk(); !slices.Equal(got, []string{"b", "c", "a"}) {
		t.Fatalf("re-pushed %v", got)
	}
}

// TestReadyQueueDropsEmptyLevels: a level is dropped when its last node
// leaves. Left behind, empty levels made every dispatch walk them, so a
// plan whose operations all had distinct priorities cost time quadratic in
// its size (see BenchmarkDistinctPriorities).
func TestReadyQueueDropsEmptyLevels(t *testing.T) {
	var q readyQueue
	ops := make([]Operation, 100)
	nodes := make([]node, len(ops))
	for i := range ops {
		ops[i] = Operation{ID: fmt.Sprint(i), Priority: i % 50}
		nodes[i] = node{op: &ops[i], seq: uint64(i)}
		q.push(&nodes[i])
	}
	if len(q.levels) != 50 {
		t.Fatalf("%d levels", len(q.levels))
	}
	for i := range 50 {
		q.remove(&nodes[i])
	}
	if len(q.levels) != 50 || q.below(49) != 1 || q.below(0) != 50 || q.below(math.MinInt) != 50 {
		t.Fatalf("levels %d, below(49) %d", len(q.levels), q.below(49))
	}
	for i := 50; i < 100; i += 2 {
		q.remove(&nodes[i])
	}
	if len(q.levels) != 25 || q.Len() != 25 {
		t.Fatalf("%d levels for %d nodes", len(q.levels), q.Len())
	}
	for i, l := range q.levels {
		if l.head == nil || (i > 0 && q.levels[i-1].prio <= l.prio) {
			t.Fatalf("level %d (prio %d) empty or out of order", i, l.prio)
		}
	}
	for i := 51; i < 100; i += 2 {
		q.remove(&nodes[i])
	}
	if len(q.levels) != 0 || q.Len() != 0 {
		t.Fatalf("%d levels left", len(q.levels))
	}
}
