package fsys

import (
	"context"
	"io"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/superblock"
)

// vfatDriver: dosfstools for make, check, repair, label and volume id.
// FAT is not resized (see the matrix).
type vfatDriver struct {
	m *Manager
	unsupported
}

func (d *vfatDriver) Type() Type { return VFAT }

func (d *vfatDriver) Read(r io.ReaderAt, size int64) (superblock.Super, error) {
	f, err := superblock.ReadFAT(r, size)
	if err != nil {
		return superblock.Super{}, err
	}
	return f.Super(), nil
}

func (d *vfatDriver) Make(ctx context.Context, dev string, o MakeOptions, progress func(string)) error {
	return d.m.mkfs(ctx, dev, VFAT, o, progress)
}

func (d *vfatDriver) Check(ctx context.Context, dev string, mode CheckMode, override bool, progress func(CheckProgress)) (*CheckResult, error) {
	return d.m.check(ctx, dev, VFAT, mode, override, progress)
}

func (d *vfatDriver) SetLabel(ctx context.Context, dev, mountpoint, label string) error {
	if err := offlineOnly(VFAT, mountpoint, CapLabelOnline); err != nil {
		return err
	}
	return d.m.setLabelOffline(ctx, dev, VFAT, label)
}

func (d *vfatDriver) SetUUID(ctx context.Context, dev, mountpoint, uuid string) error {
	if err := offlineOnly(VFAT, mountpoint, CapUUIDOnline); err != nil {
		return err
	}
	return d.m.setUUIDOffline(ctx, dev, VFAT, uuid)
}
