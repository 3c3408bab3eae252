package fsys

import (
	"context"
)

// TEMPORARY: the signatures other worktrees implement; deleted at merge.

func onlineResize(ctx context.Context, mountpoint string, t Type, newBytes int64) error { return nil }
func btrfsResizeDevice(ctx context.Context, mountpoint string, devid uint64, newBytes int64) error {
	return nil
}

type BtrfsDevInfo struct {
	Devid                 uint64
	UUID, Path            string
	TotalBytes, UsedBytes int64
}

func btrfsDevices(ctx context.Context, mountpoint string) ([]BtrfsDevInfo, error) { return nil, nil }
func btrfsMinDevSize(ctx context.Context, mountpoint string, devid uint64) (int64, error) {
	return 0, nil
}
func getLabelOnline(ctx context.Context, mountpoint string) (string, error) { return "", nil }
func setLabelOnline(ctx context.Context, mountpoint, label string) error    { return nil }
func Freeze(ctx context.Context, mountpoint string) (func() error, error) {
	return func() error { return nil }, nil
}

type MountOptions struct {
	ReadOnly, Bind, NoExec, NoSuid, NoDev, NoAtime, RelAtime, Sync bool
	Data                                                           []string
}

func (m *Manager) Mount(ctx context.Context, source, target string, t Type, o MountOptions) error {
	return nil
}

type UnmountOptions struct {
	Lazy, Force bool
	Protected   []string
}

func (m *Manager) Unmount(ctx context.Context, target string, o UnmountOptions) error { return nil }
func (m *Manager) WithTempMount(ctx context.Context, dev string, t Type, readOnly bool, fn func(dir string) error) error {
	return fn("")
}

func Thaw(ctx context.Context, mountpoint string) error { return nil }
