package perf

import "context"

// Sink is where a consumer sends metrics: an exporter, a time-series
// database client, a log. A Monitor delivers every snapshot to its sinks on
// a delivery goroutine of their own (one per sink), so a slow sink delays
// only itself; when it falls behind it gets the newest snapshot and the
// ones in between are skipped. perf/promexport implements a Sink.
type Sink interface {
	Write(ctx context.Context, s *Snapshot) error
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(ctx context.Context, s *Snapshot) error

// Write implements Sink.
func (f SinkFunc) Write(ctx context.Context, s *Snapshot) error { return f(ctx, s) }
