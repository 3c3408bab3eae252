// Package cdrom holds the one optical-drive ioctl the probe needs.
package cdrom

import "golang.org/x/sys/unix"

// GetCapability is CDROM_GET_CAPABILITY from include/uapi/linux/cdrom.h. It
// takes no argument and returns the drive's capability mask; it fails with
// ENOTTY or EINVAL on anything that is not an optical drive.
const GetCapability = 0x5331

// IsOptical reports whether fd is an optical drive, asked as blkid asks it.
func IsOptical(fd int) bool {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), GetCapability, 0)
	return errno == 0
}
