package fsys

import (
	"context"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// Freeze freezes the filesystem mounted at mountpoint (FIFREEZE): it
// flushes, then every new write blocks until the thaw. It returns the thaw,
// which runs FITHAW once: the first call reports FITHAW's result and later
// calls return nil.
//
// A frozen filesystem is never left behind by a failing caller: when ctx
// ends before the caller thaws, a goroutine thaws at once (so pass a ctx
// with a deadline that bounds how long the freeze may last). The goroutine
// exits as soon as the filesystem is thawed either way, so nothing leaks
// after thaw. Call thaw in every case (defer it): it also closes the file
// descriptor held for FITHAW.
//
// An already frozen filesystem is ErrBusy (the kernel's EBUSY): whoever
// froze it must thaw it, so this Freeze neither waits nor thaws. FIFREEZE
// needs CAP_SYS_ADMIN; a filesystem without freeze support is
// *NotSupportedError.
func Freeze(ctx context.Context, mountpoint string) (thaw func() error, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fd, err := openMountpoint(mountpoint)
	if err != nil {
		return nil, err
	}
	t := typeOfFd(fd)
	if err := fsioctl.Freeze(fd); err != nil {
		unix.Close(fd)
		return nil, ioctlError("FIFREEZE", mountpoint, t, "freeze", "CAP_SYS_ADMIN", capSysAdmin, err)
	}
	var (
		once    sync.Once
		thawErr error
		done    = make(chan struct{})
	)
	doThaw := func() {
		once.Do(func() {
			if err := fsioctl.Thaw(fd); err != nil {
				thawErr = ioctlError("FITHAW", mountpoint, t, "thaw", "CAP_SYS_ADMIN", capSysAdmin, err)
			}
			unix.Close(fd)
			close(done)
		})
	}
	go func() {
		select {
		case <-ctx.Done():
			doThaw()
		case <-done:
		}
	}()
	var reported sync.Once
	return func() error {
		doThaw()
		var err error
		// Only the first caller of thaw sees FITHAW's error: a second
		// thaw is a no-op, not a repeated failure.
		reported.Do(func() { err = thawErr })
		return err
	}, nil
}
