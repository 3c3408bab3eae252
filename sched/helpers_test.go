package sched

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock never really sleeps: it records each requested wait and
// advances its own time by it, so backoff tests are exact and instant.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// recorder collects events for assertions.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) ofType(t EventType) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, e := range r.events {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) ids(t EventType) []string {
	var out []string
	for _, e := range r.ofType(t) {
		out = append(out, e.ID)
	}
	return out
}

func noop(context.Context, Progress) error { return nil }

func mustNew(t testing.TB, opts ...Option) *Scheduler {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// order records the order in which operations start, safely.
type order struct {
	mu  sync.Mutex
	ids []string
}

func (o *order) exec(id string) func(context.Context, Progress) error {
	return func(context.Context, Progress) error {
		o.mu.Lock()
		o.ids = append(o.ids, id)
		o.mu.Unlock()
		return nil
	}
}

func (o *order) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.ids...)
}
