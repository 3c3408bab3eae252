package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"

	"golang.org/x/sys/unix"
)

// ErrConflict is returned when a device already holds something other
// than what was asked for (another filesystem type, another mount).
var ErrConflict = errors.New("storage: conflict with what is there")

func (e *Engine) run1(ctx context.Context, op sched.Operation, err error) error {
	if err != nil {
		return err
	}
	_, err = e.RunOps(ctx, []sched.Operation{op})
	return err
}

// EnsureFilesystem makes a filesystem of type t on dev unless one of that
// type is already there (kept as is: idempotent). Another type, or data
// preflight refuses, is an error; nothing is overwritten.
func (e *Engine) EnsureFilesystem(ctx context.Context, dev string, t fsys.Type, o fsys.MakeOptions) (*fsys.Info, error) {
	if dev == "" || t == "" {
		return nil, fmt.Errorf("%w: device and type are required", ErrInvalid)
	}
	if info, err := e.fs.Inspect(ctx, dev); err == nil {
		if fsys.Type(info.Type) == t {
			return info, nil
		}
		return nil, fmt.Errorf("%w: %s holds %s, not %s", ErrConflict, dev, info.Type, t)
	}
	if err := e.needJournal(); err != nil {
		return nil, err
	}
	op, err := e.fs.MakeOp(ctx, dev, t, o)
	if err := e.run1(ctx, op, err); err != nil {
		return nil, err
	}
	return e.fs.Inspect(ctx, dev)
}

// EnsureMounted mounts dev at target unless it is already mounted there.
func (e *Engine) EnsureMounted(ctx context.Context, dev, target string, t fsys.Type, o fsys.MountOptions) error {
	if dev == "" || target == "" {
		return fmt.Errorf("%w: device and target are required", ErrInvalid)
	}
	if info, err := e.fs.Inspect(ctx, dev); err == nil && slices.Contains(info.Mountpoints, target) {
		return nil
	}
	if err := e.needJournal(); err != nil {
		return err
	}
	op, err := e.fs.MountOp(ctx, dev, target, t, o)
	return e.run1(ctx, op, err)
}

// EnsureUnmounted unmounts target if anything is mounted there.
func (e *Engine) EnsureUnmounted(ctx context.Context, target string) error {
	if target == "" {
		return fmt.Errorf("%w: target is required", ErrInvalid)
	}
	src, fstype, ok, err := e.mountedAt(target)
	if err != nil || !ok {
		return err
	}
	if err := e.needJournal(); err != nil {
		return err
	}
	// A mount whose source is no block device (a device node bind-mounted
	// for a raw block volume shows "devtmpfs"; tmpfs, a bind of a
	// directory) has no device to lock or identify: it is unmounted as it
	// is, which changes no data.
	var st unix.Stat_t
	if err := unix.Stat(src, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return e.fs.Unmount(ctx, target, fsys.UnmountOptions{})
	}
	op, err := e.fs.UnmountOp(ctx, src, target, fsys.Type(fstype), fsys.MountOptions{}, fsys.UnmountOptions{})
	return e.run1(ctx, op, err)
}

// GrowFilesystem grows the filesystem on dev to fill the device, online
// when it is mounted.
func (e *Engine) GrowFilesystem(ctx context.Context, dev string) error {
	info, err := e.fs.Inspect(ctx, dev)
	if err != nil {
		return err
	}
	if info.DeviceBytes-info.SizeBytes < max(info.BlockSize, 1) {
		return nil // already fills the device, to the block
	}
	if err := e.needJournal(); err != nil {
		return err
	}
	op, _, err := e.fs.ResizeOp(ctx, dev, info.DeviceBytes)
	if err != nil {
		return err
	}
	return e.run1(ctx, op, nil)
}
