package quota

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// ProjectAttr is a file's project id and whether new entries of a directory
// inherit it (FS_XFLAG_PROJINHERIT).
type ProjectAttr struct {
	ID      uint32 `json:"id"`
	Inherit bool   `json:"inherit"`
}

// SetProject gives dir (a directory, or a file with inherit false) the
// project id projid by FS_IOC_FSSETXATTR; with inherit, files and
// directories made below it later get the same id. Existing entries below
// dir keep theirs (walk the tree to relabel them). It works on ext4 (with
// the project feature) and xfs whether or not quota accounting is on;
// btrfs has no project ids. Changing a project id needs root.
func (m *Manager) SetProject(ctx context.Context, dir string, projid uint32, inherit bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if projid == ^uint32(0) {
		return fmt.Errorf("%w: project id %d", ErrInvalid, projid)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	x, err := fsioctl.GetFsxattr(fd)
	if err != nil {
		return m.projectErr(fd, dir, err)
	}
	x.ProjID = projid
	if inherit {
		x.XFlags |= fsioctl.FSXflagProjInherit
	} else {
		x.XFlags &^= fsioctl.FSXflagProjInherit
	}
	m.log.Debug("quota project", "dir", dir, "projid", projid, "inherit", inherit)
	if err := fsioctl.SetFsxattr(fd, &x); err != nil {
		return m.projectErr(fd, dir, err)
	}
	return nil
}

// GetProject reads the project id of dir (FS_IOC_FSGETXATTR).
func (m *Manager) GetProject(ctx context.Context, dir string) (ProjectAttr, error) {
	if err := ctx.Err(); err != nil {
		return ProjectAttr{}, err
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return ProjectAttr{}, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	x, err := fsioctl.GetFsxattr(fd)
	if err != nil {
		return ProjectAttr{}, m.projectErr(fd, dir, err)
	}
	return ProjectAttr{ID: x.ProjID, Inherit: x.XFlags&fsioctl.FSXflagProjInherit != 0}, nil
}

func (m *Manager) projectErr(fd int, dir string, err error) error {
	var sf unix.Statfs_t
	fstype := "unknown"
	if unix.Fstatfs(fd, &sf) == nil {
		switch uint32(sf.Type) {
		case unix.EXT4_SUPER_MAGIC:
			fstype = fsExt4
		case unix.XFS_SUPER_MAGIC:
			fstype = fsXFS
		case unix.BTRFS_SUPER_MAGIC:
			fstype = fsBtrfs
		default:
			fstype = fmt.Sprintf("magic %#x", uint32(sf.Type))
		}
	}
	ue := &UnavailableError{Path: dir, FSType: fstype, Kind: Project, Err: err}
	switch {
	case errors.Is(err, unix.ENOTTY):
		ue.Reason = "the filesystem has no FS_IOC_FSGETXATTR/FS_IOC_FSSETXATTR"
	case errors.Is(err, unix.EOPNOTSUPP) && fstype == fsExt4:
		ue.Reason = "ext4 without the project feature (mkfs.ext4 -O project, or Enable)"
	case errors.Is(err, unix.EOPNOTSUPP):
		ue.Reason = "the filesystem keeps no project ids"
	default:
		return &os.PathError{Op: "project id", Path: dir, Err: err}
	}
	return ue
}
