package btrfs

import (
	"context"
	"errors"
	"fmt"

	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Operation kinds, for events and the journal.
const (
	OpScrub           = "btrfs.scrub"
	OpBalance         = "btrfs.balance"
	OpSubvolumeCreate = "btrfs.subvolume.create"
	OpSubvolumeDelete = "btrfs.subvolume.delete"
	OpSnapshot        = "btrfs.snapshot"
	OpDeviceAdd       = "btrfs.device.add"
	OpDeviceRemove    = "btrfs.device.remove"
	OpResize          = "btrfs.resize"
)

// Resources: the jobs that move chunks or change the device set (balance,
// scrub, device add/remove, resize) claim FilesystemKey(fsid)
// exclusively. Subvolume changes claim their paths under SubvolumesKey,
// a tree of its own: the kernel runs them beside a balance, and two of
// them at different paths beside each other (a shared claim on the
// filesystem key would keep out any exclusive claim below it).
func subvolKey(fs sched.Key, path string) sched.Key { return fs.Child("subvol", path) }

// SubvolumesKey is the root of the subvolume paths' keys of the btrfs
// filesystem fsid.
func SubvolumesKey(fsid string) sched.Key { return sched.Root("btrfs-subvolumes", fsid) }

// subvolRoot opens mountpoint just long enough to read its fsid.
func subvolRoot(mountpoint string) (sched.Key, error) {
	f, err := Open(mountpoint)
	if err != nil {
		return sched.Key{}, err
	}
	defer f.Close()
	return SubvolumesKey(f.fsid.String()), nil
}

// fsKeyOf opens mountpoint just long enough to read its fsid.
func fsKeyOf(mountpoint string) (sched.Key, error) {
	f, err := Open(mountpoint)
	if err != nil {
		return sched.Key{}, err
	}
	defer f.Close()
	return f.Key(), nil
}

// withFS runs fn on the filesystem opened for one attempt.
func withFS(mountpoint string, fn func(f *FS) error) error {
	f, err := Open(mountpoint)
	if err != nil {
		return err
	}
	defer f.Close()
	return fn(f)
}

func op(kind, mountpoint, what string, res []sched.Resource, exec func(ctx context.Context, progress sched.Progress) error) sched.Operation {
	return sched.Operation{ID: kind + " " + mountpoint + what, Kind: kind, Resources: res, Execute: exec}
}

// ScrubOp is a scrub of the filesystem at mountpoint as a scheduler
// operation: progress is bytes scrubbed of bytes allocated, and the
// kernel's scrub is cancelled when the plan's context ends.
func ScrubOp(mountpoint string, o ScrubOptions) (sched.Operation, error) {
	key, err := fsKeyOf(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	return op(OpScrub, mountpoint, "", []sched.Resource{key.Exclusive()}, func(ctx context.Context, progress sched.Progress) error {
		return withFS(mountpoint, func(f *FS) error {
			st, err := f.Scrub(ctx, o, func(s ScrubStatus) {
				if progress != nil {
					progress(s.Done(), s.Total(), "scrub")
				}
			})
			if err != nil {
				return err
			}
			if n := st.Totals().UncorrectableErrors; n > 0 {
				return fmt.Errorf("btrfs: scrub of %s: %d uncorrectable errors", mountpoint, n)
			}
			return nil
		})
	}), nil
}

// BalanceOp is a balance as a scheduler operation: progress is chunks
// completed of chunks expected; the kernel's balance is cancelled when the
// plan's context ends. A pause from elsewhere fails it with
// ErrBalancePaused.
func BalanceOp(mountpoint string, o BalanceOptions) (sched.Operation, error) {
	if _, err := o.ioctlArgs(); err != nil {
		return sched.Operation{}, err
	}
	key, err := fsKeyOf(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	return op(OpBalance, mountpoint, "", []sched.Resource{key.Exclusive()}, func(ctx context.Context, progress sched.Progress) error {
		return withFS(mountpoint, func(f *FS) error {
			_, err := f.Balance(ctx, o, func(s BalanceStatus) {
				if progress != nil {
					progress(int64(s.Completed), int64(s.Expected), "balance "+s.State())
				}
			})
			return err
		})
	}), nil
}

// SubvolumeCreateOp creates a subvolume; its rollback deletes it again.
func SubvolumeCreateOp(mountpoint, path string) (sched.Operation, error) {
	key, err := subvolRoot(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	o := op(OpSubvolumeCreate, mountpoint, " "+path, []sched.Resource{subvolKey(key, path).Exclusive()},
		func(ctx context.Context, _ sched.Progress) error {
			return withFS(mountpoint, func(f *FS) error { return f.CreateSubvolume(ctx, path) })
		})
	o.Rollback = func(ctx context.Context) error {
		return withFS(mountpoint, func(f *FS) error { return f.DeleteSubvolume(ctx, path) })
	}
	return o, nil
}

// SnapshotOp snapshots src to dst; its rollback deletes the snapshot.
func SnapshotOp(mountpoint, src, dst string, readonly bool) (sched.Operation, error) {
	key, err := subvolRoot(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	o := op(OpSnapshot, mountpoint, " "+dst, []sched.Resource{subvolKey(key, src).Shared(), subvolKey(key, dst).Exclusive()},
		func(ctx context.Context, _ sched.Progress) error {
			return withFS(mountpoint, func(f *FS) error { return f.Snapshot(ctx, src, dst, readonly) })
		})
	o.Rollback = func(ctx context.Context) error {
		return withFS(mountpoint, func(f *FS) error { return f.DeleteSubvolume(ctx, dst) })
	}
	return o, nil
}

// SubvolumeDeleteOp deletes the subvolume at path with DeleteSubvolume's
// refusals (checked again at each attempt). A delete cannot be undone.
func SubvolumeDeleteOp(mountpoint, path string, opts ...Option) (sched.Operation, error) {
	if _, err := newOptions(opts); err != nil {
		return sched.Operation{}, err
	}
	key, err := subvolRoot(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	return op(OpSubvolumeDelete, mountpoint, " "+path, []sched.Resource{subvolKey(key, path).Exclusive()},
		func(ctx context.Context, _ sched.Progress) error {
			return withFS(mountpoint, func(f *FS) error { return f.DeleteSubvolume(ctx, path, opts...) })
		}), nil
}

// DeviceAddOp adds the block device dev. Its rollback removes it again
// (relocating whatever was allocated on it meanwhile).
func DeviceAddOp(mountpoint, dev string) (sched.Operation, error) {
	key, err := fsKeyOf(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	var added uint64
	o := op(OpDeviceAdd, mountpoint, " "+dev, []sched.Resource{key.Exclusive()}, func(ctx context.Context, _ sched.Progress) error {
		return withFS(mountpoint, func(f *FS) error {
			before, err := f.Devices(ctx)
			if err != nil {
				return err
			}
			if err := f.AddDevice(ctx, dev); err != nil {
				return err
			}
			after, err := f.Devices(context.WithoutCancel(ctx))
			if err != nil {
				return err
			}
			old := map[uint64]bool{}
			for _, d := range before {
				old[d.Devid] = true
			}
			for _, d := range after {
				if !old[d.Devid] {
					added = d.Devid
				}
			}
			return nil
		})
	})
	o.Rollback = func(ctx context.Context) error {
		if added == 0 {
			return errors.New("btrfs: the added device's id is unknown")
		}
		return withFS(mountpoint, func(f *FS) error { return f.RemoveDevice(ctx, added) })
	}
	return o, nil
}

// DeviceRemoveOp removes device devid (refused as RemoveDevice refuses).
func DeviceRemoveOp(mountpoint string, devid uint64) (sched.Operation, error) {
	key, err := fsKeyOf(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	return op(OpDeviceRemove, mountpoint, fmt.Sprintf(" %d", devid), []sched.Resource{key.Exclusive()}, func(ctx context.Context, _ sched.Progress) error {
		return withFS(mountpoint, func(f *FS) error { return f.RemoveDevice(ctx, devid) })
	}), nil
}

// ResizeOp resizes device devid to size bytes (0: the whole device); devid
// 0 resizes every device. It claims the same key as fsys's ResizeOp of a
// btrfs member, and as a balance, so none of them overlap.
func ResizeOp(mountpoint string, devid uint64, size int64) (sched.Operation, error) {
	if size < 0 {
		return sched.Operation{}, fmt.Errorf("%w: size %d", ErrInvalid, size)
	}
	key, err := fsKeyOf(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	return op(OpResize, mountpoint, fmt.Sprintf(" %d", devid), []sched.Resource{key.Exclusive()}, func(ctx context.Context, _ sched.Progress) error {
		return withFS(mountpoint, func(f *FS) error {
			if devid == 0 {
				return f.ResizeAll(ctx, size)
			}
			return f.Resize(ctx, devid, size)
		})
	}), nil
}
