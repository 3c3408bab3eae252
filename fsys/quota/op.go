package quota

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/btrfs"
	"github.com/CodeMonkeyCybersecurity/eos-storage/sched"
)

// Kinds of the quota operations (the scheduler's Kind and the journal's
// intent op).
const (
	OpSetLimits  = "quota.set-limits"
	OpSetGrace   = "quota.set-grace"
	OpSetProject = "quota.set-project"
	OpEnable     = "quota.enable"
)

// fsKey is the part of a quota key that names the filesystem holding path:
// its device number, or "btrfs-<fsid>" on btrfs, where every subvolume has
// a device number of its own.
func fsKey(path string) (string, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", fmt.Errorf("quota: stat %s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFBLK {
		return fmt.Sprintf("%d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev)), nil
	}
	fs := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	var sf unix.Statfs_t
	if err := unix.Statfs(path, &sf); err == nil && uint32(sf.Type) == unix.BTRFS_SUPER_MAGIC {
		f, err := btrfs.Open(path)
		if err != nil {
			return "", err
		}
		fs = "btrfs-" + f.FSID().String()
		f.Close()
	}
	return fs, nil
}

// Key is the scheduler key of kind's quota of id on the filesystem
// mounted at mnt (by device number, or fsid on btrfs, so every path of one
// filesystem gets one key): quota/<maj:min>/<kind>/<id>.
func Key(mnt string, kind Kind, id uint64) (sched.Key, error) {
	fs, err := fsKey(mnt)
	if err != nil {
		return sched.Key{}, err
	}
	return sched.Root("quota", fs).Child(kind.String(), itoa(id)), nil
}

// SetLimitsOp is SetLimits as a scheduler operation claiming Key(mnt,
// kind, id) exclusively. Execute reads the id's limits before it changes
// them; Rollback puts exactly those back (a plan that fails later leaves
// the old limits). With WithJournal it is a journaled safety.Guard
// mutation: the old limits are journaled (step "before") ahead of the
// change, and Recover (with RollForward's options) finishes an
// interrupted one.
func (m *Manager) SetLimitsOp(mnt string, kind Kind, id uint64, l Limits, opts ...OpOption) (sched.Operation, error) {
	key, err := Key(mnt, kind, id)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.journaled(OpSetLimits, fmt.Sprintf(" %s %s %d", mnt, kind, id), key,
		opParams{Mountpoint: mnt, Kind: kind, ID: id, Limits: &l}, opts,
		fmt.Sprintf("set %s quota limits of id %d on %s to %+v", kind, id, mnt, l))
}

// SetGraceOp is SetGrace as a scheduler operation claiming kind's quotas
// of the filesystem at mnt; its Rollback puts the grace times read before
// back. WithJournal journals it as SetLimitsOp is.
func (m *Manager) SetGraceOp(mnt string, kind Kind, g Grace, opts ...OpOption) (sched.Operation, error) {
	fs, err := fsKey(mnt)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.journaled(OpSetGrace, fmt.Sprintf(" %s %s", mnt, kind), sched.Root("quota", fs).Child(kind.String(), "grace"),
		opParams{Mountpoint: mnt, Kind: kind, Grace: &g}, opts,
		fmt.Sprintf("set %s quota grace on %s to block %v, inode %v", kind, mnt, g.Block, g.Inode))
}

// SetProjectOp is SetProject as a scheduler operation claiming dir's
// project id; its Rollback puts the id and inherit flag read before back.
// WithJournal journals it as SetLimitsOp is.
func (m *Manager) SetProjectOp(dir string, projid uint32, inherit bool, opts ...OpOption) (sched.Operation, error) {
	fs, err := fsKey(dir)
	if err != nil {
		return sched.Operation{}, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return sched.Operation{}, err
	}
	return m.journaled(OpSetProject, " "+abs, sched.Root("quota", fs).Child("project-of", abs),
		opParams{Dir: abs, ProjID: projid, Inherit: inherit}, opts,
		fmt.Sprintf("set the project id of %s to %d (inherit %v)", abs, projid, inherit))
}

// EnableOp is Enable as a scheduler operation claiming every quota of the
// filesystem. Where Enable changes the disk it is a mutation: a btrfs
// mountpoint gets qgroups (its Rollback turns them off again when they
// were off before: no qgroup, no limit, as before), an unmounted ext4
// device gets the quota and project features by tune2fs (no Rollback:
// tune2fs cannot take the project feature off again). Elsewhere (xfs, a
// mounted ext4) Enable changes nothing and the operation only reports.
func (m *Manager) EnableOp(target string, opts ...OpOption) (sched.Operation, error) {
	fs, err := fsKey(target)
	if err != nil {
		return sched.Operation{}, err
	}
	key := sched.Root("quota", fs)
	var st unix.Stat_t
	if err := unix.Stat(target, &st); err != nil {
		return sched.Operation{}, &os.PathError{Op: "stat", Path: target, Err: err}
	}
	p := opParams{Mountpoint: target}
	if st.Mode&unix.S_IFMT == unix.S_IFBLK {
		p = opParams{Device: target}
		if t, err := probeDevice(target); err != nil || t != fsExt4 || m.mountedDevice(st.Rdev) {
			return m.reportOp(target, key, opts)
		}
	} else if mo, err := m.open(target); err != nil {
		return sched.Operation{}, err
	} else {
		t := mo.fstype
		mo.close()
		if t != fsBtrfs {
			return m.reportOp(target, key, opts)
		}
	}
	return m.journaled(OpEnable, " "+target, key, p, opts, "enable quotas on "+target)
}

// reportOp is an Enable that changes nothing on disk (xfs, a mounted ext4).
func (m *Manager) reportOp(target string, key sched.Key, opts []OpOption) (sched.Operation, error) {
	c, err := newOpConfig(opts)
	if err != nil {
		return sched.Operation{}, err
	}
	return sched.Operation{
		ID: OpEnable + " " + target, Kind: OpEnable, Resources: []sched.Resource{key.Exclusive()},
		Execute: func(ctx context.Context, _ sched.Progress) error {
			e, err := m.Enable(ctx, target)
			if err == nil && c.onEnable != nil {
				c.onEnable(e)
			}
			return err
		},
	}, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}
