package sched

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

type nodeState uint8

const (
	nsWaiting nodeState = iota // dependencies unfinished
	nsReady                    // in the ready queue
	nsRunning                  // in a dispatched unit
	nsDone                     // final; res.State says how
)

type node struct {
	idx     int32
	op      *Operation
	ns      nodeState
	pending int32  // dependencies not yet succeeded
	seq     uint64 // when it became ready, for FIFO among equal priority
	scan    uint64 // dispatch round that last examined it
	claims  []claim
	res     Result

	lvl        *level // ready queue links
	prev, next *node
}

// unit is one execution: a single operation, or a batch merged into one.
type unit struct {
	members  []*node
	claims   []claim
	rollback func(context.Context) error // the merged Rollback, if any
	policy   RetryPolicy
	attempts int
	// cancelled: ctx was done or the plan had stopped when the unit
	// reached its worker, so it never started.
	cancelled bool
	err       error
	started   time.Time
	finished  time.Time
}

func (u *unit) ids() []string {
	if len(u.members) == 1 {
		return nil
	}
	ids := make([]string, len(u.members))
	for i, m := range u.members {
		ids[i] = m.op.ID
	}
	return ids
}

type run struct {
	cfg *config
	g   *graph
	ctx context.Context
	em  *emitter

	mu        sync.Mutex
	nodes     []node
	ready     readyQueue
	batches   map[string][]*node // ready operations per batch key
	locks     lockTable
	free      int
	remaining int
	seq       uint64
	scanID    uint64
	stopped   bool
	// halted mirrors stopped for workers, which read it without r.mu
	// before they start a unit; stopReason says why.
	halted     atomic.Bool
	stopReason string
	cancelled  bool
	failures   []error
	completed  []*unit
	done       chan struct{}
	closed     bool

	work chan *unit
}

func newRun(ctx context.Context, cfg *config, g *graph) *run {
	r := &run{
		cfg:       cfg,
		g:         g,
		ctx:       ctx,
		em:        &emitter{ctx: ctx, logger: cfg.logger, sub: cfg.subscriber, mu: make(chanMutex, 1)},
		nodes:     make([]node, len(g.ops)),
		batches:   map[string][]*node{},
		locks:     newLockTable(),
		free:      cfg.workers,
		remaining: len(g.ops),
		done:      make(chan struct{}),
	}
	for i := range r.nodes {
		n := &r.nodes[i]
		n.idx = int32(i)
		n.op = &g.ops[i]
		n.pending = int32(len(g.deps[i]))
		n.claims = r.locks.resolve(normalize(n.op.Resources))
		n.res = Result{ID: n.op.ID, Kind: n.op.Kind}
	}
	for i := range r.nodes {
		if r.nodes[i].pending == 0 {
			r.makeReady(&r.nodes[i])
		}
	}
	return r
}

func (r *run) batching(n *node) bool { return r.cfg.merge != nil && n.op.BatchKey != "" }

func (r *run) makeReady(n *node) {
	n.ns = nsReady
	n.seq = r.seq
	r.seq++
	r.ready.push(n)
	if r.batching(n) {
		r.batches[n.op.BatchKey] = append(r.batches[n.op.BatchKey], n)
	}
}

func (r *run) unbatch(n *node) {
	if !r.batching(n) {
		return
	}
	k := n.op.BatchKey
	l := r.batches[k]
	if i := slices.Index(l, n); i >= 0 {
		l = slices.Delete(l, i, i+1)
	}
	if len(l) == 0 {
		delete(r.batches, k)
	} else {
		r.batches[k] = l
	}
}

// dispatch starts whatever can start, in priority order. Locks are granted
// all at once or not at all, so no unit ever holds some locks while waiting
// for others and deadlock is impossible. An operation that cannot start
// reserves its claims for the rest of the round: nothing behind it in the
// order may take a conflicting claim, so a waiting exclusive claim is never
// overtaken by shared ones that keep arriving (and vice versa).
func (r *run) dispatch() []*unit {
	if r.stopped || r.free == 0 || r.ready.Len() == 0 {
		return nil
	}
	// The context watcher may not have run yet; nothing queued may start
	// once ctx is done. The watcher marks the queued ones cancelled.
	if r.ctx.Err() != nil {
		return nil
	}
	r.scanID++
	round := r.scanID
	waiting := 0
	var out []*unit
	for li := 0; li < len(r.ready.levels) && r.free > 0 && waiting < r.cfg.lookahead; {
		lvl := r.ready.levels[li]
		var next *node
		for n := lvl.head; n != nil && r.free > 0 && waiting < r.cfg.lookahead; n = next {
			next = n.next
			n.scan = round
			if blocked(n.claims, round) {
				reserve(n.claims, round)
				waiting++
				continue
			}
			members := []*node{n}
			claims := n.claims
			if r.batching(n) {
				members, claims = r.gather(n, round)
				// Members are unlinked before n so that next is still
				// in the queue.
				for _, m := range members[1:] {
					r.ready.remove(m)
				}
				next = n.next
			}
			r.ready.remove(n)
			u := &unit{members: members, claims: claims}
			batch := u.ids()
			for _, m := range members {
				m.ns = nsRunning
				m.res.Batch = batch
			}
			acquire(claims)
			r.free--
			out = append(out, u)
		}
		li = r.ready.below(lvl.prio)
	}
	return out
}

