package sched

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestExclusiveNotStarvedByShared: two chains of shared readers of one disk
// keep a shared claim held at every moment. An exclusive request that became
// ready with the first readers must run as soon as those two finish, not
// after both chains.
func TestExclusiveNotStarvedByShared(t *testing.T) {
	d := Disk("8:0")
	var o order
	p := NewPlan()
	for _, chain := range []string{"A", "B"} {
		for i := 1; i <= 10; i++ {
			id := fmt.Sprintf("%s%d", chain, i)
			op := Operation{ID: id, Resources: []Resource{d.Shared()}, Execute: o.exec(id)}
			if i > 1 {
				op.Dependencies = []string{fmt.Sprintf("%s%d", chain, i-1)}
			}
			p.Add(op)
		}
	}
	p.Add(Operation{ID: "X", Resources: []Resource{d.Exclusive()}, Execute: o.exec("X")})
	if _, err := mustNew(t, WithWorkers(3)).Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	got := o.get()
	if i := slices.Index(got, "X"); i != 2 {
		t.Fatalf("X started at position %d: %v", i, got)
	}
}

// TestSharedNotStarvedByExclusive is the mirror: a shared reader waits
// behind one exclusive holder, and later exclusive requests queue behind it.
func TestSharedNotStarvedByExclusive(t *testing.T) {
	d := Disk("8:0")
	var o order
	p := NewPlan(Operation{ID: "W1", Resources: []Resource{d.Exclusive()}, Execute: o.exec("W1")})
	p.Add(Operation{ID: "R", Resources: []Resource{d.Partition(1).Shared()}, Execute: o.exec("R")})
	for i := 2; i <= 5; i++ {
		p.Add(Operation{ID: fmt.Sprint("W", i), Resources: []Resource{d.Exclusive()}, Execute: o.exec(fmt.Sprint("W", i))})
	}
	if _, err := mustNew(t, WithWorkers(4)).Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got := o.get(); !slices.Equal(got[:2], []string{"W1", "R"}) {
		t.Fatalf("order %v", got)
	}
}

// TestSharedNotStarvedByExclusiveWriters is the mirror that needs the
// reservation: two chains of writers on two partitions keep an exclusive
// partition claim held at every moment, and a shared reader of the whole
// disk, ready with the first writers, conflicts with both. Each later
// writer could start on its own partition, but must queue behind the
// reader instead of overtaking it.
func TestSharedNotStarvedByExclusiveWriters(t *testing.T) {
	d := Disk("8:0")
	var o order
	p := NewPlan()
	for part := 1; part <= 2; part++ {
		for i := 1; i <= 10; i++ {
			id := fmt.Sprintf("P%d.%d", part, i)
			op := Operation{ID: id, Resources: []Resource{d.Partition(part).Exclusive()}, Execute: o.exec(id)}
			if i > 1 {
				op.Dependencies = []string{fmt.Sprintf("P%d.%d", part, i-1)}
			}
			p.Add(op)
		}
	}
	p.Add(Operation{ID: "R", Resources: []Resource{d.Shared()}, Execute: o.exec("R")})
	if _, err := mustNew(t, WithWorkers(3)).Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	got := o.get()
	if i := slices.Index(got, "R"); i != 2 {
		t.Fatalf("R started at position %d: %v", i, got)
	}
}

// overlapCheck tracks which claims are held by running executions and
// records any conflict between two of them.
type overlapCheck struct {
	mu       sync.Mutex
	active   map[string][]Resource
	conflict []string
	maxConc  int
}

func (c *overlapCheck) enter(id string, rs []Resource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active == nil {
		c.active = map[string][]Resource{}
	}
	for other, ors := range c.active {
		for _, a := range rs {
			for _, b := range ors {
				if a.Conflicts(b) {
					c.conflict = append(c.conflict, fmt.Sprintf("%s(%v) overlapped %s(%v)", id, a, other, b))
				}
			}
		}
	}
	c.active[id] = rs
	c.maxConc = max(c.maxConc, len(c.active))
}

func (c *overlapCheck) leave(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.active, id)
}

func TestOneExclusiveResourceNeverOverlaps(t *testing.T) {
	var c overlapCheck
	res := []Resource{Global("devicemapper").Exclusive()}
	p := NewPlan()
	for i := range 64 {
		id := fmt.Sprint(i)
		p.Add(Operation{ID: id, Resources: res, Execute: func(context.Context, Progress) error {
			c.enter(id, res)
			defer c.leave(id)
			time.Sleep(100 * time.Microsecond) // give an overlap the chance to show
			return nil
		}})
	}
	if _, err := mustNew(t, WithWorkers(8)).Run(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if len(c.conflict) > 0 || c.maxConc != 1 {
		t.Fatalf("max concurrency %d, conflicts %v", c.maxConc, c.conflict)
	}
}

// TestPartitionsRunInParallel proves independent partitions of one disk do
// run together: eight operations that each wait for all eight to arrive
// can only finish if all eight hold their locks at the same time.
func TestPartitionsRunInParallel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var arrived atomic.Int32
	all := make(chan struct{})
	p := NewPlan()
	for i := range 8 {
		p.Add(Operation{ID: fmt.Sprint(i), Resources: []Resource{Disk("8:0").Partition(i + 1).Filesystem().Exclusive()},
			Execute: func(ctx context.Context, _ Progress) error {
				if arrived.Add(1) == 8 {
					close(all)
				}
				select {
				case <-all:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}})
	}
	if _, err := mustNew(t, WithWorkers(8)).Run(ctx, p); err != nil {
		t.Fatal(err)
	}
}
