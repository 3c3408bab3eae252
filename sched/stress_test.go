package sched

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// randomDAG builds n operations over 64 disks with up to three dependencies
// each on the previous 200, so that the plan is wide and deep at once.
func randomDAG(n int, seed uint64, add func(Operation)) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range n {
		op := Operation{ID: fmt.Sprint(i), Priority: rng.IntN(3)}
		if i > 0 {
			for range rng.IntN(4) {
				d := fmt.Sprint(i - 1 - rng.IntN(min(i, 200)))
				if !contains(op.Dependencies, d) {
					op.Dependencies = append(op.Dependencies, d)
				}
			}
		}
		k := Disk(fmt.Sprintf("8:%d", 16*rng.IntN(64)))
		switch rng.IntN(4) {
		case 0:
		case 1:
			k = k.Partition(1 + rng.IntN(4))
		default:
			k = k.Partition(1 + rng.IntN(4)).Filesystem()
		}
		mode := Shared
		if rng.IntN(3) == 0 {
			mode = Exclusive
		}
		op.Resources = []Resource{{Key: k, Mode: mode}}
		if rng.IntN(500) == 0 {
			op.Resources = append(op.Resources, Global("devicemapper").Exclusive())
		}
		add(op)
	}
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

func TestStress10000(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test in -short mode")
	}
	h := newHarness()
	h.directOrder = true
	i := 0
	randomDAG(10000, 42, func(op Operation) {
		i++
		h.add(op, behaviour{fail: i%3001 == 0, busy: map[bool]int{true: 1}[i%89 == 0], hasRollback: i%3 != 0})
	})
	s := mustNew(t, WithWorkers(8), WithFailurePolicy(ContinueIndependent), WithClock(newFakeClock()))
	rep, err := s.Run(context.Background(), NewPlan(h.ops...))
	if err == nil {
		t.Fatal("expected the injected failures")
	}
	h.verify(t, rep, err, true, false)
	t.Logf("succeeded %d failed %d skipped %d rolled back %d kept (no Rollback) %d",
		rep.Count(StateSucceeded), rep.Count(StateFailed), rep.Count(StateSkipped), rep.Count(StateRolledBack), rep.Count(StateSucceeded))
	if rep.Count(StateRolledBack) < 1000 {
		t.Fatalf("only %d rolled back", rep.Count(StateRolledBack))
	}
}
