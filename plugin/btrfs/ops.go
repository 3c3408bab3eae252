package btrfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	fsbtrfs "github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

const xattrSize = "user.eos-storage.size"

func timeOf(ts unix.Timespec) time.Time { return time.Unix(ts.Sec, ts.Nsec).UTC() }

func roundUp(n int64) int64 { return (n + granularity - 1) / granularity * granularity }

func checkSize(n int64) error {
	if n <= 0 {
		return &plugin.InvalidError{Field: "size", Value: fmt.Sprint(n), Reason: "must be positive"}
	}
	return nil
}

// available refuses a mutation the machine cannot do, with the reason.
func (b *Backend) available(ctx context.Context, t plugin.Technology, m plugin.Mode) error {
	caps, err := b.Capabilities(ctx)
	if err != nil {
		return err
	}
	return plugin.Require(Name, caps, t, m)
}

// fits refuses a size beyond the whole filesystem.
func fits(f *fsbtrfs.FS, n int64) error {
	var st unix.Statfs_t
	if err := unix.Statfs(f.Mountpoint(), &st); err != nil {
		return fmt.Errorf("btrfs backend: %w", os.NewSyscallError("statfs", err))
	}
	if capacity := int64(st.Blocks) * st.Bsize; n > capacity {
		return fmt.Errorf("btrfs backend: %d bytes asked, the filesystem has %d: %w", n, capacity, plugin.ErrNoSpace)
	}
	return nil
}

// setLimit sets the referenced limit of the subvolume at path.
func setLimit(ctx context.Context, f *fsbtrfs.FS, path string, n int64) error {
	id, err := f.SubvolumeID(ctx, path)
	if err != nil {
		return err
	}
	return f.SetQgroupLimit(ctx, fsbtrfs.QgroupID(id), n, -1)
}

func (b *Backend) CreateVolume(ctx context.Context, req plugin.CreateRequest) ([]sched.Operation, error) {
	if req.Pool != "" && req.Pool != b.pool {
		return nil, fmt.Errorf("btrfs backend: pool %q: %w", req.Pool, plugin.ErrNotFound)
	}
	if err := validName(req.Name); err != nil {
		return nil, err
	}
	if err := checkSize(req.SizeBytes); err != nil {
		return nil, err
	}
	tech := plugin.TechVolume
	var srcVol, srcSnap string
	if req.FromSnapshot != "" {
		tech = plugin.TechClone
		var err error
		if srcVol, srcSnap, err = b.splitSnapshotID(req.FromSnapshot); err != nil {
			return nil, err
		}
	}
	if err := b.available(ctx, tech, plugin.ModeCreate); err != nil {
		return nil, err
	}
	if srcVol != "" && !isSubvolume(b.snapPath(srcVol, srcSnap)) {
		return nil, fmt.Errorf("btrfs backend: snapshot %s: %w", req.FromSnapshot, plugin.ErrNotFound)
	}
	size := roundUp(req.SizeBytes)
	if cur, err := b.Volume(ctx, b.volID(req.Name)); err == nil {
		if cur.SizeBytes == size && cur.SnapshotOf == req.FromSnapshot {
			return nil, nil
		}
		return nil, fmt.Errorf("btrfs backend: volume %s exists with %d bytes: %w", cur.ID, cur.SizeBytes, plugin.ErrExists)
	} else if !errors.Is(err, plugin.ErrNotFound) {
		return nil, err
	}
	f, err := b.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := fits(f, size); err != nil {
		return nil, err
	}
	name, path := req.Name, b.volPath(req.Name)
	res := []sched.Resource{b.key(f, name).Exclusive()}
	if srcVol != "" {
		res = append(res, b.key(f, srcVol).Shared())
	}
	op := sched.Operation{ID: "btrfs.volume.create " + b.volID(name), Kind: "btrfs.volume.create", Resources: res,
		Execute: func(ctx context.Context, _ sched.Progress) error {
			f, err := b.open()
			if err != nil {
				return err
			}
			defer f.Close()
			if err := os.MkdirAll(b.dir, 0o755); err != nil {
				return fmt.Errorf("btrfs backend: %w", err)
			}
			if srcVol != "" {
				err = f.Snapshot(ctx, b.snapPath(srcVol, srcSnap), path, false)
			} else {
				err = f.CreateSubvolume(ctx, path)
			}
			if err != nil {
				if errors.Is(err, os.ErrExist) || errors.Is(err, unix.EEXIST) {
					return fmt.Errorf("btrfs backend: %s appeared meanwhile: %w", path, plugin.ErrExists)
				}
				return err
			}
			undo := func(cause error) error {
				return errors.Join(cause, f.DeleteSubvolume(context.WithoutCancel(ctx), path))
			}
			if err := setLimit(ctx, f, path, size); err != nil {
				return undo(err)
			}
			if req.FromSnapshot != "" {
				if err := unix.Setxattr(path, xattrFrom, []byte(req.FromSnapshot), 0); err != nil {
					return undo(fmt.Errorf("btrfs backend: %w", err))
				}
			} else {
				_ = unix.Removexattr(path, xattrFrom)
			}
			_ = unix.Removexattr(path, xattrSize) // a clone's, inherited from its snapshot
			if len(req.Tags) > 0 {
				if err := unix.Setxattr(path, xattrTags, []byte(strings.Join(req.Tags, "\n")), 0); err != nil {
					return undo(fmt.Errorf("btrfs backend: %w", err))
				}
			}
			b.log.Info("btrfs backend: volume created", "volume", b.volID(name), "bytes", size, "from", req.FromSnapshot)
			return nil
		},
		Rollback: func(ctx context.Context) error { return b.deleteNow(ctx, name) },
	}
	return []sched.Operation{op}, nil
}

