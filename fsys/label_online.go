package fsys

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// onlineLabelMax is the longest label, in bytes, each type takes through
// FS_IOC_SETFSLABEL: ext4's s_volume_name is 16 bytes (no NUL needed), xfs's
// sb_fname 12, btrfs's label 256 with its NUL (BTRFS_LABEL_SIZE).
var onlineLabelMax = map[int64]struct {
	t   Type
	max int
}{
	magicExt:   {Ext4, 16},
	magicXFS:   {XFS, 12},
	magicBtrfs: {Btrfs, fsioctl.BtrfsLabelSize - 1},
}

// getLabelOnline reads the label of the filesystem mounted at mountpoint by
// FS_IOC_GETFSLABEL. A filesystem without the ioctl (vfat, older kernels)
// is a *NotSupportedError.
func getLabelOnline(ctx context.Context, mountpoint string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	fd, err := openMountpoint(mountpoint)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	t := typeOfFd(fd)
	l, err := fsioctl.GetFSLabel(fd)
	if err != nil {
		return "", ioctlError("FS_IOC_GETFSLABEL", mountpoint, t, "get label online", "CAP_SYS_ADMIN", capSysAdmin, err)
	}
	return l, nil
}

// setLabelOnline sets the label of the filesystem mounted at mountpoint by
// FS_IOC_SETFSLABEL (CAP_SYS_ADMIN). The label is checked before the ioctl:
// no NUL, no newline (blkid and fstab could not carry it), and no longer
// than the type allows (ext4 16, xfs 12, btrfs 255 bytes; FSLABEL_MAX-1 for
// a type fsys does not know), else *RefusedError label_too_long or
// ErrInvalid. The kernel writes the superblock itself (xfs and ext4 at once,
// btrfs in a committed transaction), so blkid -p sees the new label.
func setLabelOnline(ctx context.Context, mountpoint, label string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if strings.ContainsAny(label, "\x00\n") {
		return fmt.Errorf("%w: label %q contains a NUL or a newline", ErrInvalid, label)
	}
	fd, err := openMountpoint(mountpoint)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	t := typeOfFd(fd)
	max := fsioctl.FSLabelMax - 1
	var st unix.Statfs_t
	if unix.Fstatfs(fd, &st) == nil {
		if l, ok := onlineLabelMax[int64(st.Type)]; ok {
			max = l.max
		}
	}
	if len(label) > max {
		return &RefusedError{Code: "label_too_long", Reason: fmt.Sprintf(
			"label of %d bytes: %s takes at most %d", len(label), typeName(t), max)}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := fsioctl.SetFSLabel(fd, label); err != nil {
		return ioctlError("FS_IOC_SETFSLABEL", mountpoint, t, "set label online", "CAP_SYS_ADMIN", capSysAdmin, err)
	}
	return nil
}

// typeOfFd names the filesystem fd is on by its statfs magic, "" when fsys
// has no name for it (errors then say so).
func typeOfFd(fd int) Type {
	var st unix.Statfs_t
	if unix.Fstatfs(fd, &st) != nil {
		return ""
	}
	if l, ok := onlineLabelMax[int64(st.Type)]; ok {
		return l.t
	}
	if int64(st.Type) == magicMSDOS {
		return VFAT
	}
	return ""
}

func typeName(t Type) string {
	if t == "" {
		return "this filesystem"
	}
	return string(t)
}
