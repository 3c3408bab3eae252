package fsys

import (
	"context"
	"fmt"
	"io"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/superblock"
)

// extDriver is ext2, ext3 and ext4: e2fsprogs for make, check, offline
// resize and the minimum size; EXT4_IOC_RESIZE_FS for online grow.
type extDriver struct {
	m *Manager
	t Type
}

func (d *extDriver) Type() Type { return d.t }

func (d *extDriver) Read(r io.ReaderAt, size int64) (superblock.Super, error) {
	e, err := superblock.ReadExt(r, size)
	if err != nil {
		return superblock.Super{}, err
	}
	return e.Super(), nil
}

func (d *extDriver) Make(ctx context.Context, dev string, o MakeOptions, progress func(string)) error {
	return d.m.mkfs(ctx, dev, d.t, o, progress)
}

func (d *extDriver) Check(ctx context.Context, dev string, mode CheckMode, override bool, progress func(CheckProgress)) (*CheckResult, error) {
	return d.m.check(ctx, dev, d.t, mode, override, progress)
}

func (d *extDriver) ResizeOnline(ctx context.Context, dev, mountpoint string, newBytes int64) error {
	return onlineResize(ctx, mountpoint, d.t, newBytes)
}

func (d *extDriver) ResizeOffline(ctx context.Context, dev string, newBytes int64, step func(string), progress func(string)) error {
	return d.m.resizeExtOffline(ctx, dev, newBytes, step, progress)
}

// MinSize is resize2fs -P's estimate in blocks times the block size. It is
// an estimate of the data's footprint, not a promise: resize2fs itself
// refuses a size below what it can reach.
func (d *extDriver) MinSize(ctx context.Context, dev, mountpoint string) (int64, error) {
	sb, err := readSuperOf(ctx, d, dev)
	if err != nil {
		return 0, err
	}
	n, err := d.m.extMinBlocks(ctx, dev)
	if err != nil {
		return 0, err
	}
	if sb.BlockSize <= 0 || n > uint64(1<<62)/uint64(sb.BlockSize) {
		return 0, fmt.Errorf("fsys: %s: minimum of %d blocks of %d bytes is out of range", dev, n, sb.BlockSize)
	}
	return int64(n) * sb.BlockSize, nil
}

func (d *extDriver) SetLabel(ctx context.Context, dev, mountpoint, label string) error {
	if mountpoint != "" {
		return setLabelOnline(ctx, mountpoint, label)
	}
	return d.m.setLabelOffline(ctx, dev, d.t, label)
}

func (d *extDriver) SetUUID(ctx context.Context, dev, mountpoint, uuid string) error {
	if err := offlineOnly(d.t, mountpoint, CapUUIDOnline); err != nil {
		return err
	}
	return d.m.setUUIDOffline(ctx, dev, d.t, uuid)
}
