package sched

import (
	"context"
	"fmt"
	"slices"
)

// rollbackAll undoes the completed units one at a time in reverse order of
// completion. A unit completed only after everything it depends on had
// completed, so this order undoes dependents before their dependencies. It
// is sequential on purpose: rollback runs when something already went
// wrong, and one step at a time is the order an operator can follow.
//
// When a rollback fails, the operations that one depends on are kept (not
// rolled back): undoing a partition under a filesystem whose own undo failed
// would make things worse. Independent units are still rolled back.
func (r *run) rollbackAll(cause error) []error {
	base := context.WithoutCancel(r.ctx)
	keep := map[int32]string{}
	var errs []error
	for i := len(r.completed) - 1; i >= 0; i-- {
		u := r.completed[i]
		if u.rollback != nil {
			// One merged undo covers every member: if any must be kept,
			// all are.
			if why, ok := r.kept(u, keep); ok {
				for _, m := range u.members {
					m.res.Reason = why
				}
				continue
			}
			if err := r.rollbackOne(base, u, u.members, u.rollback, cause); err != nil {
				errs = append(errs, err)
				for _, m := range u.members {
					r.keepDeps(m, keep)
				}
			}
			continue
		}
		for _, m := range slices.Backward(u.members) {
			if why, ok := keep[m.idx]; ok {
				m.res.Reason = why
				continue
			}
			if m.op.Rollback == nil {
				m.res.Reason = "kept: operation has no Rollback"
				continue
			}
			if err := r.rollbackOne(base, u, []*node{m}, m.op.Rollback, cause); err != nil {
				errs = append(errs, err)
				r.keepDeps(m, keep)
			}
		}
	}
	return errs
}

func (r *run) kept(u *unit, keep map[int32]string) (string, bool) {
	for _, m := range u.members {
		if why, ok := keep[m.idx]; ok {
			return why, true
		}
	}
	return "", false
}

// keepDeps marks everything failed depends on, transitively, as kept.
func (r *run) keepDeps(failed *node, keep map[int32]string) {
	why := fmt.Sprintf("kept: rollback of dependent %q failed", failed.op.ID)
	stack := slices.Clone(r.g.deps[failed.idx])
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := keep[v]; ok {
			continue
		}
		keep[v] = why
		stack = append(stack, r.g.deps[v]...)
	}
}

// rollbackOne runs f, with retries under the unit's policy, for the members
// it undoes, and records the outcome on them.
func (r *run) rollbackOne(base context.Context, u *unit, members []*node, f func(context.Context) error, cause error) error {
	clk := r.cfg.clock
	ctx, cancel := context.WithTimeout(base, r.cfg.rollbackTimeout)
	defer cancel()
	start := clk.Now()
	for _, m := range members {
		r.em.emit(r.event(EventRollingBack, m, func(e *Event) { e.Attempt = 1 }))
	}
	id := members[0].op.ID
	policy := u.policy
	if policy.MaxAttempts == 0 {
		policy = r.cfg.retry
	}
	var err error
	attempts := 0
	for attempt := 1; ; attempt++ {
		attempts = attempt
		err = attemptOnce(ctx, id, 0, f)
		if err == nil || attempt >= policy.MaxAttempts {
			break
		}
		retry, final := policy.classify(id, err)
		if !retry {
			err = final
			break
		}
		if serr := clk.Sleep(ctx, policy.Backoff(attempt, r.cfg.rand())); serr != nil {
			err = fmt.Errorf("%w (retry abandoned: %w)", err, serr)
			break
		}
	}
	elapsed := clk.Now().Sub(start)
	if err == nil {
		for _, m := range members {
			m.res.State = StateRolledBack
			r.em.emit(r.event(EventRolledBack, m, func(e *Event) { e.Attempt = attempts; e.Elapsed = elapsed }))
		}
		return nil
	}
	rbe := &RollbackError{ID: id, Err: err, Cause: cause}
	for _, m := range members {
		m.res.State = StateRollbackFailed
		m.res.RollbackErr = rbe
		r.em.emit(r.event(EventRollbackFailed, m, func(e *Event) { e.Attempt = attempts; e.Elapsed = elapsed; e.Err = rbe }))
	}
	return rbe
}
