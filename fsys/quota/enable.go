package quota

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/command"
)

// Enablement is what Enable did or what is left for the caller.
type Enablement struct {
	FSType string `json:"fstype"`
	Target string `json:"target"`
	// Applied: quotas of every kind the filesystem has are now on (btrfs,
	// a mounted xfs or ext4 that already had them), or will be at the next
	// mount (ext4 after tune2fs).
	Applied bool `json:"applied"`
	// MountOptions are the options the filesystem needs at mount for
	// quotas (xfs: uquota,gquota,pquota; none for ext4 with the quota
	// feature or btrfs).
	MountOptions []string `json:"mount_options,omitempty"`
	Note         string   `json:"note"`
}

// MountOptions gives the mount options quotas of the kinds asked (every
// kind when none) need: xfs's uquota, gquota, pquota turn accounting and
// enforcement on; ext4's usrquota, grpquota, prjquota turn enforcement on
// (with the quota feature, which Enable sets, ext4 accounts usage at every
// mount but enforces no limit without them: measured in the guest). btrfs
// has none.
func MountOptions(fstype string, kinds ...Kind) ([]string, error) {
	if len(kinds) == 0 {
		kinds = []Kind{User, Group, Project}
	}
	switch fstype {
	case fsXFS:
		var o []string
		for _, k := range kinds {
			if k == Subvolume {
				return nil, &UnavailableError{Path: "-", FSType: fstype, Kind: k, Reason: "subvolume quotas are btrfs qgroups"}
			}
			o = append(o, xfsMountOption(k))
		}
		return o, nil
	case fsExt4:
		var o []string
		for _, k := range kinds {
			if k == Subvolume {
				return nil, &UnavailableError{Path: "-", FSType: fstype, Kind: k, Reason: "subvolume quotas are btrfs qgroups"}
			}
			o = append(o, []string{"usrquota", "grpquota", "prjquota"}[k])
		}
		return o, nil
	case fsBtrfs:
		return nil, nil
	}
	return nil, &UnavailableError{Path: "-", FSType: fstype, Reason: "quotas are managed for ext4, xfs and btrfs only"}
}

// Enable turns quotas on where that is the library's to do: an unmounted
// ext4 device gets the quota and project features with user, group and
// project quota inodes (tune2fs -O quota,project -Q
// usrquota,grpquota,prjquota); a mounted btrfs gets qgroups online
// (BTRFS_IOC_QUOTA_CTL). xfs takes quotas from its mount options only:
// Enable reports them (MountOptions) and whether they are on. A mounted
// ext4 without quotas is ErrBusy (tune2fs needs it unmounted).
func (m *Manager) Enable(ctx context.Context, target string) (*Enablement, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Stat(target, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: target, Err: err}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFBLK {
		return m.enableDevice(ctx, target, st.Rdev)
	}
	mo, err := m.open(target)
	if err != nil {
		return nil, err
	}
	fstype := mo.fstype
	mo.close()
	e := &Enablement{FSType: fstype, Target: target}
	switch fstype {
	case fsBtrfs:
		return e, m.enableBtrfs(ctx, target, e)
	case fsXFS, fsExt4:
		e.MountOptions, _ = MountOptions(fstype)
	}
	var off []Kind
	for _, k := range []Kind{User, Group, Project} {
		on, err := m.Enabled(ctx, target, k)
		if err != nil {
			return nil, err
		}
		if !on {
			off = append(off, k)
		}
	}
	if len(off) == 0 {
		e.Applied, e.Note = true, "user, group and project quotas are on"
		if fstype == fsExt4 {
			e.Note += " (accounting; limits are enforced when mounted with the mount options)"
		}
		return e, nil
	}
	if fstype == fsXFS {
		e.Note = fmt.Sprintf("xfs enables quotas at mount only: %v off; mount with %v", off, e.MountOptions)
		return e, nil
	}
	return nil, fmt.Errorf("%w: %s is a mounted ext4 with %v quotas off: unmount it and Enable the device", ErrBusy, target, off)
}

func (m *Manager) enableBtrfs(ctx context.Context, mnt string, e *Enablement) error {
	f, err := m.btrfsOpen(&mount{path: mnt})
	if err != nil {
		return err
	}
	defer f.Close()
	on, err := f.QuotaEnabled(ctx)
	if err != nil {
		return err
	}
	if !on {
		m.log.Info("quota enable btrfs", "mountpoint", mnt)
		if err := f.EnableQuota(ctx); err != nil {
			return err
		}
	}
	e.Applied, e.Note = true, "btrfs qgroups on"
	return nil
}

// Superblock magics read from an unmounted device.
func probeDevice(dev string) (string, error) {
	f, err := os.Open(dev)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b := make([]byte, 8)
	if _, err := f.ReadAt(b[:4], 0); err == nil && string(b[:4]) == "XFSB" {
		return fsXFS, nil
	}
	if _, err := f.ReadAt(b[:2], 1024+56); err == nil && b[0] == 0x53 && b[1] == 0xef {
		return fsExt4, nil
	}
	if _, err := f.ReadAt(b, 65536+64); err == nil && string(b) == "_BHRfS_M" {
		return fsBtrfs, nil
	}
	return "", &UnavailableError{Path: dev, FSType: "unknown", Reason: "no ext4, xfs or btrfs superblock on the device"}
}

func (m *Manager) mountedDevice(rdev uint64) bool {
	mo := &mount{dev: rdev}
	_, err := m.device(mo)
	return err == nil
}

func (m *Manager) enableDevice(ctx context.Context, dev string, rdev uint64) (*Enablement, error) {
	fstype, err := probeDevice(dev)
	if err != nil {
		return nil, err
	}
	e := &Enablement{FSType: fstype, Target: dev}
	switch fstype {
	case fsXFS:
		e.MountOptions, _ = MountOptions(fsXFS)
		e.Note = "xfs enables quotas at mount: mount with " + fmt.Sprint(e.MountOptions)
		return e, nil
	case fsBtrfs:
		return nil, fmt.Errorf("%w: btrfs quotas are enabled online: mount %s and Enable its mountpoint", ErrBusy, dev)
	}
	if m.mountedDevice(rdev) {
		return nil, fmt.Errorf("%w: %s is mounted: tune2fs -O quota needs it unmounted", ErrBusy, dev)
	}
	m.log.Info("quota enable ext4", "device", dev)
	_, err = m.runner.Run(ctx, command.Cmd{Tool: "tune2fs", Args: []string{"-O", "quota,project", "-Q", "usrquota,grpquota,prjquota", dev}})
	if err != nil {
		var ee *command.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("quota: enable ext4 quotas on %s: %w", dev, err)
		}
		return nil, err
	}
	e.Applied = true
	e.MountOptions, _ = MountOptions(fsExt4)
	e.Note = "ext4 quota and project features set: usage is accounted from the next mount (the kernel needs CONFIG_QFMT_V2 to mount it); mount with the mount options to enforce limits"
	return e, nil
}
