package sched

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// FailurePolicy says what happens to independent branches of a plan after an
// operation fails. The failed operation's dependents are skipped either way.
type FailurePolicy uint8

const (
	// StopOnFailure starts nothing new after the first failure; operations
	// already running finish. It is the default: after a failure the plan
	// will be rolled back, so further changes would only be undone again.
	StopOnFailure FailurePolicy = iota + 1
	// ContinueIndependent keeps running every operation that does not
	// depend on a failed one.
	ContinueIndependent
)

func (p FailurePolicy) String() string {
	switch p {
	case StopOnFailure:
		return "stop-on-failure"
	case ContinueIndependent:
		return "continue-independent"
	}
	return fmt.Sprintf("FailurePolicy(%d)", uint8(p))
}

// Scheduler runs plans. It holds only configuration; each Run has its own
// state. Runs on one Scheduler are serialized, so that two plans given to
// the same Scheduler can never touch one resource at the same time: share
// one Scheduler per process for that guarantee.
type Scheduler struct {
	cfg   config
	runMu chan struct{}
}

type config struct {
	workers         int
	logger          *slog.Logger
	subscriber      func(Event)
	policy          FailurePolicy
	rollback        bool
	rollbackTimeout time.Duration
	retry           RetryPolicy
	clock           Clock
	rand            func() float64
	merge           MergeFunc
	maxBatch        int
	lookahead       int
}

// Option configures a Scheduler. Options are checked once, by New.
type Option func(*config) error

const (
	defaultWorkers         = 4
	defaultRollbackTimeout = 2 * time.Minute
	defaultLookahead       = 256
)

// WithWorkers bounds how many executions run at once (default 4). A batch
// counts as one execution.
func WithWorkers(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: workers %d < 1", ErrInvalidOption, n)
		}
		c.workers = n
		return nil
	}
}

// WithLogger logs every event at a level fitting its type. nil discards.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithSubscriber delivers every event to f. Calls are serialized, so f need
// not be safe for concurrent use, but f runs on the scheduler's goroutines
// and must return quickly.
func WithSubscriber(f func(Event)) Option {
	return func(c *config) error {
		c.subscriber = f
		return nil
	}
}

// WithFailurePolicy sets what happens to independent work after a failure.
func WithFailurePolicy(p FailurePolicy) Option {
	return func(c *config) error {
		if p != StopOnFailure && p != ContinueIndependent {
			return fmt.Errorf("%w: failure policy %v", ErrInvalidOption, p)
		}
		c.policy = p
		return nil
	}
}

// WithRollback turns rollback after a failed or cancelled plan on (the
// default) or off.
func WithRollback(enabled bool) Option {
	return func(c *config) error {
		c.rollback = enabled
		return nil
	}
}

// WithRollbackTimeout bounds each rollback (default 2 minutes, retries
// included). Rollbacks ignore the cancellation of the plan's context, so
// this is what stops a hung rollback.
func WithRollbackTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("%w: rollback timeout %v <= 0", ErrInvalidOption, d)
		}
		c.rollbackTimeout = d
		return nil
	}
}

// WithRetry sets the retry policy of operations that have none of their own.
// The default is RetryPolicy{} with its documented defaults: 3 attempts on
// EBUSY, EAGAIN or ErrRetryable.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error {
		q, err := p.withDefaults()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidOption, err)
		}
		c.retry = q
		return nil
	}
}

// WithClock replaces the clock used for backoff waits and event times.
func WithClock(clk Clock) Option {
	return func(c *config) error {
		if clk == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalidOption)
		}
		c.clock = clk
		return nil
	}
}

// WithRand replaces the source of backoff jitter; f returns values in
// [0,1). Calls are serialized.
func WithRand(f func() float64) Option {
	return func(c *config) error {
		if f == nil {
			return fmt.Errorf("%w: nil rand", ErrInvalidOption)
		}
		c.rand = f
		return nil
	}
}

// WithMerge enables batching: ready operations with the same BatchKey are
// handed to f together and run as the one operation it returns.
func WithMerge(f MergeFunc) Option {
	return func(c *config) error {
		c.merge = f
		return nil
	}
}

// WithMaxBatch caps how many operations one batch merges (default
// unlimited).
func WithMaxBatch(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: max batch %d < 1", ErrInvalidOption, n)
		}
		c.maxBatch = n
		return nil
	}
}

// WithLookahead bounds how many ready operations that cannot start yet the
// dispatcher examines per round (default 256). It bounds the cost of each
// scheduling decision; operations beyond it wait for the next round, never
// longer than the ones ahead of them.
func WithLookahead(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: lookahead %d < 1", ErrInvalidOption, n)
		}
		c.lookahead = n
		return nil
	}
}

// New returns a Scheduler configured by opts.
func New(opts ...Option) (*Scheduler, error) {
	c := config{
		workers:         defaultWorkers,
		policy:          StopOnFailure,
		rollback:        true,
		rollbackTimeout: defaultRollbackTimeout,
		clock:           realClock{},
		rand:            rand.Float64,
		lookahead:       defaultLookahead,
	}
	c.retry, _ = RetryPolicy{}.withDefaults()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&c); err != nil {
			return nil, err
		}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.maxBatch == 0 {
		c.maxBatch = int(^uint(0) >> 1)
	}
	rnd := c.rand
	var mu sync.Mutex
	c.rand = func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return rnd()
	}
	return &Scheduler{cfg: c, runMu: make(chan struct{}, 1)}, nil
}

// Workers reports the worker bound.
func (s *Scheduler) Workers() int { return s.cfg.workers }

// lockRun waits for any other Run on s to finish.
func (s *Scheduler) lockRun(ctx context.Context) error {
	// An idle scheduler is taken even with ctx already done, so that such a
	// Run reliably reports every operation cancelled rather than sometimes
	// returning early.
	select {
	case s.runMu <- struct{}{}:
		return nil
	default:
	}
	select {
	case s.runMu <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Scheduler) unlockRun() { <-s.runMu }
