package sched

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestRetryCountsAndBackoffBounds(t *testing.T) {
	clk := newFakeClock()
	var calls atomic.Int32
	pol := RetryPolicy{MaxAttempts: 5, Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Multiplier: 2, Jitter: 0.5}
	rnd := []float64{0, 0.999, 0.5, 0.25}
	var ri int
	s := mustNew(t, WithClock(clk), WithRetry(pol), WithRand(func() float64 { v := rnd[ri%len(rnd)]; ri++; return v }))
	rec := &recorder{}
	s.cfg.subscriber = rec.add
	p := NewPlan(Operation{ID: "busy", Execute: func(context.Context, Progress) error {
		calls.Add(1)
		return fmt.Errorf("open: %w", syscall.EBUSY)
	}})
	rep, err := s.Run(context.Background(), p)
	if !errors.Is(err, syscall.EBUSY) {
		t.Fatalf("err %v", err)
	}
	var oe *OpError
	if !errors.As(err, &oe) || oe.Attempts != 5 {
		t.Fatalf("OpError %+v", oe)
	}
	if calls.Load() != 5 || rep.Results[0].Attempts != 5 || rep.Results[0].State != StateFailed {
		t.Fatalf("calls %d result %+v", calls.Load(), rep.Results[0])
	}
	// Nominal waits 10, 20, 40, 50(capped); jitter removes up to half.
	nominal := []time.Duration{10, 20, 40, 50}
	sleeps := clk.Sleeps()
	if len(sleeps) != 4 {
		t.Fatalf("sleeps %v", sleeps)
	}
	for i, d := range sleeps {
		hi := nominal[i] * time.Millisecond
		if d > hi || d < hi/2 {
			t.Errorf("wait %d = %v outside [%v, %v]", i, d, hi/2, hi)
		}
		if want := pol.Backoff(i+1, rnd[i]); d != want {
			t.Errorf("wait %d = %v, Backoff says %v", i, d, want)
		}
	}
	if got := len(rec.ofType(EventRetried)); got != 4 {
		t.Errorf("%d retried events", got)
	}
}

func TestRetryStopsOnNonRetryable(t *testing.T) {
	clk := newFakeClock()
	var calls atomic.Int32
	boom := errors.New("boom")
	p := NewPlan(Operation{ID: "x", Execute: func(context.Context, Progress) error {
		if calls.Add(1) == 1 {
			return syscall.EAGAIN
		}
		return boom
	}})
	_, err := mustNew(t, WithClock(clk)).Run(context.Background(), p)
	if !errors.Is(err, boom) || calls.Load() != 2 || len(clk.Sleeps()) != 1 {
		t.Fatalf("err %v calls %d sleeps %v", err, calls.Load(), clk.Sleeps())
	}
}

func TestRetryCustomClassifier(t *testing.T) {
	clk := newFakeClock()
	errFlaky := errors.New("flaky")
	var calls atomic.Int32
	p := NewPlan(Operation{ID: "x",
		Retry: &RetryPolicy{MaxAttempts: 3, Retryable: RetryOn(errFlaky)},
		Execute: func(context.Context, Progress) error {
			if calls.Add(1) < 3 {
				return errFlaky
			}
			return nil
		}})
	rep, err := mustNew(t, WithClock(clk)).Run(context.Background(), p)
	if err != nil || rep.Results[0].Attempts != 3 {
		t.Fatalf("err %v %+v", err, rep.Results[0])
	}
}