// gather collects the ready operations that can join n's batch: same key,
// not examined yet this round (so behind n in the order), and free of
// conflicts with everyone outside the batch. Members may conflict with each
// other; that is the point of merging them. n comes first.
func (r *run) gather(n *node, round uint64) ([]*node, []claim) {
	members := []*node{n}
	for _, m := range r.batches[n.op.BatchKey] {
		if len(members) >= r.cfg.maxBatch {
			break
		}
		if m == n || m.scan == round || m.ns != nsReady {
			continue
		}
		if !blocked(m.claims, round) {
			members = append(members, m)
		}
	}
	for _, m := range members {
		r.unbatch(m)
	}
	if len(members) == 1 {
		return members, n.claims
	}
	slices.SortFunc(members, func(a, b *node) int {
		if before(a, b) {
			return -1
		}
		return 1
	})
	var all []Resource
	for _, m := range members {
		all = append(all, m.op.Resources...)
	}
	return members, r.locks.resolve(normalize(all))
}

// complete records a finished unit and frees what it held. It returns the
// events to emit once r.mu is released.
func (r *run) complete(u *unit) []Event {
	release(u.claims)
	r.free++
	var evs []Event
	if u.cancelled {
		// Dispatched just before a cancel or a stop: it never started, so
		// it ends like the queued work, and the Run reports a cancel even
		// if the context watcher has not run yet.
		if r.ctx.Err() != nil {
			r.cancelled = true
			evs = r.stop(cancelReason(r.ctx))
		}
		reason := r.stopReason
		for _, m := range u.members {
			m.res.Batch = nil // it never ran, alone or merged
			m.res.Reason = reason
			m.res.Err = fmt.Errorf("%w: %s", ErrCancelled, reason)
			r.finish(m, StateCancelled)
			evs = append(evs, r.event(EventCancelled, m, func(e *Event) { e.Reason = reason; e.Err = m.res.Err }))
		}
		return evs
	}
	if u.err == nil {
		r.completed = append(r.completed, u)
		for _, m := range u.members {
			r.finish(m, StateSucceeded)
		}
		for _, m := range u.members {
			for _, d := range r.g.outs[m.idx] {
				dn := &r.nodes[d]
				dn.pending--
				if dn.pending == 0 && dn.ns == nsWaiting {
					r.makeReady(dn)
				}
			}
		}
		return nil
	}
	oe := &OpError{ID: u.members[0].op.ID, Kind: u.members[0].op.Kind, Attempts: u.attempts, Batch: u.ids(), Err: u.err}
	r.failures = append(r.failures, oe)
	for _, m := range u.members {
		m.res.Err = oe
		r.finish(m, StateFailed)
	}
	for _, m := range u.members {
		evs = append(evs, r.skipDependents(m)...)
	}
	if r.cfg.policy == StopOnFailure {
		evs = append(evs, r.stop(fmt.Sprintf("plan stopped after %q failed", oe.ID))...)
	}
	return evs
}

func (r *run) finish(n *node, s State) {
	n.ns = nsDone
	n.res.State = s
	r.remaining--
}

// skipDependents marks everything downstream of failed as skipped. The
// reason names the dependency that did not succeed and, further down, the
// failure at the root; not the chain between them, which would make the
// reasons of a long chain quadratic in its length.
func (r *run) skipDependents(failed *node) []Event {
	var evs []Event
	type item struct {
		idx int32
		via int32 // the skipped dependency it was reached through; -1: failed itself
	}
	var queue []item
	for _, d := range r.g.outs[failed.idx] {
		queue = append(queue, item{d, -1})
	}
	for i := 0; i < len(queue); i++ {
		it := queue[i]
		n := &r.nodes[it.idx]
		if n.ns == nsDone {
			continue
		}
		why := fmt.Sprintf("dependency %q failed", failed.op.ID)
		if it.via >= 0 {
			why = fmt.Sprintf("dependency %q was skipped: %q failed", r.nodes[it.via].op.ID, failed.op.ID)
		}
		// Only waiting nodes can be downstream of an unfinished one.
		n.res.Reason = why
		n.res.Err = fmt.Errorf("%w: %s", ErrSkipped, why)
		r.finish(n, StateSkipped)
		evs = append(evs, r.event(EventSkipped, n, func(e *Event) { e.Reason = why; e.Err = n.res.Err }))
		for _, d := range r.g.outs[it.idx] {
			queue = append(queue, item{d, it.idx})
		}
	}
	return evs
}

