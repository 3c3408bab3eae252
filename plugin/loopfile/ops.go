package loopfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/loopdev"
	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// CreateVolume plans a new volume (a clone when req.FromSnapshot is set).
// A volume of that name and size is already there: no operations. Of
// another size: ErrExists.
func (b *Backend) CreateVolume(ctx context.Context, req plugin.CreateRequest) ([]sched.Operation, error) {
	if req.Pool != "" && req.Pool != b.pool {
		return nil, fmt.Errorf("loopfile: pool %q: %w", req.Pool, plugin.ErrNotFound)
	}
	if err := validName(req.Name); err != nil {
		return nil, err
	}
	if err := checkSize(req.SizeBytes); err != nil {
		return nil, err
	}
	for _, tag := range req.Tags {
		if len(tag) > 256 {
			return nil, &plugin.InvalidError{Field: "tag", Value: tag[:32] + "...", Reason: "longer than 256 bytes"}
		}
	}
	size := roundUp(req.SizeBytes)
	var srcVol, srcSnap string
	if req.FromSnapshot != "" {
		var err error
		if srcVol, srcSnap, err = splitSnapshotID(b.pool, req.FromSnapshot); err != nil {
			return nil, err
		}
		s, err := readSidecar(b.snapMeta(srcVol, srcSnap))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("loopfile: snapshot %s: %w", req.FromSnapshot, plugin.ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
		if size < s.SizeBytes {
			return nil, &plugin.InvalidError{Field: "size", Value: fmt.Sprint(req.SizeBytes),
				Reason: fmt.Sprintf("smaller than the snapshot's %d bytes", s.SizeBytes)}
		}
	}
	if cur, err := readSidecar(b.volMeta(req.Name)); err == nil {
		if cur.SizeBytes == size && cur.SnapshotOf == req.FromSnapshot {
			return nil, nil
		}
		return nil, fmt.Errorf("loopfile: volume %s exists with %d bytes (asked %d, from %q): %w",
			b.volID(req.Name), cur.SizeBytes, size, req.FromSnapshot, plugin.ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := b.fits(size); err != nil {
		return nil, err
	}
	name := req.Name
	res := []sched.Resource{b.volKey(name).Exclusive()}
	if srcVol != "" {
		res = append(res, b.snapKey(srcVol, srcSnap).Shared())
	}
	op := sched.Operation{
		ID: "loopfile.create " + b.volID(name), Kind: "loopfile.create", Resources: res,
		Execute: func(ctx context.Context, _ sched.Progress) error {
			defer b.lock(name)()
			return b.create(ctx, name, size, req, srcVol, srcSnap)
		},
		Rollback: func(ctx context.Context) error {
			defer b.lock(name)()
			return b.remove(name)
		},
	}
	return []sched.Operation{op}, nil
}

func (b *Backend) create(ctx context.Context, name string, size int64, req plugin.CreateRequest, srcVol, srcSnap string) error {
	if cur, err := readSidecar(b.volMeta(name)); err == nil {
		if cur.SizeBytes != size || cur.SnapshotOf != req.FromSnapshot {
			return fmt.Errorf("loopfile: volume %s was made meanwhile with %d bytes: %w", b.volID(name), cur.SizeBytes, plugin.ErrExists)
		}
		_, err := loopdev.Attach(ctx, b.root, b.volFile(name)) // made by a racing create: the same volume
		return err
	}
	// A file without a sidecar is a create that crashed: nobody lists or
	// uses it. Detach it if it got that far, and start again.
	if d, err := loopdev.Find(b.root, b.volFile(name)); err == nil {
		if err := loopdev.Detach(b.root, d); err != nil {
			return err
		}
	}
	tmp := b.volFile(name) + ".tmp"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("loopfile: %w", err)
	}
	defer os.Remove(tmp) // gone once renamed
	if srcVol != "" {
		if err := b.copyFile(ctx, f, b.snapFile(srcVol, srcSnap)); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return fmt.Errorf("loopfile: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("loopfile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("loopfile: %w", err)
	}
	if err := os.Rename(tmp, b.volFile(name)); err != nil {
		return fmt.Errorf("loopfile: %w", err)
	}
	if err := writeSidecar(b.volMeta(name), &sidecar{Name: name, SizeBytes: size, Tags: req.Tags,
		SnapshotOf: req.FromSnapshot, Created: now()}); err != nil {
		os.Remove(b.volFile(name))
		return err
	}
	if _, err := loopdev.Attach(ctx, b.root, b.volFile(name)); err != nil {
		_ = b.remove(name)
		return err
	}
	b.log.Info("loopfile: volume created", "volume", b.volID(name), "bytes", size, "from", req.FromSnapshot)
	return nil
}

// remove detaches and deletes a volume: the sidecar first, so a crash
// midway leaves an unlisted file a later create replaces.
func (b *Backend) remove(name string) error {
	file := b.volFile(name)
	if d, err := loopdev.Find(b.root, file); err == nil {
		if err := loopdev.Detach(b.root, d); err != nil {
			if errors.Is(err, loopdev.ErrBusy) {
				return fmt.Errorf("loopfile: volume %s: %v: %w", b.volID(name), err, plugin.ErrInUse)
			}
			return err
		}
	} else if !errors.Is(err, loopdev.ErrNotAttached) && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(b.volMeta(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("loopfile: %w", err)
	}
	if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("loopfile: %w", err)
	}
	return syncDir(b.dir)
}

// copyFile copies src into dst: a reflink where the filesystem can, else
// the data extents only (SEEK_DATA/SEEK_HOLE), so the copy stays sparse.
func (b *Backend) copyFile(ctx context.Context, dst *os.File, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("loopfile: %w", err)
	}
	defer in.Close()
	if unix.IoctlFileClone(int(dst.Fd()), int(in.Fd())) == nil {
		return nil
	}
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("loopfile: %w", err)
	}
	size := st.Size()
	if err := dst.Truncate(size); err != nil {
		return fmt.Errorf("loopfile: %w", err)
	}
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, err := unix.Seek(int(in.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole is left
		}
		if err != nil {
			return fmt.Errorf("loopfile: SEEK_DATA: %w", err)
		}
		hole, err := unix.Seek(int(in.Fd()), data, unix.SEEK_HOLE)
		if err != nil {
			return fmt.Errorf("loopfile: SEEK_HOLE: %w", err)
		}
		if _, err := io.CopyBuffer(io.NewOffsetWriter(dst, data), io.NewSectionReader(in, data, hole-data), buf); err != nil {
			return fmt.Errorf("loopfile: copy: %w", err)
		}
		off = hole
	}
	return nil
}

// ResizeVolume plans a resize to newBytes (rounded up to a MiB). The same
// size: no operations.
func (b *Backend) ResizeVolume(ctx context.Context, id string, newBytes int64) ([]sched.Operation, error) {
	name, err := splitVolumeID(b.pool, id)
	if err != nil {
		return nil, err
	}
	if err := checkSize(newBytes); err != nil {
		return nil, err
	}
	size := roundUp(newBytes)
	cur, err := readSidecar(b.volMeta(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("loopfile: volume %s: %w", id, plugin.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if cur.SizeBytes == size {
		return nil, nil
	}
	if size > cur.SizeBytes {
		if err := b.fits(size); err != nil {
			return nil, err
		}
	}
	old := cur.SizeBytes
	set := func(ctx context.Context, to int64) error {
		defer b.lock(name)()
		s, err := readSidecar(b.volMeta(name))
		if err != nil {
			return err
		}
		if err := os.Truncate(b.volFile(name), to); err != nil {
			return fmt.Errorf("loopfile: %w", err)
		}
		if d, err := loopdev.Find(b.root, b.volFile(name)); err == nil {
			if err := loopdev.SetCapacity(b.root, d); err != nil {
				return err
			}
		}
		s.SizeBytes = to
		return writeSidecar(b.volMeta(name), s)
	}
	return []sched.Operation{{
		ID: "loopfile.resize " + id, Kind: "loopfile.resize", Resources: []sched.Resource{b.volKey(name).Exclusive()},
		Execute:  func(ctx context.Context, _ sched.Progress) error { return set(ctx, size) },
		Rollback: func(ctx context.Context) error { return set(ctx, old) },
	}}, nil
}

// DeleteVolume plans the deletion. No such volume: no operations. Its
// snapshots stay (they are files of their own).
func (b *Backend) DeleteVolume(ctx context.Context, id string) ([]sched.Operation, error) {
	name, err := splitVolumeID(b.pool, id)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(b.volMeta(name)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return []sched.Operation{{
		ID: "loopfile.delete " + id, Kind: "loopfile.delete", Resources: []sched.Resource{b.volKey(name).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			defer b.lock(name)()
			return b.remove(name)
		},
	}}, nil
}

// CreateSnapshot plans a snapshot of the volume. One of that name of that
// volume exists: no operations.
func (b *Backend) CreateSnapshot(ctx context.Context, volumeID, snap string) ([]sched.Operation, error) {
	vol, err := splitVolumeID(b.pool, volumeID)
	if err != nil {
		return nil, err
	}
	if err := validName(snap); err != nil {
		return nil, err
	}
	src, err := readSidecar(b.volMeta(vol))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("loopfile: volume %s: %w", volumeID, plugin.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	if _, err := readSidecar(b.snapMeta(vol, snap)); err == nil {
		return nil, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return []sched.Operation{{
		ID: "loopfile.snapshot " + b.snapID(vol, snap), Kind: "loopfile.snapshot",
		Resources: []sched.Resource{b.volKey(vol).Shared(), b.snapKey(vol, snap).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			defer b.lock(vol)()
			if _, err := readSidecar(b.snapMeta(vol, snap)); err == nil {
				return nil
			}
			tmp := b.snapFile(vol, snap) + ".tmp"
			f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC|unix.O_CLOEXEC, 0o600)
			if err != nil {
				return fmt.Errorf("loopfile: %w", err)
			}
			defer os.Remove(tmp)
			if err := b.copyFile(ctx, f, b.volFile(vol)); err != nil {
				f.Close()
				return err
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return fmt.Errorf("loopfile: %w", err)
			}
			f.Close()
			if err := os.Rename(tmp, b.snapFile(vol, snap)); err != nil {
				return fmt.Errorf("loopfile: %w", err)
			}
			return writeSidecar(b.snapMeta(vol, snap), &sidecar{Name: snap, Source: vol, SizeBytes: src.SizeBytes,
				Tags: slices.Clone(src.Tags), Created: now()})
		},
		Rollback: func(ctx context.Context) error {
			defer b.lock(vol)()
			return b.removeSnapshot(vol, snap)
		},
	}}, nil
}

func (b *Backend) removeSnapshot(vol, snap string) error {
	if err := os.Remove(b.snapMeta(vol, snap)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("loopfile: %w", err)
	}
	if err := os.Remove(b.snapFile(vol, snap)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("loopfile: %w", err)
	}
	return syncDir(b.dir)
}

// DeleteSnapshot plans the deletion of a snapshot. No such snapshot: no
// operations. Volumes cloned from it keep their data.
func (b *Backend) DeleteSnapshot(ctx context.Context, snapshotID string) ([]sched.Operation, error) {
	vol, snap, err := splitSnapshotID(b.pool, snapshotID)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(b.snapMeta(vol, snap)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return []sched.Operation{{
		ID: "loopfile.snapshot-delete " + snapshotID, Kind: "loopfile.snapshot-delete",
		Resources: []sched.Resource{b.snapKey(vol, snap).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			defer b.lock(vol)()
			return b.removeSnapshot(vol, snap)
		},
	}}, nil
}

var _ plugin.Backend = (*Backend)(nil)
