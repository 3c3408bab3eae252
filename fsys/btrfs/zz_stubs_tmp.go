package btrfs

// TEMPORARY: signatures the btrfs work implements; the quota work codes
// against them. The btrfs branch deletes this file when it lands the real
// code.

import (
	"context"
	"errors"
)

var errStub = errors.New("btrfs: not implemented yet (stub)")

// FS is an open, mounted btrfs filesystem (a descriptor on its mountpoint).
type FS struct{ fd int }

// Open opens the btrfs filesystem mounted at mountpoint.
func Open(mountpoint string) (*FS, error) { return nil, errStub }

// Close releases the descriptor.
func (f *FS) Close() error { return errStub }

// QgroupID is level<<48 | id, as btrfs packs it ("0/257" is level 0, id 257).
type QgroupID uint64

// Qgroup is one qgroup's usage and limits from the quota tree.
type Qgroup struct {
	ID QgroupID
	// Referenced and Exclusive are bytes (rfer, excl).
	Referenced, Exclusive int64
	// MaxReferenced and MaxExclusive are the limits; -1 is none.
	MaxReferenced, MaxExclusive int64
}

// QuotaEnabled tells whether quotas are on.
func (f *FS) QuotaEnabled(ctx context.Context) (bool, error) { return false, errStub }

// EnableQuota turns quotas on (BTRFS_IOC_QUOTA_CTL) and waits for the
// initial rescan.
func (f *FS) EnableQuota(ctx context.Context) error { return errStub }

// DisableQuota turns quotas off.
func (f *FS) DisableQuota(ctx context.Context) error { return errStub }

// Qgroups lists every qgroup (tree search of the quota tree).
func (f *FS) Qgroups(ctx context.Context) ([]Qgroup, error) { return nil, errStub }

// SetQgroupLimit sets maxReferenced and maxExclusive (-1 removes a limit)
// by BTRFS_IOC_QGROUP_LIMIT.
func (f *FS) SetQgroupLimit(ctx context.Context, id QgroupID, maxReferenced, maxExclusive int64) error {
	return errStub
}

// SubvolumeID returns the subvolume (tree) id of the directory at path.
func (f *FS) SubvolumeID(ctx context.Context, path string) (uint64, error) { return 0, errStub }
