package btrfs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// QgroupID is level<<48 | id, as btrfs packs it ("0/257" is level 0, id 257).
type QgroupID uint64

// NewQgroupID packs level and id.
func NewQgroupID(level uint16, id uint64) QgroupID {
	return QgroupID(uint64(level)<<48 | id&(1<<48-1))
}

// Level is the qgroup's level (0 for a subvolume's own qgroup).
func (q QgroupID) Level() uint16 { return uint16(q >> 48) }

// ID is the qgroup's id within its level (a subvolume id at level 0).
func (q QgroupID) ID() uint64 { return uint64(q) & (1<<48 - 1) }

// String is the "level/id" form.
func (q QgroupID) String() string { return fmt.Sprintf("%d/%d", q.Level(), q.ID()) }

// ParseQgroupID reads "level/id" or a bare subvolume id (level 0).
func ParseQgroupID(s string) (QgroupID, error) {
	l, i, ok := strings.Cut(s, "/")
	if !ok {
		l, i = "0", s
	}
	lv, err1 := strconv.ParseUint(l, 10, 16)
	id, err2 := strconv.ParseUint(i, 10, 48)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: qgroup id %q (want level/id)", ErrInvalid, s)
	}
	return NewQgroupID(uint16(lv), id), nil
}

// Qgroup is one qgroup's usage and limits from the quota tree.
type Qgroup struct {
	ID QgroupID
	// Referenced and Exclusive are bytes (rfer, excl).
	Referenced, Exclusive int64
	// MaxReferenced and MaxExclusive are the limits; -1 is none.
	MaxReferenced, MaxExclusive int64
}

// QuotaStatus reads the quota tree's status item; ErrQuotaDisabled when
// there is no quota tree or the status says off.
func (f *FS) QuotaStatus(ctx context.Context) (QgroupStatus, error) {
	key := fsioctl.BtrfsSearchRange(fsioctl.BtrfsQuotaTreeObjectID)
	key.MaxObjectID = 0
	key.MinType, key.MaxType = fsioctl.BtrfsQgroupStatusKey, fsioctl.BtrfsQgroupStatusKey
	key.MaxOffset = 0
	var st QgroupStatus
	found := false
	err := f.search(ctx, key, func(h fsioctl.BtrfsSearchHeader, item []byte) error {
		if h.Type != fsioctl.BtrfsQgroupStatusKey {
			return nil
		}
		s, err := ParseQgroupStatus(item)
		if err != nil {
			return err
		}
		st, found = s, true
		return fsioctl.ErrStopSearch
	})
	if errors.Is(err, unix.ENOENT) {
		return QgroupStatus{}, fmt.Errorf("%w on %s", ErrQuotaDisabled, f.mountpoint)
	}
	if err != nil {
		return QgroupStatus{}, err
	}
	if !found || !st.On() {
		return st, fmt.Errorf("%w on %s", ErrQuotaDisabled, f.mountpoint)
	}
	return st, nil
}

// QuotaEnabled tells whether quotas are on.
func (f *FS) QuotaEnabled(ctx context.Context) (bool, error) {
	_, err := f.QuotaStatus(ctx)
	if errors.Is(err, ErrQuotaDisabled) {
		return false, nil
	}
	return err == nil, err
}

// EnableQuota turns quotas on (BTRFS_IOC_QUOTA_CTL) and waits for the
// initial rescan (BTRFS_IOC_QUOTA_RESCAN_WAIT, which cannot be
// interrupted: ctx is checked before it).
func (f *FS) EnableQuota(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := fsioctl.BtrfsQuotaCtl(f.fd, fsioctl.BtrfsQuotaCtlEnable); err != nil {
		return wrap(f.mountpoint, err)
	}
	return f.WaitRescan(ctx)
}

// WaitRescan waits for a running quota rescan to end.
func (f *FS) WaitRescan(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap(f.mountpoint, fsioctl.BtrfsQuotaRescanWait(f.fd))
}

// DisableQuota turns quotas off.
func (f *FS) DisableQuota(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap(f.mountpoint, fsioctl.BtrfsQuotaCtl(f.fd, fsioctl.BtrfsQuotaCtlDisable))
}

func clamp(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// Qgroups lists every qgroup (tree search of the quota tree for
// QGROUP_INFO and QGROUP_LIMIT items), sorted by id. The tree holds what
// the last transaction committed: Sync first for up-to-the-moment usage.
// ErrQuotaDisabled when quotas are off.
func (f *FS) Qgroups(ctx context.Context) ([]Qgroup, error) {
	if _, err := f.QuotaStatus(ctx); err != nil {
		return nil, err
	}
	items, err := f.quotaItems(ctx)
	if err != nil {
		return nil, err
	}
	return QgroupsFromItems(items)
}

// quotaItems reads the QGROUP_INFO and QGROUP_LIMIT items of the quota tree.
func (f *FS) quotaItems(ctx context.Context) ([]Item, error) {
	key := fsioctl.BtrfsSearchRange(fsioctl.BtrfsQuotaTreeObjectID)
	key.MaxObjectID = 0
	key.MinType, key.MaxType = fsioctl.BtrfsQgroupInfoKey, fsioctl.BtrfsQgroupLimitKey
	var items []Item
	err := f.search(ctx, key, func(h fsioctl.BtrfsSearchHeader, item []byte) error {
		items = append(items, Item{ObjectID: h.ObjectID, Type: h.Type, Offset: h.Offset, Transid: h.Transid, Data: append([]byte(nil), item...)})
		return nil
	})
	return items, err
}

// SetQgroupLimit sets maxReferenced and maxExclusive (-1 removes a limit)
// by BTRFS_IOC_QGROUP_LIMIT.
func (f *FS) SetQgroupLimit(ctx context.Context, id QgroupID, maxReferenced, maxExclusive int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if maxReferenced < -1 || maxExclusive < -1 {
		return fmt.Errorf("%w: qgroup limits %d/%d (bytes, or -1 for none)", ErrInvalid, maxReferenced, maxExclusive)
	}
	a := fsioctl.BtrfsQgroupLimitArgs{QgroupID: uint64(id)}
	a.Lim.Flags = fsioctl.BtrfsQgroupLimitMaxRfer | fsioctl.BtrfsQgroupLimitMaxExcl
	a.Lim.MaxRfer, a.Lim.MaxExcl = math.MaxUint64, math.MaxUint64 // the kernel's "clear"
	if maxReferenced >= 0 {
		a.Lim.MaxRfer = uint64(maxReferenced)
	}
	if maxExclusive >= 0 {
		a.Lim.MaxExcl = uint64(maxExclusive)
	}
	return wrap(f.mountpoint, fsioctl.BtrfsQgroupLimitSet(f.fd, &a))
}
