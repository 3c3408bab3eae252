package sched

import (
	"math"
	"slices"
)

// readyQueue holds the ready operations in dispatch order: priority levels,
// highest first, each a FIFO list. Operations become ready with increasing
// sequence numbers, so appending keeps every level in the order the
// operations became ready, and dispatch can walk the queue in order without
// taking anything out of it that it then cannot start.
type readyQueue struct {
	levels []*level // by priority, highest first
	n      int
}

type level struct {
	prio       int
	head, tail *node
}

func (q *readyQueue) Len() int { return q.n }

func (q *readyQueue) push(n *node) {
	l := q.level(n.op.Priority)
	n.lvl, n.prev, n.next = l, l.tail, nil
	if l.tail != nil {
		l.tail.next = n
	} else {
		l.head = n
	}
	l.tail = n
	q.n++
}

func (q *readyQueue) remove(n *node) {
	l := n.lvl
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		l.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.lvl, n.prev, n.next = nil, nil, nil
	q.n--
	if l.head == nil {
		// An empty level is dropped at once: with many distinct
		// priorities, empty levels left behind would make every dispatch
		// walk them, and a plan quadratic in its size.
		if i := q.search(l.prio); i < len(q.levels) && q.levels[i] == l {
			q.levels = slices.Delete(q.levels, i, i+1)
		}
	}
}

func (q *readyQueue) clear() {
	q.levels = nil
	q.n = 0
}

// search returns the index of the first level whose priority is at most
// prio.
func (q *readyQueue) search(prio int) int {
	lo, hi := 0, len(q.levels)
	for lo < hi {
		m := (lo + hi) / 2
		if q.levels[m].prio > prio {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// below returns the index of the first level whose priority is lower than
// prio; dispatch uses it to move on, since levels may be dropped while it
// walks them.
func (q *readyQueue) below(prio int) int {
	if prio == math.MinInt {
		return len(q.levels)
	}
	return q.search(prio - 1)
}

func (q *readyQueue) level(prio int) *level {
	lo := q.search(prio)
	if lo < len(q.levels) && q.levels[lo].prio == prio {
		return q.levels[lo]
	}
	l := &level{prio: prio}
	q.levels = append(q.levels, nil)
	copy(q.levels[lo+1:], q.levels[lo:])
	q.levels[lo] = l
	return l
}

// before is the dispatch order: higher priority, then earlier ready.
func before(a, b *node) bool {
	if a.op.Priority != b.op.Priority {
		return a.op.Priority > b.op.Priority
	}
	return a.seq < b.seq
}
