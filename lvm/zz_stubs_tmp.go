package lvm

// TEMPORARY: signatures the lifecycle work implements (lvm/manager.go,
// lvm/ops_*.go). Other work codes against them; the lifecycle branch deletes
// this file when it lands the real code. Every stub returns errStub.

import (
	"context"
	"errors"
	"log/slog"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

var errStub = errors.New("lvm: not implemented yet (stub)")

// Manager runs LVM lifecycle changes as guarded sched.Operations.
type Manager struct{ tool *Tool }

// ManagerOption configures a Manager.
type ManagerOption func(*Manager) error

func NewManager(t *Tool, opts ...ManagerOption) (*Manager, error) { return nil, errStub }
func WithJournal(j *safety.Journal) ManagerOption                 { return nil }
func WithFsys(f *fsys.Manager) ManagerOption                      { return nil }
func WithLogger(l *slog.Logger) ManagerOption                     { return nil }
func WithRoot(dir string) ManagerOption                           { return nil }

// OpOption configures one operation.
type OpOption func(*opConfig) error
type opConfig struct{}

func WithOpID(id string) OpOption                               { return nil }
func WithDependencies(ids ...string) OpOption                   { return nil }
func WithOverride(code safety.Code, reason, by string) OpOption { return nil }

// LVType is the kind of LV to create.
type LVType string

const (
	LVLinear    LVType = "linear"
	LVStriped   LVType = "striped"
	LVRAID1     LVType = "raid1"
	LVThinPool  LVType = "thin-pool"
	LVThin      LVType = "thin"
	LVCachePool LVType = "cache-pool"
)

// LVSpec describes an LV to create.
type LVSpec struct {
	Name string
	Type LVType
	// SizeBytes is the size (the virtual size for LVThin).
	SizeBytes       int64
	Stripes         int
	StripeSizeBytes int64
	Mirrors         int
	// Pool is the thin pool of an LVThin.
	Pool string
	// MetadataBytes sizes a thin or cache pool's metadata LV (0: lvm's).
	MetadataBytes int64
	PVs           []string
	Tags          []string
}

// VGOptions for VGCreateOp.
type VGOptions struct {
	ExtentBytes int64
	Tags        []string
}

func (m *Manager) PVCreateOp(ctx context.Context, dev string, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) PVResizeOp(ctx context.Context, dev string, newBytes int64, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) PVRemoveOp(ctx context.Context, dev string, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) VGCreateOp(ctx context.Context, name string, pvs []string, o VGOptions, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) VGExtendOp(ctx context.Context, vg string, pvs []string, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) VGReduceOp(ctx context.Context, vg string, pvs []string, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) VGRenameOp(ctx context.Context, vg, newName string, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) VGRemoveOp(ctx context.Context, vg string, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) LVCreateOp(ctx context.Context, vg string, spec LVSpec, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}

// LVResizeOp is filesystem-aware: a reduce shrinks the filesystem first
// through fsys (refused below its MinSize, and for xfs), an extend grows it
// after.
func (m *Manager) LVResizeOp(ctx context.Context, vg, lv string, newBytes int64, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) LVRenameOp(ctx context.Context, vg, lv, newName string, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) LVRemoveOp(ctx context.Context, vg, lv string, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) ActivateOp(ctx context.Context, vg, lv string, active bool, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}

// SnapshotOp: sizeBytes 0 on a thin origin makes a thin snapshot; otherwise
// a classic (thick, COW) snapshot of that size.
func (m *Manager) SnapshotOp(ctx context.Context, vg, origin, name string, sizeBytes int64, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) MergeSnapshotOp(ctx context.Context, vg, snapshot string, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}

// ThinPoolExtendOp sets the pool's data and metadata sizes (0 keeps one).
func (m *Manager) ThinPoolExtendOp(ctx context.Context, vg, pool string, dataBytes, metaBytes int64, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) CacheAttachOp(ctx context.Context, vg, lv, cachePool string, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
func (m *Manager) CacheDetachOp(ctx context.Context, vg, lv string, opts ...OpOption) (sched.Operation, error) {
	return sched.Operation{}, errStub
}