// TestRetryClassifierPanic: a classifier is caller code like Execute; its
// panic must fail the operation (keeping the error it was classifying),
// not kill the worker goroutine, and must not escape Run from a rollback.
func TestRetryClassifierPanic(t *testing.T) {
	boom := errors.New("boom")
	undo := errors.New("undo failed")
	bad := &RetryPolicy{Retryable: func(error) bool { panic("classifier bug") }}
	var calls atomic.Int32
	p := NewPlan(
		Operation{ID: "a", Execute: noop, Retry: bad, Rollback: func(context.Context) error { return undo }},
		Operation{ID: "b", Dependencies: []string{"a"}, Retry: bad, Execute: func(context.Context, Progress) error {
			calls.Add(1)
			return boom
		}},
	)
	rep, err := mustNew(t, WithClock(newFakeClock())).Run(context.Background(), p)
	if !errors.Is(err, boom) || !errors.Is(err, undo) || !errors.Is(err, ErrPanicked) {
		t.Fatalf("err %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("%d attempts after a classifier panic", calls.Load())
	}
	if r, _ := rep.Result("b"); r.State != StateFailed || !errors.Is(r.Err, boom) || !errors.Is(r.Err, ErrPanicked) {
		t.Errorf("b %+v", r)
	}
	if r, _ := rep.Result("a"); r.State != StateRollbackFailed || !errors.Is(r.RollbackErr, undo) {
		t.Errorf("a %+v", r)
	}
}

// TestBackoffNoCap: a Max of the largest Duration means "no cap"; the
// doubling wait reaches it and must stay there, not overflow into a
// negative wait that retries a busy device at once.
func TestBackoffNoCap(t *testing.T) {
	for _, jitter := range []float64{0, 0.2} {
		p := RetryPolicy{Initial: time.Second, Max: time.Duration(math.MaxInt64), Jitter: jitter}
		prev := time.Duration(0)
		for n := 1; n <= 100; n++ {
			d := p.Backoff(n, 0)
			if d <= 0 || d < prev {
				t.Fatalf("jitter %v: wait %d = %v after %v", jitter, n, d, prev)
			}
			prev = d
			if r := p.Backoff(n, 0.999); r <= 0 || r > d {
				t.Fatalf("jitter %v: jittered wait %d = %v, nominal %v", jitter, n, r, d)
			}
		}
	}
}

// TestBackoffHonoursContext: an hour-long backoff ends as soon as the plan
// is cancelled, and a rollback's backoff ends at the rollback timeout; both
// errors keep the retried cause and say why the retry was abandoned.
func TestBackoffHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hour := RetryPolicy{MaxAttempts: 5, Initial: time.Hour}
	var undo atomic.Int32
	p := NewPlan(
		Operation{ID: "a", Execute: noop, Retry: &hour, Rollback: func(context.Context) error {
			undo.Add(1)
			return syscall.EBUSY
		}},
		Operation{ID: "b", Dependencies: []string{"a"}, Retry: &hour, Execute: func(context.Context, Progress) error { return syscall.EAGAIN }},
	)
	sub := func(e Event) {
		if e.Type == EventRetried && e.ID == "b" {
			cancel()
		}
	}
	rep, err := mustNew(t, WithSubscriber(sub), WithRollbackTimeout(10*time.Millisecond)).Run(ctx, p)
	if !errors.Is(err, syscall.EAGAIN) || !errors.Is(err, context.Canceled) || !errors.Is(err, syscall.EBUSY) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if r, _ := rep.Result("b"); r.State != StateFailed || r.Attempts != 1 {
		t.Errorf("b %+v", r)
	}
	if r, _ := rep.Result("a"); r.State != StateRollbackFailed || undo.Load() != 1 {
		t.Errorf("a %+v after %d undo attempts", r, undo.Load())
	}
}

// TestBackoffBadRandom: a jitter source outside [0,1), NaN included, still
// gives a wait within the policy's bounds.
func TestBackoffBadRandom(t *testing.T) {
	p := RetryPolicy{Initial: 100 * time.Millisecond, Max: time.Second, Jitter: 0.5}
	for _, r := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -3, 7} {
		for n := 1; n <= 6; n++ {
			if d := p.Backoff(n, r); d < 50*time.Millisecond || d > time.Second {
				t.Errorf("Backoff(%d, %v) = %v", n, r, d)
			}
		}
	}
}
