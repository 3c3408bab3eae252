package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/lvm"
	"github.com/CodeMonkeyCybersecurity/eos-storage/perf"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// ErrInvalid is returned for a bad option or argument.
var ErrInvalid = errors.New("storage: invalid argument")

// ErrNoJournal is returned by Apply, Recover and the Ensure helpers when
// the Engine has no safety journal (WithJournal): nothing changes without one.
var ErrNoJournal = errors.New("storage: no journal (WithJournal)")

// Engine composes every package behind one facade: Inventory reads the
// machine, Plan turns a Spec into the operations that make it hold, Apply
// runs them under the scheduler and the journal, Recover finishes what a
// crash interrupted. It is safe for concurrent use.
type Engine struct {
	root     string
	log      *slog.Logger
	journal  *safety.Journal
	sched    *sched.Scheduler
	backends *plugin.Registry
	sink     perf.Sink
	fs       *fsys.Manager

	smartDeadline time.Duration
	rateInterval  time.Duration
	utilLimit     float64

	closeOnce sync.Once

	lvmTool *lvm.Tool
	lvmOnce sync.Once
	lvm     *lvm.Manager
	lvmErr  error

	onStep func(kind, step string)

	// minSizeFn replaces fsys MinSize in tests of the planner.
	minSizeFn func(ctx context.Context, dev string) (int64, error)
	// utilFn replaces the %util sample in tests of the load gate.
	utilFn func(ctx context.Context, name string) (float64, error)
}

// Option configures New; options are validated once.
type Option func(*Engine) error

// New returns an Engine. Without WithScheduler it makes one with the
// scheduler's defaults; without WithBackends an empty registry.
func New(opts ...Option) (*Engine, error) {
	e := &Engine{log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		smartDeadline: 2 * time.Second, rateInterval: 100 * time.Millisecond, utilLimit: 90}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalid)
		}
		if err := o(e); err != nil {
			return nil, err
		}
	}
	if e.sched == nil {
		s, err := sched.New(sched.WithLogger(e.log))
		if err != nil {
			return nil, err
		}
		e.sched = s
	}
	if e.backends == nil {
		e.backends = plugin.NewRegistry()
	}
	fo := []fsys.Option{fsys.WithLogger(e.log)}
	if e.root != "" {
		fo = append(fo, fsys.WithRoot(e.root))
	}
	if e.journal != nil {
		fo = append(fo, fsys.WithJournal(e.journal))
	}
	if e.onStep != nil {
		fo = append(fo, fsys.WithStepHook(e.onStep))
	}
	if e.lvmTool == nil {
		x, err := command.New(command.WithLogger(e.log))
		if err != nil {
			return nil, err
		}
		if e.lvmTool, err = lvm.NewTool(x); err != nil {
			return nil, err
		}
	}
	m, err := fsys.New(fo...)
	if err != nil {
		return nil, err
	}
	e.fs = m
	return e, nil
}

// WithRoot reads /sys, /proc, /dev and /run under dir (a fake tree or a
// --sysroot); empty means the live machine.
func WithRoot(dir string) Option {
	return func(e *Engine) error { e.root = dir; return nil }
}

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(e *Engine) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalid)
		}
		e.log = l
		return nil
	}
}

// WithJournal sets the safety journal every change is written to. The
// caller keeps ownership: Close does not close it.
func WithJournal(j *safety.Journal) Option {
	return func(e *Engine) error {
		if j == nil {
			return fmt.Errorf("%w: nil journal", ErrInvalid)
		}
		e.journal = j
		return nil
	}
}

// WithScheduler sets the scheduler plans run on.
func WithScheduler(s *sched.Scheduler) Option {
	return func(e *Engine) error {
		if s == nil {
			return fmt.Errorf("%w: nil scheduler", ErrInvalid)
		}
		e.sched = s
		return nil
	}
}

// WithBackends sets the registry of storage backends whose pools and
// volumes Inventory lists.
func WithBackends(r *plugin.Registry) Option {
	return func(e *Engine) error {
		if r == nil {
			return fmt.Errorf("%w: nil registry", ErrInvalid)
		}
		e.backends = r
		return nil
	}
}

// WithMetricsSink sets where Inventory's I/O rate snapshot is also written
// (perf's Sink).
func WithMetricsSink(s perf.Sink) Option {
	return func(e *Engine) error {
		if s == nil {
			return fmt.Errorf("%w: nil sink", ErrInvalid)
		}
		e.sink = s
		return nil
	}
}

// WithSmartDeadline bounds the SMART reading of each drive (default 2s): a
// drive that does not answer in time is "unknown", with the error listed.
func WithSmartDeadline(d time.Duration) Option {
	return func(e *Engine) error {
		if d <= 0 {
			return fmt.Errorf("%w: SMART deadline %v", ErrInvalid, d)
		}
		e.smartDeadline = d
		return nil
	}
}

// WithRateInterval sets how long Inventory samples /proc/diskstats for the
// current I/O rates (default 100ms).
func WithRateInterval(d time.Duration) Option {
	return func(e *Engine) error {
		if d <= 0 {
			return fmt.Errorf("%w: rate interval %v", ErrInvalid, d)
		}
		e.rateInterval = d
		return nil
	}
}

// WithSaturation sets the %util at or above which heavy operations on a
// device are deferred (default 90).
func WithSaturation(util float64) Option {
	return func(e *Engine) error {
		if util <= 0 || util > 100 {
			return fmt.Errorf("%w: saturation %v%%", ErrInvalid, util)
		}
		e.utilLimit = util
		return nil
	}
}

// WithStepHook calls f after every journaled step: the filesystem
// operations' steps, each partition-table write step (kind
// "partition.write") and each finished action (kind "storage.action", step
// the action ID). For crash tests and progress displays.
func WithStepHook(f func(kind, step string)) Option {
	return func(e *Engine) error {
		if f == nil {
			return fmt.Errorf("%w: nil step hook", ErrInvalid)
		}
		e.onStep = f
		return nil
	}
}

// WithLVMTool sets the lvm command wrapper the Engine reads LVM with and
// builds its lifecycle Manager on (a system directory, udev off in a
// guest without udev); the default is lvm.NewTool's.
func WithLVMTool(t *lvm.Tool) Option {
	return func(e *Engine) error {
		if t == nil {
			return fmt.Errorf("%w: nil lvm tool", ErrInvalid)
		}
		e.lvmTool = t
		return nil
	}
}

// Close releases what the Engine opened. The journal, scheduler and
// backends given by options belong to the caller and stay open.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {})
	return nil
}

// Backends returns the backend registry.
func (e *Engine) Backends() *plugin.Registry { return e.backends }

// Filesystems returns the filesystem Manager the Engine's operations use
// (it writes the Engine's journal).
func (e *Engine) Filesystems() *fsys.Manager { return e.fs }

// RunOps runs operations (a backend call's answer) through the Engine's
// scheduler under its journal.
func (e *Engine) RunOps(ctx context.Context, ops []sched.Operation) (*sched.Report, error) {
	if len(ops) == 0 {
		return &sched.Report{}, nil
	}
	return e.sched.Run(ctx, sched.NewPlan(ops...))
}

func (e *Engine) needJournal() error {
	if e.journal == nil {
		return ErrNoJournal
	}
	return nil
}
