package sched

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Run executes the plan and returns what happened to every operation. The
// plan is validated first; an invalid plan runs nothing and the error is a
// *ValidationError with a nil Report.
//
// The error is nil when every operation succeeded. Otherwise it joins every
// *OpError, the context's error if the run was cancelled, and every
// *RollbackError, so errors.Is finds each cause and none hides another.
// The Report is complete in every case: one Result per operation.
//
// Cancelling ctx starts nothing new, lets running operations see ctx done,
// and still rolls back what succeeded, under contexts that ignore the
// cancellation but are bounded by WithRollbackTimeout.
func (s *Scheduler) Run(ctx context.Context, p *Plan) (*Report, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	g, err := p.graph()
	if err != nil {
		return nil, err
	}
	if err := s.lockRun(ctx); err != nil {
		return nil, fmt.Errorf("sched: waiting for another run on this scheduler: %w", err)
	}
	defer s.unlockRun()

	r := newRun(ctx, &s.cfg, g)
	start := s.cfg.clock.Now()
	workers := min(s.cfg.workers, len(g.ops))
	r.work = make(chan *unit, workers)
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		go r.worker(&wg)
	}
	cancelDone := make(chan struct{})
	stopWatch := context.AfterFunc(ctx, func() {
		defer close(cancelDone)
		r.onCancel()
	})

	r.mu.Lock()
	units := r.dispatch()
	r.checkDone()
	r.mu.Unlock()
	r.send(units)

	<-r.done
	if !stopWatch() {
		<-cancelDone
	}
	close(r.work)
	wg.Wait()

	var errs []error
	errs = append(errs, r.failures...)
	if r.cancelled {
		errs = append(errs, fmt.Errorf("sched: plan cancelled: %w", context.Cause(ctx)))
	}
	if len(errs) > 0 && s.cfg.rollback {
		errs = append(errs, r.rollbackAll(errors.Join(errs...))...)
	}
	rep := r.report()
	rep.Started, rep.Finished = start, s.cfg.clock.Now()
	return rep, errors.Join(errs...)
}

func (r *run) report() *Report {
	rep := &Report{Results: make([]Result, len(r.nodes)), index: make(map[string]int, len(r.nodes))}
	for i := range r.nodes {
		rep.Results[i] = r.nodes[i].res
		rep.index[r.nodes[i].op.ID] = i
	}
	return rep
}

// DryRun returns the stages in which the plan would run if every operation
// took the same time and succeeded: each stage holds the executions that
// would start together, with this scheduler's workers, priorities, resource
// rules and batching. Merge functions are not called.
func (s *Scheduler) DryRun(p *Plan) ([]Stage, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	g, err := p.graph()
	if err != nil {
		return nil, err
	}
	r := newRun(context.Background(), &s.cfg, g)
	var stages []Stage
	for r.remaining > 0 {
		units := r.dispatch()
		if len(units) == 0 {
			// Unreachable for a valid plan: with everything finished,
			// the first ready operation can always lock.
			return stages, fmt.Errorf("sched: dry run stalled with %d operations left", r.remaining)
		}
		var st Stage
		for _, u := range units {
			ids := make([]string, len(u.members))
			for i, m := range u.members {
				ids[i] = m.op.ID
			}
			st.Units = append(st.Units, ids)
		}
		for _, u := range units {
			r.complete(u)
		}
		stages = append(stages, st)
	}
	return stages, nil
}

// check refuses a Scheduler that New did not make: its zero value has no
// run lock (Run would wait forever) and no logger.
func (s *Scheduler) check() error {
	if s == nil || s.runMu == nil {
		return fmt.Errorf("%w: Scheduler not made by New", ErrInvalidOption)
	}
	return nil
}
