package sched

import (
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
