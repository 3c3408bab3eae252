package fsys

import (
	"context"
	"io"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/sysfs"
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

type MakeOptions struct {
	Label, UUID           string
	BlockSize, SectorSize int64
	Features              []string
	NoDiscard, Force      bool
	PageSize              int64
	ExtUndoFile           string
}

func (o MakeOptions) Validate(t Type) error { return nil }
func (m *Manager) mkfs(ctx context.Context, dev string, t Type, o MakeOptions, progress func(string)) error {
	return nil
}
func (m *Manager) e2undo(ctx context.Context, undoFile, dev string) error { return nil }
func writeSwap(w io.WriterAt, size int64, o MakeOptions) error            { return nil }
func makeSwapDevice(ctx context.Context, dev string, o MakeOptions) error { return nil }

type CheckMode int

const (
	CheckReadOnly CheckMode = iota
	CheckPreen
	CheckRepair
)

type Verdict string

type CheckResult struct {
	Tool     string
	Args     []string
	ExitCode int
	Verdict  Verdict
	Output   string
}
type CheckProgress struct {
	Pass         int
	Current, Max uint64
	Percent      float64
}

func (m *Manager) check(ctx context.Context, dev string, t Type, mode CheckMode, override bool, progress func(CheckProgress)) (*CheckResult, error) {
	return nil, nil
}
func mountedAt(root sysfs.Root, dev string) ([]string, error) { return nil, nil }
func (m *Manager) resizeExtOffline(ctx context.Context, dev string, newBytes int64, step func(string), progress func(string)) error {
	return nil
}
func (m *Manager) extMinBlocks(ctx context.Context, dev string) (uint64, error) { return 0, nil }
func (m *Manager) setLabelOffline(ctx context.Context, dev string, t Type, label string) error {
	return nil
}
func (m *Manager) setUUIDOffline(ctx context.Context, dev string, t Type, uuid string) error {
	return nil
}

const (
	VerdictClean        Verdict = "clean"
	VerdictFixed        Verdict = "fixed"
	VerdictErrorsLeft   Verdict = "errors_left"
	VerdictRebootNeeded Verdict = "reboot_needed"
	VerdictDirtyLog     Verdict = "dirty_log"
)

func Thaw(ctx context.Context, mountpoint string) error { return nil }
