package quota

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
)

// btrfs: a subvolume's quota is its level-0 qgroup 0/<subvolume id>; its
// referenced bytes are Usage.Bytes and its referenced limit is
// Limits.BlockHard. btrfs has no soft limits, inode limits or grace.

func itoa(u uint64) string { return strconv.FormatUint(u, 10) }

func (m *Manager) btrfsOpen(mo *mount) (*btrfs.FS, error) {
	return btrfs.Open(mo.path)
}

func (m *Manager) btrfsErr(mo *mount, err error) error {
	if errors.Is(err, btrfs.ErrQuotaDisabled) {
		return &UnavailableError{Path: mo.path, FSType: mo.fstype, Kind: Subvolume, NotEnabled: true,
			Reason: "btrfs quotas (qgroups) are off: Enable turns them on online", Err: err}
	}
	return err
}

func fromQgroup(q btrfs.Qgroup) Usage {
	u := Usage{Kind: Subvolume, ID: q.ID.ID(), Bytes: uint64(max(q.Referenced, 0))}
	if q.MaxReferenced >= 0 {
		u.Limits.BlockHard = uint64(q.MaxReferenced)
	}
	u.judge()
	return u
}

func (m *Manager) btrfsList(ctx context.Context, mo *mount) ([]Usage, error) {
	f, err := m.btrfsOpen(mo)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	qs, err := f.Qgroups(ctx)
	if err != nil {
		return nil, m.btrfsErr(mo, err)
	}
	us := make([]Usage, 0, len(qs))
	for _, q := range qs {
		if q.ID.Level() == 0 {
			us = append(us, fromQgroup(q))
		}
	}
	return us, nil
}

func (m *Manager) btrfsGet(ctx context.Context, mo *mount, id uint64) (*Usage, error) {
	f, err := m.btrfsOpen(mo)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	q, err := qgroupOf(ctx, f, id)
	if err != nil {
		return nil, m.btrfsErr(mo, err)
	}
	u := fromQgroup(q)
	return &u, nil
}

func qgroupOf(ctx context.Context, f *btrfs.FS, id uint64) (btrfs.Qgroup, error) {
	qs, err := f.Qgroups(ctx)
	if err != nil {
		return btrfs.Qgroup{}, err
	}
	want := btrfs.NewQgroupID(0, id)
	for _, q := range qs {
		if q.ID == want {
			return q, nil
		}
	}
	return btrfs.Qgroup{}, fmt.Errorf("%w: no qgroup %s on %s", ErrInvalid, want, f.Mountpoint())
}

func (m *Manager) btrfsSetLimits(ctx context.Context, mo *mount, id uint64, l Limits) error {
	if l.BlockSoft != 0 || l.InodeSoft != 0 || l.InodeHard != 0 {
		return &UnavailableError{Path: mo.path, FSType: mo.fstype, Kind: Subvolume,
			Reason: "btrfs qgroups have only a hard byte limit (referenced): no soft limit and no inode limits"}
	}
	if l.BlockHard > 1<<63-1 {
		return fmt.Errorf("%w: limit %d bytes", ErrInvalid, l.BlockHard)
	}
	f, err := m.btrfsOpen(mo)
	if err != nil {
		return err
	}
	defer f.Close()
	q, err := qgroupOf(ctx, f, id)
	if err != nil {
		return m.btrfsErr(mo, err)
	}
	rfer := int64(-1)
	if l.BlockHard > 0 {
		rfer = int64(l.BlockHard)
	}
	return f.SetQgroupLimit(ctx, q.ID, rfer, q.MaxExclusive)
}

// SubvolumeID is the id (Kind Subvolume) of the btrfs subvolume at path.
func (m *Manager) SubvolumeID(ctx context.Context, path string) (uint64, error) {
	f, err := btrfs.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.SubvolumeID(ctx, path)
}
