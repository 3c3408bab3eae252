package sched

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// EventType says what happened to an operation.
type EventType uint8

const (
	EventStarted        EventType = iota + 1 // first attempt began
	EventRetried                             // an attempt failed and another follows after Delay
	EventProgress                            // the operation reported progress
	EventSucceeded                           // Execute returned nil
	EventFailed                              // the last attempt failed; Err says why
	EventSkipped                             // not run: a dependency did not succeed
	EventCancelled                           // not started: ctx cancelled or the plan stopped
	EventRollingBack                         // Rollback began
	EventRolledBack                          // Rollback returned nil
	EventRollbackFailed                      // Rollback failed; Err is a *RollbackError
)

var eventNames = [...]string{
	EventStarted:        "started",
	EventRetried:        "retried",
	EventProgress:       "progress",
	EventSucceeded:      "succeeded",
	EventFailed:         "failed",
	EventSkipped:        "skipped",
	EventCancelled:      "cancelled",
	EventRollingBack:    "rolling back",
	EventRolledBack:     "rolled back",
	EventRollbackFailed: "rollback failed",
}

func (t EventType) String() string {
	if int(t) < len(eventNames) && eventNames[t] != "" {
		return eventNames[t]
	}
	return fmt.Sprintf("EventType(%d)", uint8(t))
}

func (t EventType) level() slog.Level {
	switch t {
	case EventStarted, EventProgress, EventRollingBack:
		return slog.LevelDebug
	case EventRetried, EventSkipped, EventCancelled:
		return slog.LevelWarn
	case EventFailed, EventRollbackFailed:
		return slog.LevelError
	}
	return slog.LevelInfo
}

// Event is one thing that happened to one operation. Operations merged into
// a batch each get their own event, with Batch naming all of them.
type Event struct {
	Type EventType
	ID   string
	Kind string
	// Batch lists the IDs run together with this one, itself included;
	// nil when it ran alone.
	Batch []string
	// Time is when the event happened, by the scheduler's clock.
	Time time.Time
	// Attempt is the attempt the event belongs to (Started, Retried,
	// Succeeded, Failed, and the rollback events).
	Attempt int
	// Elapsed is the time since Started (Succeeded, Failed, Retried,
	// Progress) or since RollingBack (RolledBack, RollbackFailed).
	Elapsed time.Duration
	// Delay is the wait before the next attempt (Retried).
	Delay time.Duration
	// Err is the error of Retried, Failed, Skipped, Cancelled and
	// RollbackFailed events.
	Err error
	// Reason explains Skipped, Cancelled and kept (not rolled back) results.
	Reason string
	// Done, Total and Note are what a Progress call reported.
	Done, Total int64
	Note        string
}

// emitter serializes delivery so subscribers need no locking of their own.
type emitter struct {
	ctx    context.Context
	logger *slog.Logger
	sub    func(Event)
	mu     chanMutex
}

// chanMutex is a mutex that cannot be copied by accident into a value.
type chanMutex chan struct{}

func (m chanMutex) lock()   { m <- struct{}{} }
func (m chanMutex) unlock() { <-m }

func (e *emitter) emit(ev Event) {
	if e.sub == nil && !e.logger.Enabled(e.ctx, ev.Type.level()) {
		return
	}
	e.mu.lock()
	defer e.mu.unlock()
	e.deliver(ev)
}

// deliver sends ev; the caller holds e.mu. A panic in the subscriber or
// the log handler is recovered and logged: it runs on a worker goroutine
// or in the middle of rollback, where letting it through would kill the
// process with locks held or leave the rollback half done.
func (e *emitter) deliver(ev Event) {
	if e.sub != nil {
		e.call("subscriber", ev, func() { e.sub(ev) })
	}
	e.call("log handler", ev, func() { e.log(ev) })
}

func (e *emitter) call(who string, ev Event, f func()) {
	defer func() {
		if v := recover(); v != nil {
			e.panicked(who, ev, v)
		}
	}()
	f()
}

// panicked reports a recovered panic to the logger, unless the logger is
// what panicked.
func (e *emitter) panicked(who string, ev Event, v any) {
	defer func() { _ = recover() }()
	e.logger.LogAttrs(e.ctx, slog.LevelError, "sched: event "+who+" panicked",
		slog.String("op", ev.ID), slog.String("event", ev.Type.String()),
		slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
}

func (e *emitter) log(ev Event) {
	lvl := ev.Type.level()
	if !e.logger.Enabled(e.ctx, lvl) {
		return
	}
	attrs := []slog.Attr{slog.String("op", ev.ID), slog.String("kind", ev.Kind)}
	if ev.Batch != nil {
		attrs = append(attrs, slog.Any("batch", ev.Batch))
	}
	if ev.Attempt > 0 {
		attrs = append(attrs, slog.Int("attempt", ev.Attempt))
	}
	if ev.Elapsed > 0 {
		attrs = append(attrs, slog.Duration("elapsed", ev.Elapsed))
	}
	if ev.Type == EventRetried {
		attrs = append(attrs, slog.Duration("delay", ev.Delay))
	}
	if ev.Type == EventProgress {
		attrs = append(attrs, slog.Int64("done", ev.Done), slog.Int64("total", ev.Total), slog.String("note", ev.Note))
	}
	if ev.Reason != "" {
		attrs = append(attrs, slog.String("reason", ev.Reason))
	}
	if ev.Err != nil {
		attrs = append(attrs, slog.Any("err", ev.Err))
	}
	e.logger.LogAttrs(e.ctx, lvl, "sched: "+ev.Type.String(), attrs...)
}
