package fsys

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// Thaw thaws the filesystem mounted at mountpoint (FITHAW) that someone
// froze and left frozen (fsfreeze -f, or `fs freeze`, which exits with the
// filesystem frozen). A filesystem that is not frozen is the kernel's
// EINVAL, returned as it is. Within one program, call the thaw Freeze
// returned instead.
func Thaw(ctx context.Context, mountpoint string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fd, err := openMountpoint(mountpoint)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := fsioctl.Thaw(fd); err != nil {
		return ioctlError("FITHAW", mountpoint, typeOfFd(fd), "thaw", "CAP_SYS_ADMIN", capSysAdmin, err)
	}
	return nil
}
