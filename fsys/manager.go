package fsys

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
)

// Manager runs filesystem operations. It is safe for concurrent use.
type Manager struct {
	run     command.Runner
	root    sysfs.Root
	log     *slog.Logger
	journal *safety.Journal
	drivers map[Type]Driver
	onStep  func(kind, step string)
}

// Option configures New.
type Option func(*Manager) error

// WithRunner sets the tool runner (tests pass a *command.Replayer).
func WithRunner(r command.Runner) Option {
	return func(m *Manager) error {
		if r == nil {
			return fmt.Errorf("%w: nil runner", ErrInvalid)
		}
		m.run = r
		return nil
	}
}

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option {
	return func(m *Manager) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalid)
		}
		m.log = l
		return nil
	}
}

// WithRoot sets the directory under which /sys, /proc, /dev and /run are read.
func WithRoot(dir string) Option {
	return func(m *Manager) error {
		r, err := sysfs.New(dir)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		m.root = r
		return nil
	}
}

// WithJournal sets the safety journal the guarded operations write.
func WithJournal(j *safety.Journal) Option {
	return func(m *Manager) error {
		if j == nil {
			return fmt.Errorf("%w: nil journal", ErrInvalid)
		}
		m.journal = j
		return nil
	}
}

// WithStepHook calls f after each step an operation journals (kind is the
// journal's op kind, step the step's name), for progress displays and for
// the crash tests, which kill the process at every step.
func WithStepHook(f func(kind, step string)) Option {
	return func(m *Manager) error {
		if f == nil {
			return fmt.Errorf("%w: nil step hook", ErrInvalid)
		}
		m.onStep = f
		return nil
	}
}

// New returns a Manager.
func New(opts ...Option) (*Manager, error) {
	m := &Manager{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		if err := o(m); err != nil {
			return nil, err
		}
	}
	m.registerBuiltins()
	if m.run == nil {
		x, err := command.New(command.WithLogger(m.log))
		if err != nil {
			return nil, err
		}
		m.run = x
	}
	return m, nil
}