// stop cancels everything not yet started.
func (r *run) stop(reason string) []Event {
	if r.stopped {
		return nil
	}
	r.stopped = true
	r.stopReason = reason
	r.halted.Store(true)
	var evs []Event
	for i := range r.nodes {
		n := &r.nodes[i]
		if n.ns != nsWaiting && n.ns != nsReady {
			continue
		}
		n.res.Reason = reason
		n.res.Err = fmt.Errorf("%w: %s", ErrCancelled, reason)
		r.finish(n, StateCancelled)
		evs = append(evs, r.event(EventCancelled, n, func(e *Event) { e.Reason = reason; e.Err = n.res.Err }))
	}
	r.ready.clear()
	clear(r.batches)
	return evs
}

// wants reports whether anyone would see an event of type t, so that the
// common case of no subscriber and a quiet logger builds no events at all.
func (r *run) wants(t EventType) bool {
	return r.em.sub != nil || r.em.logger.Enabled(r.ctx, t.level())
}

func (r *run) event(t EventType, n *node, f func(*Event)) Event {
	e := Event{Type: t, ID: n.op.ID, Kind: n.op.Kind, Batch: n.res.Batch, Time: r.cfg.clock.Now()}
	if f != nil {
		f(&e)
	}
	return e
}

// checkDone closes done when nothing is left to run. r.mu must be held.
func (r *run) checkDone() {
	if r.remaining == 0 && !r.closed {
		r.closed = true
		close(r.done)
	}
}

func (r *run) send(units []*unit) {
	for _, u := range units {
		r.work <- u
	}
}

func (r *run) worker(wg *sync.WaitGroup) {
	defer wg.Done()
	for u := range r.work {
		r.runChain(u)
	}
}

// runChain executes u and then, for as long as its completion lets work
// start, one of the units it released: the worker keeps that one instead of
// handing it to another goroutine, which saves a wake-up per operation on
// chains of small operations.
func (r *run) runChain(u *unit) {
	for u != nil {
		r.execute(u)
		r.mu.Lock()
		evs := r.complete(u)
		units := r.dispatch()
		r.checkDone()
		// Taking the event lock before releasing r.mu means no operation
		// this completion lets start can report Started before this unit's
		// Succeeded reaches the subscriber.
		if len(evs) == 0 && !r.wants(EventSucceeded) && !r.wants(EventFailed) {
			r.mu.Unlock()
		} else {
			r.em.mu.lock()
			r.mu.Unlock()
			r.deliverTerminal(u)
			for _, e := range evs {
				r.em.deliver(e)
			}
			r.em.mu.unlock()
		}
		u = nil
		if len(units) > 0 {
			u = units[0]
			r.send(units[1:])
		}
	}
}

func (r *run) deliverTerminal(u *unit) {
	if u.cancelled || !r.wants(EventSucceeded) && !r.wants(EventFailed) {
		return
	}
	for _, m := range u.members {
		if u.err == nil {
			r.em.deliver(r.event(EventSucceeded, m, func(e *Event) {
				e.Attempt = u.attempts
				e.Elapsed = u.finished.Sub(u.started)
			}))
		} else {
			r.em.deliver(r.event(EventFailed, m, func(e *Event) {
				e.Attempt = u.attempts
				e.Elapsed = u.finished.Sub(u.started)
				e.Err = m.res.Err
			}))
		}
	}
}

// onCancel runs when the plan's context is done.
func (r *run) onCancel() {
	r.mu.Lock()
	var evs []Event
	if r.remaining > 0 {
		r.cancelled = true
		evs = r.stop(cancelReason(r.ctx))
		r.checkDone()
	}
	r.em.mu.lock()
	r.mu.Unlock()
	for _, e := range evs {
		r.em.deliver(e)
	}
	r.em.mu.unlock()
}

func cancelReason(ctx context.Context) string {
	return "context cancelled: " + context.Cause(ctx).Error()
}

