package sched

import (
	"context"
	"errors"
	"fmt"
	"math"
	"syscall"
	"time"
)

// RetryPolicy says which errors are retried, how often, and how long to wait.
// The wait before attempt n+1 is min(Max, Initial*Multiplier^(n-1)) reduced
// by a random fraction of at most Jitter, so retries of many operations that
// failed together on one busy device spread out instead of colliding again.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included.
	// 1 disables retries; 0 means the default of 3.
	MaxAttempts int
	// Initial is the wait before the second attempt (default 100ms).
	Initial time.Duration
	// Max caps every wait (default 5s).
	Max time.Duration
	// Multiplier grows the wait per attempt (default 2; must be >= 1).
	Multiplier float64
	// Jitter is the largest fraction, in [0,1], removed at random from each
	// wait (default 0.2). The wait is never longer than the capped delay.
	Jitter float64
	// Retryable classifies errors; nil means DefaultRetryable.
	Retryable func(error) bool
}

const (
	defaultAttempts   = 3
	defaultInitial    = 100 * time.Millisecond
	defaultMaxBackoff = 5 * time.Second
	defaultMultiplier = 2
	defaultJitter     = 0.2
)

// DefaultRetryable retries EBUSY and EAGAIN, the errors the kernel returns
// while udev or another opener still holds a device, and anything marked
// with ErrRetryable. It never retries context errors.
func DefaultRetryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EAGAIN) || errors.Is(err, ErrRetryable)
}

// RetryOn returns a classifier that retries errors matching any of targets
// with errors.Is.
func RetryOn(targets ...error) func(error) bool {
	return func(err error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
}

// NoRetry is a policy of a single attempt.
func NoRetry() *RetryPolicy { return &RetryPolicy{MaxAttempts: 1} }

// withDefaults fills zero fields and checks the rest.
func (p RetryPolicy) withDefaults() (RetryPolicy, error) {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = defaultAttempts
	}
	if p.Initial == 0 {
		p.Initial = defaultInitial
	}
	if p.Max == 0 {
		p.Max = max(defaultMaxBackoff, p.Initial)
	}
	if p.Multiplier == 0 {
		p.Multiplier = defaultMultiplier
	}
	if p.Retryable == nil {
		p.Retryable = DefaultRetryable
	}
	switch {
	case p.MaxAttempts < 0:
		return p, fmt.Errorf("retry: MaxAttempts %d < 0", p.MaxAttempts)
	case p.Initial < 0 || p.Max < 0:
		return p, fmt.Errorf("retry: negative delay (Initial %v, Max %v)", p.Initial, p.Max)
	case p.Max < p.Initial:
		return p, fmt.Errorf("retry: Max %v < Initial %v", p.Max, p.Initial)
	case math.IsNaN(p.Multiplier) || p.Multiplier < 1:
		return p, fmt.Errorf("retry: Multiplier %v < 1", p.Multiplier)
	case math.IsNaN(p.Jitter) || p.Jitter < 0 || p.Jitter > 1:
		return p, fmt.Errorf("retry: Jitter %v outside [0,1]", p.Jitter)
	}
	return p, nil
}

// classify asks the classifier whether err is worth another attempt. The
// classifier is caller code: if it panics, err is final and carries the
// *PanicError, so that neither is lost and no worker goroutine dies.
func (p RetryPolicy) classify(id string, err error) (retry bool, final error) {
	defer func() {
		if v := recover(); v != nil {
			retry, final = false, fmt.Errorf("%w (retry classifier: %w)", err, recovered(id, v))
		}
	}()
	return p.Retryable(err), err
}

// Backoff returns the wait after failed attempt n (1-based), given a random
// number r in [0,1). It is exported so callers can see the exact schedule a
// policy produces; p must have passed validation (zero fields are defaulted).
func (p RetryPolicy) Backoff(n int, r float64) time.Duration {
	p, err := p.withDefaults()
	if err != nil || n < 1 {
		return 0
	}
	d := float64(p.Initial) * math.Pow(p.Multiplier, float64(n-1))
	if d > float64(p.Max) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(p.Max)
	}
	if math.IsNaN(r) {
		r = 0 // min and max pass a NaN through, and it would become a negative wait
	}
	r = min(max(r, 0), 1)
	w := d * (1 - p.Jitter*r)
	// float64(Max) rounds up when Max is near the largest Duration (a
	// caller saying "no cap"), and converting that back would overflow
	// into a negative wait, that is, no wait at all.
	if w >= float64(p.Max) {
		return p.Max
	}
	return time.Duration(w)
}

// Clock is the scheduler's view of time, replaceable in tests.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, returning ctx.Err() in that case.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