func (b *Backend) deleteNow(ctx context.Context, name string) error {
	path := b.volPath(name)
	if !isSubvolume(path) {
		return nil
	}
	f, err := b.open()
	if err != nil {
		return err
	}
	defer f.Close()
	err = f.DeleteSubvolume(ctx, path)
	var re *fsbtrfs.RefusedError
	if errors.As(err, &re) {
		return fmt.Errorf("btrfs backend: %v: %w", err, plugin.ErrInUse)
	}
	return err
}

func (b *Backend) ResizeVolume(ctx context.Context, id string, newBytes int64) ([]sched.Operation, error) {
	name, err := b.splitVolumeID(id)
	if err != nil {
		return nil, err
	}
	if err := checkSize(newBytes); err != nil {
		return nil, err
	}
	cur, err := b.Volume(ctx, id)
	if err != nil {
		return nil, err
	}
	size := roundUp(newBytes)
	if size == cur.SizeBytes {
		return nil, nil
	}
	tech := plugin.TechVolume
	if size < cur.SizeBytes {
		tech = plugin.TechShrink
		if cur.UsedBytes > size {
			return nil, fmt.Errorf("btrfs backend: volume %s holds %d bytes, more than %d: %w", id, cur.UsedBytes, size, plugin.ErrInUse)
		}
	}
	if err := b.available(ctx, tech, plugin.ModeModify); err != nil {
		return nil, err
	}
	f, err := b.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := fits(f, size); err != nil {
		return nil, err
	}
	old, path := cur.SizeBytes, b.volPath(name)
	set := func(ctx context.Context, n int64) error {
		f, err := b.open()
		if err != nil {
			return err
		}
		defer f.Close()
		return setLimit(ctx, f, path, n)
	}
	return []sched.Operation{{ID: "btrfs.volume.resize " + id, Kind: "btrfs.volume.resize",
		Resources: []sched.Resource{b.key(f, name).Exclusive()},
		Execute:   func(ctx context.Context, _ sched.Progress) error { return set(ctx, size) },
		Rollback:  func(ctx context.Context) error { return set(ctx, old) }}}, nil
}

func (b *Backend) DeleteVolume(ctx context.Context, id string) ([]sched.Operation, error) {
	name, err := b.splitVolumeID(id)
	if err != nil {
		return nil, err
	}
	if !isSubvolume(b.volPath(name)) {
		return nil, nil
	}
	f, err := b.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return []sched.Operation{{ID: "btrfs.volume.delete " + id, Kind: "btrfs.volume.delete",
		Resources: []sched.Resource{b.key(f, name).Exclusive()},
		Execute:   func(ctx context.Context, _ sched.Progress) error { return b.deleteNow(ctx, name) }}}, nil
}

func (b *Backend) CreateSnapshot(ctx context.Context, volumeID, snap string) ([]sched.Operation, error) {
	vol, err := b.splitVolumeID(volumeID)
	if err != nil {
		return nil, err
	}
	if err := validName(snap); err != nil {
		return nil, err
	}
	if err := b.available(ctx, plugin.TechSnapshot, plugin.ModeCreate); err != nil {
		return nil, err
	}
	cur, err := b.Volume(ctx, volumeID)
	if err != nil {
		return nil, err
	}
	dst := b.snapPath(vol, snap)
	if isSubvolume(dst) {
		return nil, nil
	}
	f, err := b.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	snapKey := b.key(f, vol).Child("snapshot", snap)
	return []sched.Operation{{ID: "btrfs.snapshot " + b.snapID(vol, snap), Kind: "btrfs.snapshot",
		Resources: []sched.Resource{b.key(f, vol).Shared(), snapKey.Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			f, err := b.open()
			if err != nil {
				return err
			}
			defer f.Close()
			if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
				return fmt.Errorf("btrfs backend: %w", err)
			}
			// Writable first, to record the size it was taken at, then
			// read-only: a read-only subvolume takes no xattr.
			if err := f.Snapshot(ctx, b.volPath(vol), dst, false); err != nil {
				return err
			}
			err = unix.Setxattr(dst, xattrSize, []byte(strconv.FormatInt(cur.SizeBytes, 10)), 0)
			if err == nil {
				err = f.SetReadOnly(ctx, dst, true)
			}
			if err != nil {
				return errors.Join(err, f.DeleteSubvolume(context.WithoutCancel(ctx), dst))
			}
			return nil
		},
		Rollback: func(ctx context.Context) error { return b.deleteSnapNow(ctx, dst) },
	}}, nil
}

func (b *Backend) deleteSnapNow(ctx context.Context, path string) error {
	if !isSubvolume(path) {
		return nil
	}
	f, err := b.open()
	if err != nil {
		return err
	}
	defer f.Close()
	return f.DeleteSubvolume(ctx, path)
}

func (b *Backend) DeleteSnapshot(ctx context.Context, snapshotID string) ([]sched.Operation, error) {
	vol, snap, err := b.splitSnapshotID(snapshotID)
	if err != nil {
		return nil, err
	}
	path := b.snapPath(vol, snap)
	if !isSubvolume(path) {
		return nil, nil
	}
	f, err := b.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return []sched.Operation{{ID: "btrfs.snapshot.delete " + snapshotID, Kind: "btrfs.snapshot.delete",
		Resources: []sched.Resource{b.key(f, vol).Child("snapshot", snap).Exclusive()},
		Execute:   func(ctx context.Context, _ sched.Progress) error { return b.deleteSnapNow(ctx, path) }}}, nil
}
