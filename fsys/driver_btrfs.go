package fsys

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/superblock"
	"golang.org/x/sys/unix"
)

// btrfsDriver: btrfs-progs for make, check and offline label/UUID;
// BTRFS_IOC_RESIZE for every resize (a private temporary mount when the
// filesystem is not mounted), the minimum device size from the device tree.
type btrfsDriver struct {
	m *Manager
}

func (d *btrfsDriver) Type() Type { return Btrfs }

func (d *btrfsDriver) Read(r io.ReaderAt, size int64) (superblock.Super, error) {
	b, err := superblock.ReadBtrfs(r, size)
	if err != nil {
		return superblock.Super{}, err
	}
	return b.Super(), nil
}

func (d *btrfsDriver) Make(ctx context.Context, dev string, o MakeOptions, progress func(string)) error {
	return d.m.mkfs(ctx, dev, Btrfs, o, progress)
}

func (d *btrfsDriver) Check(ctx context.Context, dev string, mode CheckMode, override bool, progress func(CheckProgress)) (*CheckResult, error) {
	return d.m.check(ctx, dev, Btrfs, mode, override, progress)
}

// ResizeOnline resizes dev's member of the filesystem: btrfs sizes are per
// device (devid:bytes), so growing one member leaves the others alone.
func (d *btrfsDriver) ResizeOnline(ctx context.Context, dev, mountpoint string, newBytes int64) error {
	id, err := btrfsDevid(ctx, dev, mountpoint)
	if err != nil {
		return err
	}
	return btrfsResizeDevice(ctx, mountpoint, id, newBytes)
}

func (d *btrfsDriver) ResizeOffline(ctx context.Context, dev string, newBytes int64, step func(string), progress func(string)) error {
	return d.m.WithTempMount(ctx, dev, Btrfs, false, func(dir string) error {
		step("mounted")
		return d.ResizeOnline(ctx, dev, dir, newBytes)
	})
}

func (d *btrfsDriver) MinSize(ctx context.Context, dev, mountpoint string) (int64, error) {
	minOf := func(mp string) (int64, error) {
		id, err := btrfsDevid(ctx, dev, mp)
		if err != nil {
			return 0, err
		}
		return btrfsMinDevSize(ctx, mp, id)
	}
	if mountpoint != "" {
		return minOf(mountpoint)
	}
	var n int64
	err := d.m.WithTempMount(ctx, dev, Btrfs, true, func(dir string) error {
		var err error
		n, err = minOf(dir)
		return err
	})
	return n, err
}

func (d *btrfsDriver) SetLabel(ctx context.Context, dev, mountpoint, label string) error {
	if mountpoint != "" {
		return setLabelOnline(ctx, mountpoint, label)
	}
	return d.m.setLabelOffline(ctx, dev, Btrfs, label)
}

func (d *btrfsDriver) SetUUID(ctx context.Context, dev, mountpoint, uuid string) error {
	if err := offlineOnly(Btrfs, mountpoint, CapUUIDOnline); err != nil {
		return err
	}
	return d.m.setUUIDOffline(ctx, dev, Btrfs, uuid)
}

// btrfsDevid finds dev among the mounted filesystem's members by device
// number, not by path: the kernel records the path it was given at mount.
func btrfsDevid(ctx context.Context, dev, mountpoint string) (uint64, error) {
	want, err := rdevOf(dev)
	if err != nil {
		return 0, err
	}
	devs, err := btrfsDevices(ctx, mountpoint)
	if err != nil {
		return 0, err
	}
	for _, x := range devs {
		if got, err := rdevOf(x.Path); err == nil && got == want {
			return x.Devid, nil
		}
	}
	return 0, fmt.Errorf("%w: %s is not a member of the btrfs filesystem mounted at %s", ErrInvalid, dev, mountpoint)
}

// rdevOf is a block device's number.
func rdevOf(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("fsys: %w", os.NewSyscallError("stat "+path, err))
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return 0, fmt.Errorf("%w: %s is not a block device", ErrInvalid, path)
	}
	return st.Rdev, nil
}
