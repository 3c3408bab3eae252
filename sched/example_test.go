package sched_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// A plan that partitions a disk, then makes a filesystem on each new
// partition in parallel and mounts one of them.
func Example() {
	disk := sched.Disk("8:0")
	// Real operations would call the partition and filesystem packages.
	step := func(context.Context, sched.Progress) error { return nil }
	plan := sched.NewPlan(
		sched.Operation{ID: "table", Kind: "partition.write", Resources: []sched.Resource{disk.Exclusive()}, Execute: step},
		sched.Operation{ID: "mkfs1", Kind: "mkfs", Dependencies: []string{"table"},
			Resources: []sched.Resource{disk.Partition(1).Exclusive()}, Execute: step},
		sched.Operation{ID: "mkfs2", Kind: "mkfs", Dependencies: []string{"table"},
			Resources: []sched.Resource{disk.Partition(2).Exclusive()}, Execute: step},
		sched.Operation{ID: "mount1", Kind: "mount", Dependencies: []string{"mkfs1"},
			Resources: []sched.Resource{disk.Partition(1).Filesystem().Shared()}, Execute: step},
	)
	s, err := sched.New(sched.WithWorkers(4))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := s.Run(context.Background(), plan)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range rep.Results {
		fmt.Println(r.ID, r.State)
	}
	// Output:
	// table succeeded
	// mkfs1 succeeded
	// mkfs2 succeeded
	// mount1 succeeded
}

// A failed step skips what depends on it and rolls back what was done; the
// error keeps both the failure and any rollback failure.
func Example_rollback() {
	errNoSpace := errors.New("no space left")
	plan := sched.NewPlan(
		sched.Operation{ID: "lv", Execute: func(context.Context, sched.Progress) error { return nil },
			Rollback: func(context.Context) error { fmt.Println("removing lv"); return nil }},
		sched.Operation{ID: "mkfs", Dependencies: []string{"lv"},
			Execute: func(context.Context, sched.Progress) error { return errNoSpace }},
		sched.Operation{ID: "mount", Dependencies: []string{"mkfs"},
			Execute: func(context.Context, sched.Progress) error { return nil }},
	)
	s, _ := sched.New()
	rep, err := s.Run(context.Background(), plan)
	fmt.Println(errors.Is(err, errNoSpace))
	for _, r := range rep.Results {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s: %s %s", r.ID, r.State, r.Reason)))
	}
	// Output:
	// removing lv
	// true
	// lv: rolled back
	// mkfs: failed
	// mount: skipped dependency "mkfs" failed
}

func ExamplePlan_Validate() {
	noop := func(context.Context, sched.Progress) error { return nil }
	plan := sched.NewPlan(
		sched.Operation{ID: "a", Dependencies: []string{"b"}, Execute: noop},
		sched.Operation{ID: "b", Dependencies: []string{"a", "ghost"}, Execute: noop},
	)
	err := plan.Validate()
	fmt.Println(errors.Is(err, sched.ErrCycle), errors.Is(err, sched.ErrUnknownDependency))
	var ve *sched.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Cycles)
	}
	// Output:
	// true true
	// [[a b]]
}

func ExampleScheduler_DryRun() {
	noop := func(context.Context, sched.Progress) error { return nil }
	d := sched.Disk("259:0")
	plan := sched.NewPlan(
		sched.Operation{ID: "grow-p1", Resources: []sched.Resource{d.Partition(1).Exclusive()}, Execute: noop},
		sched.Operation{ID: "grow-p2", Resources: []sched.Resource{d.Partition(2).Exclusive()}, Execute: noop},
		sched.Operation{ID: "dm-table", Resources: []sched.Resource{sched.Global("devicemapper").Exclusive()}, Execute: noop},
		sched.Operation{ID: "dm-table2", Resources: []sched.Resource{sched.Global("devicemapper").Exclusive()}, Execute: noop},
	)
	s, _ := sched.New(sched.WithWorkers(8))
	stages, _ := s.DryRun(plan)
	for i, st := range stages {
		fmt.Println(i, st.Units)
	}
	// Output:
	// 0 [[grow-p1] [grow-p2] [dm-table]]
	// 1 [[dm-table2]]
}

// Several edits of one partition table, ready together, become one write.
func ExampleWithMerge() {
	d := sched.Disk("8:16")
	edit := func(id string) sched.Operation {
		return sched.Operation{ID: id, BatchKey: d.String(), Resources: []sched.Resource{d.Exclusive()},
			Execute: func(context.Context, sched.Progress) error { return nil }}
	}
	merge := func(key string, ops []sched.Operation) (sched.Operation, error) {
		var ids []string
		for _, o := range ops {
			ids = append(ids, o.ID)
		}
		return sched.Operation{Execute: func(context.Context, sched.Progress) error {
			fmt.Printf("one table write on %s for %s\n", key, strings.Join(ids, ", "))
			return nil
		}}, nil
	}
	s, _ := sched.New(sched.WithMerge(merge))
	rep, _ := s.Run(context.Background(), sched.NewPlan(edit("add-p1"), edit("add-p2"), edit("resize-p3")))
	r, _ := rep.Result("add-p2")
	fmt.Println(r.State, r.Batch)
	// Output:
	// one table write on disk:8:16 for add-p1, add-p2, resize-p3
	// succeeded [add-p1 add-p2 resize-p3]
}

func ExampleRetryPolicy_Backoff() {
	p := sched.RetryPolicy{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.5}
	for n := 1; n <= 5; n++ {
		// The longest and shortest waits after attempt n.
		fmt.Println(n, p.Backoff(n, 0), p.Backoff(n, 1))
	}
	// Output:
	// 1 100ms 50ms
	// 2 200ms 100ms
	// 3 400ms 200ms
	// 4 800ms 400ms
	// 5 1s 500ms
}

// Long operations report progress; a subscriber sees it with the other
// events.
func ExampleProgress() {
	plan := sched.NewPlan(sched.Operation{ID: "copy", Execute: func(_ context.Context, progress sched.Progress) error {
		for done := int64(1); done <= 2; done++ {
			progress(done, 2, "GiB")
		}
		return nil
	}})
	s, _ := sched.New(sched.WithSubscriber(func(e sched.Event) {
		if e.Type == sched.EventProgress {
			fmt.Printf("%s %d/%d %s\n", e.ID, e.Done, e.Total, e.Note)
		} else {
			fmt.Println(e.ID, e.Type)
		}
	}))
	_, _ = s.Run(context.Background(), plan)
	// Output:
	// copy started
	// copy 1/2 GiB
	// copy 2/2 GiB
	// copy succeeded
}
