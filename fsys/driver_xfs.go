package fsys

import (
	"context"
	"io"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/superblock"
)

// xfsDriver: xfsprogs for make, check, repair and offline label/UUID;
// XFS_IOC_FSGROWFSDATA for grow, online or through a private temporary
// mount. XFS cannot shrink.
type xfsDriver struct {
	m *Manager
	unsupported
}

func (d *xfsDriver) Type() Type { return XFS }

func (d *xfsDriver) Read(r io.ReaderAt, size int64) (superblock.Super, error) {
	x, err := superblock.ReadXFS(r, size)
	if err != nil {
		return superblock.Super{}, err
	}
	return x.Super(), nil
}

func (d *xfsDriver) Make(ctx context.Context, dev string, o MakeOptions, progress func(string)) error {
	return d.m.mkfs(ctx, dev, XFS, o, progress)
}

func (d *xfsDriver) Check(ctx context.Context, dev string, mode CheckMode, override bool, progress func(CheckProgress)) (*CheckResult, error) {
	return d.m.check(ctx, dev, XFS, mode, override, progress)
}

func (d *xfsDriver) ResizeOnline(ctx context.Context, dev, mountpoint string, newBytes int64) error {
	return onlineResize(ctx, mountpoint, XFS, newBytes)
}

// ResizeOffline grows through a mount only this call sees: XFS grows only
// mounted, and a mount in the caller's namespace would be visible (and
// usable) by everyone while it lasts.
func (d *xfsDriver) ResizeOffline(ctx context.Context, dev string, newBytes int64, step func(string), progress func(string)) error {
	return d.m.WithTempMount(ctx, dev, XFS, false, func(dir string) error {
		step("mounted")
		return onlineResize(ctx, dir, XFS, newBytes)
	})
}

func (d *xfsDriver) SetLabel(ctx context.Context, dev, mountpoint, label string) error {
	if mountpoint != "" {
		return setLabelOnline(ctx, mountpoint, label)
	}
	return d.m.setLabelOffline(ctx, dev, XFS, label)
}

func (d *xfsDriver) SetUUID(ctx context.Context, dev, mountpoint, uuid string) error {
	if err := offlineOnly(XFS, mountpoint, CapUUIDOnline); err != nil {
		return err
	}
	return d.m.setUUIDOffline(ctx, dev, XFS, uuid)
}
