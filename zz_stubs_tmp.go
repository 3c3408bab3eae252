package storage

// TEMPORARY: the Engine surface the orchestrators (csi, examples/nomad-volume)
// code against; the Engine work implements it (engine*.go) and deletes this
// file.

import (
	"context"
	"errors"
	"log/slog"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

var errStub = errors.New("storage: not implemented yet (stub)")

// Engine composes every package behind one facade.
type Engine struct{}

// Option configures New; options are validated once.
type Option func(*Engine) error

func New(opts ...Option) (*Engine, error)     { return nil, errStub }
func WithRoot(dir string) Option              { return nil }
func WithLogger(l *slog.Logger) Option        { return nil }
func WithJournal(j *safety.Journal) Option    { return nil }
func WithScheduler(s *sched.Scheduler) Option { return nil }
func WithBackends(r *plugin.Registry) Option  { return nil }
func (e *Engine) Close() error                { return errStub }
func (e *Engine) Backends() *plugin.Registry  { return nil }
func (e *Engine) Filesystems() *fsys.Manager  { return nil }

// RunOps runs operations (a backend call's answer) through the Engine's
// scheduler under its journal.
func (e *Engine) RunOps(ctx context.Context, ops []sched.Operation) (*sched.Report, error) {
	return nil, errStub
}

// EnsureFilesystem makes a filesystem of type t on dev unless one of that
// type is already there (kept as is: idempotent). Another type, or data
// preflight refuses, is an error; nothing is overwritten.
func (e *Engine) EnsureFilesystem(ctx context.Context, dev string, t fsys.Type, o fsys.MakeOptions) (*fsys.Info, error) {
	return nil, errStub
}

// EnsureMounted mounts dev at target unless it is already mounted there.
func (e *Engine) EnsureMounted(ctx context.Context, dev, target string, t fsys.Type, o fsys.MountOptions) error {
	return errStub
}

// EnsureUnmounted unmounts target if anything is mounted there.
func (e *Engine) EnsureUnmounted(ctx context.Context, target string) error { return errStub }

// GrowFilesystem grows the filesystem on dev to fill the device, online
// when it is mounted.
func (e *Engine) GrowFilesystem(ctx context.Context, dev string) error { return errStub }
