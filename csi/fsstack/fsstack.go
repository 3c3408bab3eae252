// Package fsstack is the csi.Stack the example binaries and the csi tests
// run on while the storage Engine is not merged: fsys (journaled) and sched
// directly, with the Engine's documented semantics for the ensure-calls
// (idempotent, nothing overwritten). It goes away when the binaries switch
// to *storage.Engine.
package fsstack

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Stack implements csi.Stack.
type Stack struct {
	fs      *fsys.Manager
	sched   *sched.Scheduler
	journal *safety.Journal
}

// New journals under stateDir.
func New(stateDir string) (*Stack, error) {
	j, err := safety.OpenJournal(context.Background(), append(fsys.RollForward(), safety.WithStateDir(stateDir))...)
	if err != nil {
		return nil, err
	}
	m, err := fsys.New(fsys.WithJournal(j))
	if err != nil {
		j.Close()
		return nil, err
	}
	s, err := sched.New()
	if err != nil {
		j.Close()
		return nil, err
	}
	return &Stack{fs: m, sched: s, journal: j}, nil
}

func (s *Stack) RunOps(ctx context.Context, ops []sched.Operation) (*sched.Report, error) {
	if len(ops) == 0 {
		return &sched.Report{}, nil
	}
	return s.sched.Run(ctx, sched.NewPlan(ops...))
}

func (s *Stack) EnsureFilesystem(ctx context.Context, dev string, t fsys.Type, o fsys.MakeOptions) (*fsys.Info, error) {
	info, err := s.fs.Inspect(ctx, dev)
	if err == nil {
		if fsys.Type(info.Type) != t {
			return nil, fmt.Errorf("%s holds %s, not %s: %w", dev, info.Type, t, fsys.ErrRefused)
		}
		return info, nil
	}
	if !errors.Is(err, fsys.ErrUnknownFilesystem) {
		return nil, err
	}
	op, err := s.fs.MakeOp(ctx, dev, t, o)
	if err != nil {
		return nil, err
	}
	if _, err := s.RunOps(ctx, []sched.Operation{op}); err != nil {
		return nil, err
	}
	return s.fs.Inspect(ctx, dev)
}

func (s *Stack) EnsureMounted(ctx context.Context, dev, target string, t fsys.Type, o fsys.MountOptions) error {
	err := s.fs.Mount(ctx, dev, target, t, o)
	return err
}

func (s *Stack) EnsureUnmounted(ctx context.Context, target string) error {
	err := s.fs.Unmount(ctx, target, fsys.UnmountOptions{})
	if errors.Is(err, fsys.ErrNotMounted) {
		return nil
	}
	return err
}

func (s *Stack) GrowFilesystem(ctx context.Context, dev string) error {
	f, err := os.Open(dev)
	if err != nil {
		return err
	}
	size, err := f.Seek(0, 2)
	f.Close()
	if err != nil {
		return err
	}
	// fsys plans a resize to the current size as offline (no mountpoint in
	// the plan), and preflight then refuses the mounted device: a grow that
	// has nothing to do must not reach Resize.
	plan, _, err := s.fs.PlanResize(ctx, dev, size)
	if err != nil {
		return err
	}
	if plan.To == plan.From {
		return nil
	}
	_, err = s.fs.Resize(ctx, dev, size, nil)
	return err
}

// Close closes the journal.
func (s *Stack) Close() error { return s.journal.Close() }
