package quota

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// OpSetLimits is the Kind of SetLimitsOp's operation.
const OpSetLimits = "quota.set-limits"

// Key is the scheduler key of kind's quota of id on the filesystem
// mounted at mnt (by device number, or fsid on btrfs, so every path of one
// filesystem gets one key): quota/<maj:min>/<kind>/<id>.
func Key(mnt string, kind Kind, id uint64) (sched.Key, error) {
	var st unix.Stat_t
	if err := unix.Stat(mnt, &st); err != nil {
		return sched.Key{}, fmt.Errorf("quota: stat %s: %w", mnt, err)
	}
	fs := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	var sf unix.Statfs_t
	if err := unix.Statfs(mnt, &sf); err == nil && uint32(sf.Type) == unix.BTRFS_SUPER_MAGIC {
		// Every btrfs subvolume has a device number of its own: key by fsid.
		f, err := btrfs.Open(mnt)
		if err != nil {
			return sched.Key{}, err
		}
		fs = "btrfs-" + f.FSID().String()
		f.Close()
	}
	return sched.Root("quota", fs).Child(kind.String(), itoa(id)), nil
}

// SetLimitsOp is SetLimits as a scheduler operation claiming Key(mnt,
// kind, id) exclusively. Execute reads the id's limits before it changes
// them; Rollback puts exactly those back (a plan that fails later leaves
// the old limits). A limit is one kernel call that either happens or not,
// so a failed Execute changed nothing.
func (m *Manager) SetLimitsOp(mnt string, kind Kind, id uint64, l Limits) (sched.Operation, error) {
	key, err := Key(mnt, kind, id)
	if err != nil {
		return sched.Operation{}, err
	}
	var mu sync.Mutex
	var before *Limits
	return sched.Operation{
		ID:        fmt.Sprintf("%s %s %s %d", OpSetLimits, mnt, kind, id),
		Kind:      OpSetLimits,
		Resources: []sched.Resource{key.Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			u, err := m.Get(ctx, mnt, kind, id)
			if err != nil {
				return err
			}
			mu.Lock()
			old := u.Limits
			before = &old
			mu.Unlock()
			return m.SetLimits(ctx, mnt, kind, id, l)
		},
		Rollback: func(ctx context.Context) error {
			mu.Lock()
			b := before
			mu.Unlock()
			if b == nil {
				return nil
			}
			return m.SetLimits(ctx, mnt, kind, id, *b)
		},
	}, nil
}