// execute runs a unit to its final attempt. It is the only place caller code
// runs during the plan, and it holds no scheduler lock while it does.
func (r *run) execute(u *unit) {
	clk := r.cfg.clock
	// The unit may have been dispatched just before ctx was cancelled or
	// a failure stopped the plan; work that has not started stops at once.
	if r.halted.Load() || r.ctx.Err() != nil {
		u.cancelled = true
		return
	}
	u.started = clk.Now()
	for _, m := range u.members {
		m.res.Started = u.started
		if r.wants(EventStarted) {
			r.em.emit(r.event(EventStarted, m, func(e *Event) { e.Attempt = 1 }))
		}
	}
	exec, timeout, err := r.prepare(u)
	if err != nil {
		u.err = err
		u.finished = clk.Now()
		r.stamp(u)
		return
	}
	var over atomic.Bool
	defer over.Store(true)
	progress := func(done, total int64, note string) {
		// A goroutine the operation left behind may still report; the
		// operation has ended, so the report is dropped.
		if over.Load() || !r.wants(EventProgress) {
			return
		}
		now := clk.Now()
		r.em.mu.lock()
		defer r.em.mu.unlock()
		// Checked again under the event lock: the unit's Succeeded or
		// Failed is delivered under it after over is set, so a report
		// that got past the first check cannot follow it.
		if over.Load() {
			return
		}
		for _, m := range u.members {
			r.em.deliver(r.event(EventProgress, m, func(e *Event) {
				e.Time = now
				e.Done, e.Total, e.Note = done, total, note
				e.Elapsed = now.Sub(u.started)
			}))
		}
	}
	id := u.members[0].op.ID
	for attempt := 1; ; attempt++ {
		u.attempts = attempt
		err := attemptOnce(r.ctx, id, timeout, func(ctx context.Context) error { return exec(ctx, progress) })
		if err == nil {
			u.err = nil
			break
		}
		u.err = err
		if attempt >= u.policy.MaxAttempts || r.ctx.Err() != nil {
			break
		}
		retry, final := u.policy.classify(id, err)
		if !retry {
			u.err = final
			break
		}
		delay := u.policy.Backoff(attempt, r.cfg.rand())
		now := clk.Now()
		for _, m := range u.members {
			r.em.emit(r.event(EventRetried, m, func(e *Event) {
				e.Time = now
				e.Attempt = attempt
				e.Delay = delay
				e.Err = err
				e.Elapsed = now.Sub(u.started)
			}))
		}
		if serr := clk.Sleep(r.ctx, delay); serr != nil {
			u.err = fmt.Errorf("%w (retry abandoned: %w)", err, serr)
			break
		}
	}
	u.finished = clk.Now()
	r.stamp(u)
}

func (r *run) stamp(u *unit) {
	for _, m := range u.members {
		m.res.Attempts = u.attempts
		m.res.Finished = u.finished
	}
}

// prepare resolves what a unit runs: the operation itself, or what the merge
// function makes of a batch.
func (r *run) prepare(u *unit) (exec func(context.Context, Progress) error, timeout time.Duration, err error) {
	if len(u.members) == 1 {
		n := u.members[0]
		u.policy = r.policyOf(n.idx)
		return n.op.Execute, n.op.Timeout, nil
	}
	ops := make([]Operation, len(u.members))
	for i, m := range u.members {
		ops[i] = *m.op
	}
	key := ops[0].BatchKey
	var merged Operation
	func() {
		defer func() {
			if v := recover(); v != nil {
				err = recovered("batch "+key, v)
			}
		}()
		merged, err = r.cfg.merge(key, ops)
	}()
	if err != nil {
		return nil, 0, fmt.Errorf("merging batch %q: %w", key, err)
	}
	if merged.Execute == nil {
		return nil, 0, fmt.Errorf("%w: merge of batch %q returned no Execute", ErrInvalidOperation, key)
	}
	if merged.Timeout < 0 {
		return nil, 0, fmt.Errorf("%w: merge of batch %q returned Timeout %v", ErrInvalidOperation, key, merged.Timeout)
	}
	u.policy = r.policyOf(u.members[0].idx)
	if merged.Retry != nil {
		p, perr := merged.Retry.withDefaults()
		if perr != nil {
			return nil, 0, fmt.Errorf("%w: merge of batch %q: %v", ErrInvalidOperation, key, perr)
		}
		u.policy = p
	}
	u.rollback = merged.Rollback
	return merged.Execute, merged.Timeout, nil
}

func (r *run) policyOf(i int32) RetryPolicy {
	if p := r.g.pol[i]; p != nil {
		return *p
	}
	return r.cfg.retry
}

// attemptOnce runs f once with the attempt's deadline, turning a panic into
// an error so that locks are released and the plan can roll back.
func attemptOnce(ctx context.Context, id string, timeout time.Duration, f func(context.Context) error) (err error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	defer func() {
		if v := recover(); v != nil {
			err = recovered(id, v)
		}
	}()
	return f(ctx)
}
