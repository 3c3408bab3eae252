package loopfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/CodeMonkeyCybersecurity/eos-storage/plugin"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

func sleepCtx(ctx context.Context) error {
	t := time.NewTimer(2 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func roundUp(n int64) int64 { return (n + granularity - 1) / granularity * granularity }

func checkSize(n int64) error {
	if n <= 0 {
		return &plugin.InvalidError{Field: "size", Value: fmt.Sprint(n), Reason: "not positive"}
	}
	if n > 1<<60 {
		return &plugin.InvalidError{Field: "size", Value: fmt.Sprint(n), Reason: "larger than 1 EiB"}
	}
	return nil
}

func (b *Backend) free() (int64, error) {
	p, err := b.Pools(context.Background())
	if err != nil {
		return 0, err
	}
	return p[0].FreeBytes, nil
}

// CreateVolume implements plugin.Backend: a sparse image, its sidecar and a
// loop device. Repeating a create that holds (same size, same source)
// returns at most an attach; a different size is ErrExists.
func (b *Backend) CreateVolume(ctx context.Context, req plugin.CreateRequest) ([]sched.Operation, error) {
	if req.Pool != "" && req.Pool != b.pool {
		return nil, fmt.Errorf("pool %q: %w", req.Pool, plugin.ErrNotFound)
	}
	if err := checkName("volume name", req.Name); err != nil {
		return nil, err
	}
	if err := checkSize(req.SizeBytes); err != nil {
		return nil, err
	}
	if err := checkTags(req.Tags); err != nil {
		return nil, err
	}
	if req.Thin {
		caps, _ := b.Capabilities(ctx)
		return nil, plugin.Require(BackendName, caps, plugin.TechThin, plugin.ModeCreate)
	}
	size := roundUp(req.SizeBytes)
	var srcVol, srcSnap string
	if req.FromSnapshot != "" {
		var err error
		if srcVol, srcSnap, err = b.splitSnapshotID(req.FromSnapshot); err != nil {
			return nil, err
		}
		s, err := b.snapshot(srcVol, srcSnap)
		if err != nil {
			return nil, err
		}
		if size < s.Size {
			return nil, &plugin.InvalidError{Field: "size", Value: fmt.Sprint(req.SizeBytes), Reason: fmt.Sprintf("smaller than the snapshot's %d bytes", s.Size)}
		}
	}
	if v, err := b.volume(req.Name); err == nil {
		if v.SizeBytes != size || v.SnapshotOf != req.FromSnapshot {
			return nil, fmt.Errorf("volume %s (%d bytes, from %q): %w", v.ID, v.SizeBytes, v.SnapshotOf, plugin.ErrExists)
		}
		if v.Device != "" {
			return nil, nil
		}
		return b.EnsureAttached(ctx, v.ID)
	} else if !errors.Is(err, plugin.ErrNotFound) {
		return nil, err
	}
	free, err := b.free()
	if err != nil {
		return nil, err
	}
	if size > free {
		return nil, fmt.Errorf("volume %s: %d bytes, %d free: %w", req.Name, size, free, plugin.ErrNoSpace)
	}
	name := req.Name
	res := []sched.Resource{b.volKey(name).Exclusive()}
	if srcVol != "" {
		res = append(res, b.volKey(srcVol).Child("snapshot", srcSnap).Shared())
	}
	made := false
	op := sched.Operation{
		ID:        "loopfile.create:" + name,
		Kind:      "loopfile.create",
		Resources: res,
		Execute: func(ctx context.Context, _ sched.Progress) error {
			unlock, err := b.lock(ctx)
			if err != nil {
				return err
			}
			defer unlock()
			made, err = b.create(name, size, req, srcVol, srcSnap)
			return err
		},
		Rollback: func(ctx context.Context) error {
			if !made {
				return nil
			}
			unlock, err := b.lock(ctx)
			if err != nil {
				return err
			}
			defer unlock()
			return b.remove(name)
		},
	}
	return []sched.Operation{op}, nil
}

// create runs under the lock. It reports whether it made the volume (false
// when another process made the same one meanwhile). A failure removes
// whatever it had made.
func (b *Backend) create(name string, size int64, req plugin.CreateRequest, srcVol, srcSnap string) (made bool, err error) {
	if v, err := b.volume(name); err == nil {
		if v.SizeBytes != size || v.SnapshotOf != req.FromSnapshot {
			return false, fmt.Errorf("volume %s: %w", v.ID, plugin.ErrExists)
		}
		if v.Device == "" {
			_, err = b.attach(b.imgPath(name))
		}
		return false, err
	}
	img := b.imgPath(name)
	// An image without a sidecar is a create that crashed before its commit
	// point: nothing references it.
	if _, err := os.Stat(img); err == nil {
		if ld, _ := b.findLoop(img); ld != nil {
			if err := detach(ld.Path); err != nil {
				return false, err
			}
		}
		if err := os.Remove(img); err != nil {
			return false, err
		}
	}
	defer func() {
		if err != nil {
			if ld, _ := b.findLoop(img); ld != nil {
				detach(ld.Path)
			}
			os.Remove(b.metaPath(name))
			os.Remove(img)
		}
	}()
	sc := &Sidecar{Name: name, SizeBytes: size, SnapshotOf: req.FromSnapshot, Tags: slices.Clone(req.Tags), Created: time.Now().UTC()}
	if srcVol != "" {
		if sc.Copy, err = copyImage(b.snapPath(srcVol, srcSnap), img); err != nil {
			return false, err
		}
		if err := os.Truncate(img, size); err != nil {
			return false, err
		}
	} else {
		f, err := os.OpenFile(img, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return false, err
		}
		err = f.Truncate(size)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return false, err
		}
	}
	if err := writeSidecar(b.metaPath(name), sc); err != nil {
		return false, err
	}
	if _, err := b.attach(img); err != nil {
		return false, err
	}
	b.log.Info("loopfile: volume created", "name", name, "size", size, "from", req.FromSnapshot)
	return true, nil
}

// remove detaches and deletes a volume: sidecar first (the commit point),
// then the image.
func (b *Backend) remove(name string) error {
	img := b.imgPath(name)
	if _, err := os.Stat(img); err == nil {
		if ld, err := b.findLoop(img); err != nil {
			return err
		} else if ld != nil {
			if err := detach(ld.Path); err != nil {
				return err
			}
		}
	}
	if err := os.Remove(b.metaPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(img); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(b.dir)
}

// EnsureAttached returns the operation that attaches an existing volume's
// image to a loop device (none when it is attached). A node restart or a
// reboot detaches nothing the kernel still has, but a reboot loses all.
func (b *Backend) EnsureAttached(ctx context.Context, id string) ([]sched.Operation, error) {
	v, err := b.Volume(ctx, id)
	if err != nil {
		return nil, err
	}
	if v.Device != "" {
		return nil, nil
	}
	name := v.Name
	var attached string
	return []sched.Operation{{
		ID:        "loopfile.attach:" + name,
		Kind:      "loopfile.attach",
		Resources: []sched.Resource{b.volKey(name).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			unlock, err := b.lock(ctx)
			if err != nil {
				return err
			}
			defer unlock()
			if ld, err := b.findLoop(b.imgPath(name)); err != nil || ld != nil {
				return err
			}
			ld, err := b.attach(b.imgPath(name))
			if err == nil {
				attached = ld.Path
			}
			return err
		},
		Rollback: func(ctx context.Context) error {
			if attached == "" {
				return nil
			}
			return detach(attached)
		},
	}}, nil
}

// ResizeVolume implements plugin.Backend: the image grows (or shrinks) and
// the loop device is told with LOOP_SET_CAPACITY. Shrinking discards the
// tail: the caller must have shrunk whatever is on the device first.
func (b *Backend) ResizeVolume(ctx context.Context, id string, newBytes int64) ([]sched.Operation, error) {
	if err := checkSize(newBytes); err != nil {
		return nil, err
	}
	v, err := b.Volume(ctx, id)
	if err != nil {
		return nil, err
	}
	size := roundUp(newBytes)
	if size == v.SizeBytes {
		return nil, nil
	}
	if size > v.SizeBytes {
		free, err := b.free()
		if err != nil {
			return nil, err
		}
		if size-v.SizeBytes > free {
			return nil, fmt.Errorf("volume %s: %d more bytes, %d free: %w", id, size-v.SizeBytes, free, plugin.ErrNoSpace)
		}
	}
	name, old := v.Name, v.SizeBytes
	kind := "loopfile.grow"
	if size < old {
		kind = "loopfile.shrink"
	}
	done := false
	return []sched.Operation{{
		ID:        kind + ":" + name,
		Kind:      kind,
		Resources: []sched.Resource{b.volKey(name).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			unlock, err := b.lock(ctx)
			if err != nil {
				return err
			}
			defer unlock()
			if err := b.setSize(name, size); err != nil {
				b.setSize(name, old)
				return err
			}
			done = true
			return nil
		},
		Rollback: func(ctx context.Context) error {
			if !done {
				return nil
			}
			unlock, err := b.lock(ctx)
			if err != nil {
				return err
			}
			defer unlock()
			return b.setSize(name, old)
		},
	}}, nil
}

// setSize: image, then loop capacity, then the sidecar (the commit point).
func (b *Backend) setSize(name string, size int64) error {
	sc, err := readSidecar(b.metaPath(name))
	if err != nil {
		return err
	}
	img := b.imgPath(name)
	if err := os.Truncate(img, size); err != nil {
		return err
	}
	if ld, err := b.findLoop(img); err != nil {
		return err
	} else if ld != nil {
		if err := setCapacity(ld.Path); err != nil {
			return err
		}
	}
	sc.SizeBytes = size
	return writeSidecar(b.metaPath(name), sc)
}

// DeleteVolume implements plugin.Backend. A volume whose device is open or
// mounted is ErrInUse. Deleting is the commit: it has no rollback, so plans
// put it last. Snapshots are independent copies and stay.
func (b *Backend) DeleteVolume(ctx context.Context, id string) ([]sched.Operation, error) {
	name, err := b.splitVolumeID(id)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(b.metaPath(name)); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(b.imgPath(name)); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	return []sched.Operation{{
		ID:        "loopfile.delete:" + name,
		Kind:      "loopfile.delete",
		Resources: []sched.Resource{b.volKey(name).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			unlock, err := b.lock(ctx)
			if err != nil {
				return err
			}
			defer unlock()
			return b.remove(name)
		},
	}}, nil
}

// CreateSnapshot implements plugin.Backend: a reflink or sparse copy of the
// image, taken under the volume's exclusive key. The copy is crash
// consistent: a mounted filesystem should be frozen first (the caller's
// job).
func (b *Backend) CreateSnapshot(ctx context.Context, volumeID, snap string) ([]sched.Operation, error) {
	vol, err := b.splitVolumeID(volumeID)
	if err != nil {
		return nil, err
	}
	if err := checkName("snapshot name", snap); err != nil {
		return nil, err
	}
	if len(vol)+1+len(snap) > maxNameLen*2 {
		return nil, &plugin.InvalidError{Field: "snapshot name", Value: snap, Reason: "too long"}
	}
	v, err := b.volume(vol)
	if err != nil {
		return nil, err
	}
	if _, err := b.snapshot(vol, snap); err == nil {
		return nil, nil
	} else if !errors.Is(err, plugin.ErrNotFound) {
		return nil, err
	}
	if free, err := b.free(); err != nil {
		return nil, err
	} else if v.UsedBytes > free {
		return nil, fmt.Errorf("snapshot of %s: %d bytes used, %d free: %w", volumeID, v.UsedBytes, free, plugin.ErrNoSpace)
	}
	made := false
	return []sched.Operation{{
		ID:        "loopfile.snapshot:" + vol + "@" + snap,
		Kind:      "loopfile.snapshot",
		Resources: []sched.Resource{b.volKey(vol).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) (err error) {
			unlock, err := b.lock(ctx)
			if err != nil {
				return err
			}
			defer unlock()
			if _, err := b.snapshot(vol, snap); err == nil {
				return nil
			}
			sc, err := readSidecar(b.metaPath(vol))
			if err != nil {
				return err
			}
			dst := b.snapPath(vol, snap)
			os.Remove(dst) // a copy that crashed before its sidecar
			how, err := copyImage(b.imgPath(vol), dst)
			if err != nil {
				return err
			}
			if err := writeSidecar(b.snapMetaPath(vol, snap), &Sidecar{Name: snap, Source: vol, SizeBytes: sc.SizeBytes, Created: time.Now().UTC(), Copy: how}); err != nil {
				os.Remove(dst)
				return err
			}
			made = true
			b.log.Info("loopfile: snapshot created", "volume", vol, "snapshot", snap, "copy", how)
			return nil
		},
		Rollback: func(ctx context.Context) error {
			if !made {
				return nil
			}
			return b.removeSnapshot(vol, snap)
		},
	}}, nil
}

func (b *Backend) removeSnapshot(vol, snap string) error {
	if err := os.Remove(b.snapMetaPath(vol, snap)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(b.snapPath(vol, snap)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(b.dir)
}

// DeleteSnapshot implements plugin.Backend; clones are independent copies,
// so a snapshot with clones can go.
func (b *Backend) DeleteSnapshot(ctx context.Context, snapshotID string) ([]sched.Operation, error) {
	vol, snap, err := b.splitSnapshotID(snapshotID)
	if err != nil {
		return nil, err
	}
	_, e1 := os.Stat(b.snapMetaPath(vol, snap))
	_, e2 := os.Stat(b.snapPath(vol, snap))
	if errors.Is(e1, fs.ErrNotExist) && errors.Is(e2, fs.ErrNotExist) {
		return nil, nil
	}
	return []sched.Operation{{
		ID:        "loopfile.snapshot-delete:" + vol + "@" + snap,
		Kind:      "loopfile.snapshot-delete",
		Resources: []sched.Resource{b.volKey(vol).Child("snapshot", snap).Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			unlock, err := b.lock(ctx)
			if err != nil {
				return err
			}
			defer unlock()
			return b.removeSnapshot(vol, snap)
		},
	}}, nil
}
