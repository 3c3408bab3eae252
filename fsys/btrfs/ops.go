package btrfs

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
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
// A path's key nests by component ("a/b" lies below "a"), so a change of a
// subvolume and one of a path inside it conflict.
func subvolKey(fs sched.Key, path string) sched.Key {
	k := fs
	for _, part := range strings.Split(filepath.Clean(path), "/") {
		if part != "" && part != "." {
			k = k.Child("subvol", part)
		}
	}
	return k
}

// relTo names path relative to mountpoint when it lies inside it, so one
// subvolume has one key however it was spelled.
func relTo(mountpoint, path string) string {
	if !filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	if r, err := filepath.Rel(mountpoint, path); err == nil && r != ".." && !strings.HasPrefix(r, "../") {
		return r
	}
	return filepath.Clean(path)
}

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

// journaled builds the operation of mutation kind on the filesystem at
// mountpoint: the device the journal names is the new device for an add
// (preflighted as a format: the kernel writes over it) and the first
// member otherwise.
func journaled(kind, mountpoint, what string, res []sched.Resource, p opParams, opts []OpOption, description string) (sched.Operation, error) {
	c, err := newOpConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	target, fsid, err := firstDevice(context.Background(), mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	p.Mountpoint, p.FSID = mountpoint, fsid
	for _, o := range c.opts {
		oo, _ := newOptions([]Option{o})
		for code := range oo.overrides {
			p.Overrides = append(p.Overrides, code)
		}
	}
	m, err := mutationOf(kind, p)
	if err != nil {
		return sched.Operation{}, err
	}
	m.target = target
	if kind == OpDeviceAdd {
		m.target, m.pre = p.Dev, safety.OpFormat
	}
	return m.guard(sched.Operation{ID: kind + " " + mountpoint + what, Kind: kind, Resources: res}, c, description)
}

// SubvolumeCreateOp creates a subvolume; its rollback deletes it again.
// WithJournal makes it a journaled safety.Guard mutation.
func SubvolumeCreateOp(mountpoint, path string, opts ...OpOption) (sched.Operation, error) {
	key, err := subvolRoot(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	return journaled(OpSubvolumeCreate, mountpoint, " "+path, []sched.Resource{subvolKey(key, relTo(mountpoint, path)).Exclusive()},
		opParams{Path: path}, opts, fmt.Sprintf("create btrfs subvolume %s on %s", path, mountpoint))
}

// SnapshotOp snapshots src to dst; its rollback deletes the snapshot.
func SnapshotOp(mountpoint, src, dst string, readonly bool, opts ...OpOption) (sched.Operation, error) {
	key, err := subvolRoot(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	return journaled(OpSnapshot, mountpoint, " "+dst, []sched.Resource{subvolKey(key, relTo(mountpoint, src)).Shared(), subvolKey(key, relTo(mountpoint, dst)).Exclusive()},
		opParams{Path: dst, Src: src, ReadOnly: readonly}, opts, fmt.Sprintf("snapshot %s to %s on %s (read-only %v)", src, dst, mountpoint, readonly))
}

// SubvolumeDeleteOp deletes the subvolume at path with DeleteSubvolume's
// refusals (checked again at each attempt; WithOptions(WithOverride(...))
// lets them through). A delete cannot be undone: the operation has no
// rollback.
func SubvolumeDeleteOp(mountpoint, path string, opts ...OpOption) (sched.Operation, error) {
	key, err := subvolRoot(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	return journaled(OpSubvolumeDelete, mountpoint, " "+path, []sched.Resource{subvolKey(key, relTo(mountpoint, path)).Exclusive()},
		opParams{Path: path}, opts, fmt.Sprintf("delete btrfs subvolume %s on %s", path, mountpoint))
}

// DeviceAddOp adds the block device dev. Its rollback removes it again
// (relocating whatever was allocated on it meanwhile).
func DeviceAddOp(mountpoint, dev string, opts ...OpOption) (sched.Operation, error) {
	key, err := fsKeyOf(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	return journaled(OpDeviceAdd, mountpoint, " "+dev, []sched.Resource{key.Exclusive()},
		opParams{Dev: dev}, opts, fmt.Sprintf("add %s to the btrfs at %s", dev, mountpoint))
}

// DeviceRemoveOp removes device devid (refused as RemoveDevice refuses).
// It cannot be undone by the operation: it has no rollback.
func DeviceRemoveOp(mountpoint string, devid uint64, opts ...OpOption) (sched.Operation, error) {
	key, err := fsKeyOf(mountpoint)
	if err != nil {
		return sched.Operation{}, err
	}
	return journaled(OpDeviceRemove, mountpoint, fmt.Sprintf(" %d", devid), []sched.Resource{key.Exclusive()},
		opParams{Devid: devid}, opts, fmt.Sprintf("remove device %d from the btrfs at %s", devid, mountpoint))
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
