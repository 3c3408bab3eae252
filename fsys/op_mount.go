package fsys

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// MountOp returns the operation that mounts source at target, and whose
// rollback unmounts it. It holds the filesystem shared (others may mount it
// elsewhere or read it) and the mountpoint exclusively. A mount writes no
// bytes fsys could restore (a journal replay is the filesystem's own), so
// it is not journaled; the plan's events record it.
func (m *Manager) MountOp(ctx context.Context, source, target string, t Type, o MountOptions, opts ...OpOption) (sched.Operation, error) {
	c := &opConfig{}
	for _, f := range opts {
		if err := f(c); err != nil {
			return sched.Operation{}, err
		}
	}
	if !filepath.IsAbs(target) {
		return sched.Operation{}, fmt.Errorf("%w: mountpoint %q is not absolute", ErrInvalid, target)
	}
	key, err := m.targetKey(source, c)
	if err != nil {
		return sched.Operation{}, err
	}
	target = filepath.Clean(target)
	return sched.Operation{
		ID: idOr(c, "fsys.mount "+target), Kind: "fsys.mount", Priority: c.priority, Dependencies: c.deps,
		Resources: []sched.Resource{key.Filesystem().Shared(), sched.MountPath(target).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			return m.Mount(ctx, source, target, t, o)
		},
		Rollback: func(ctx context.Context) error {
			return m.Unmount(ctx, target, UnmountOptions{})
		},
	}, nil
}

// UnmountOp returns the operation that unmounts target (the mount of
// source). Its rollback mounts it again with o.
func (m *Manager) UnmountOp(ctx context.Context, source, target string, t Type, mo MountOptions, uo UnmountOptions, opts ...OpOption) (sched.Operation, error) {
	c := &opConfig{}
	for _, f := range opts {
		if err := f(c); err != nil {
			return sched.Operation{}, err
		}
	}
	key, err := m.targetKey(source, c)
	if err != nil {
		return sched.Operation{}, err
	}
	target = filepath.Clean(target)
	return sched.Operation{
		ID: idOr(c, "fsys.unmount "+target), Kind: "fsys.unmount", Priority: c.priority, Dependencies: c.deps,
		Resources: []sched.Resource{key.Filesystem().Shared(), sched.MountPath(target).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			return m.Unmount(ctx, target, uo)
		},
		Rollback: func(ctx context.Context) error {
			return m.Mount(ctx, source, target, t, mo)
		},
	}, nil
}
