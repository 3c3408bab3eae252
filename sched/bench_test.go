package sched

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkOverhead10000 runs a 10,000-operation DAG of no-ops and reports
// the scheduling cost per operation, against calling the same functions
// directly in plan order (the anchor: zero scheduling).
func BenchmarkOverhead10000(b *testing.B) {
	const n = 10000
	var ops []Operation
	randomDAG(n, 7, func(op Operation) {
		op.Execute = noop
		ops = append(ops, op)
	})
	p := NewPlan(ops...)
	s := mustNew(b, WithWorkers(8))

	direct := time.Now()
	for range 10 {
		for i := range ops {
			_ = ops[i].Execute(context.Background(), nil)
		}
	}
	perDirect := float64(time.Since(direct).Nanoseconds()) / (10 * n)

	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Run(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N*n)
	b.ReportMetric(perOp, "ns/operation")
	// CPU time per operation (all threads, GC included) stays meaningful
	// when other processes crowd the machine and stretch wall time.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/operation")
	b.ReportMetric(perOp/max(perDirect, 1e-3), "x_vs_direct")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sleepPlan is 64 independent operations that each block for 10 ms, on
// their own disks or all on one exclusive resource.
func sleepPlan(oneResource bool, c *overlapCheck) *Plan {
	p := NewPlan()
	for i := range 64 {
		id := fmt.Sprint(i)
		res := []Resource{Disk(fmt.Sprintf("8:%d", 16*i)).Exclusive()}
		if oneResource {
			res = []Resource{Global("devicemapper").Exclusive()}
		}
		p.Add(Operation{ID: id, Resources: res, Execute: func(context.Context, Progress) error {
			c.enter(id, res)
			defer c.leave(id)
			time.Sleep(10 * time.Millisecond)
			return nil
		}})
	}
	return p
}

var serialOnce sync.Once
var serialNanos float64

// serial is the anchor: the same 64 blocking calls one after another.
func serial() float64 {
	serialOnce.Do(func() {
		start := time.Now()
		for range 64 {
			time.Sleep(10 * time.Millisecond)
		}
		serialNanos = float64(time.Since(start).Nanoseconds())
	})
	return serialNanos
}

func benchSpeedup(b *testing.B, oneResource bool) {
	anchor := serial()
	var c overlapCheck
	p := sleepPlan(oneResource, &c)
	s := mustNew(b, WithWorkers(8))
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Run(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	perRun := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(anchor/perRun, "x_speedup_vs_serial")
	b.ReportMetric(float64(c.maxConc), "max_concurrent")
	if len(c.conflict) > 0 {
		b.Fatalf("conflicting operations overlapped: %v", c.conflict[0])
	}
}

// BenchmarkParallel64 aims at a speedup of at least 6x with 8 workers.
func BenchmarkParallel64(b *testing.B) { benchSpeedup(b, false) }

// BenchmarkOneExclusive64 must show no speedup (about 1x) and at most one
// operation running at a time.
func BenchmarkOneExclusive64(b *testing.B) { benchSpeedup(b, true) }

// BenchmarkDistinctPriorities runs the 10,000-operation DAG of
// BenchmarkOverhead10000 with every operation at its own priority, and
// reports the cost against the same DAG at one priority, timed in
// alternation in the same run. The ratio stays near 1 only while empty
// priority levels are dropped from the ready queue.
func BenchmarkDistinctPriorities(b *testing.B) {
	const n = 10000
	var one, distinct []Operation
	randomDAG(n, 7, func(op Operation) {
		op.Execute = noop
		op.Priority = 0
		one = append(one, op)
		op.Priority = len(distinct)
		distinct = append(distinct, op)
	})
	pOne, pDistinct := NewPlan(one...), NewPlan(distinct...)
	s := mustNew(b, WithWorkers(8))
	var tOne, tDistinct time.Duration
	run := func(p *Plan) time.Duration {
		start := time.Now()
		if _, err := s.Run(context.Background(), p); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	b.ResetTimer()
	for b.Loop() {
		tDistinct += run(pDistinct)
		b.StopTimer()
		tOne += run(pOne)
		b.StartTimer()
	}
	b.ReportMetric(float64(tDistinct.Nanoseconds())/float64(b.N*n), "ns/operation")
	b.ReportMetric(float64(tDistinct)/float64(max(tOne, 1)), "x_vs_one_priority")
}
