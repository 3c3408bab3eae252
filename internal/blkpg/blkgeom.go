package blkpg

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Numbers from include/uapi/linux/fs.h.
const (
	BLKRRPART    = 0x125f     // _IO(0x12, 95): re-read the partition table
	BLKSSZGET    = 0x1268     // _IO(0x12, 104): logical sector size, int
	BLKIOMIN     = 0x1278     // _IO(0x12, 120): minimum I/O size, unsigned int
	BLKIOOPT     = 0x1279     // _IO(0x12, 121): optimal I/O size, unsigned int
	BLKPBSZGET   = 0x127b     // _IO(0x12, 123): physical sector size, unsigned int
	BLKGETSIZE64 = 0x80081272 // _IOR(0x12, 114, size_t): size in bytes, u64 (64-bit size_t)
)

func ioctlInt(fd uintptr, req uintptr, name string) (uint32, error) {
	var v uint32
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(&v)))
	if errno != 0 {
		return 0, os.NewSyscallError("ioctl "+name, errno)
	}
	return v, nil
}

// Size64 returns the device size in bytes.
func Size64(fd uintptr) (uint64, error) {
	var v uint64
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, BLKGETSIZE64, uintptr(unsafe.Pointer(&v)))
	if errno != 0 {
		return 0, os.NewSyscallError("ioctl BLKGETSIZE64", errno)
	}
	return v, nil
}

// LogicalSectorSize returns BLKSSZGET.
func LogicalSectorSize(fd uintptr) (int, error) {
	v, err := ioctlInt(fd, BLKSSZGET, "BLKSSZGET")
	return int(v), err
}

// PhysicalSectorSize returns BLKPBSZGET.
func PhysicalSectorSize(fd uintptr) (int, error) {
	v, err := ioctlInt(fd, BLKPBSZGET, "BLKPBSZGET")
	return int(v), err
}

// MinimumIO returns BLKIOMIN.
func MinimumIO(fd uintptr) (int, error) {
	v, err := ioctlInt(fd, BLKIOMIN, "BLKIOMIN")
	return int(v), err
}

// OptimalIO returns BLKIOOPT (0 when the device states none).
func OptimalIO(fd uintptr) (int, error) {
	v, err := ioctlInt(fd, BLKIOOPT, "BLKIOOPT")
	return int(v), err
}

// RereadPartitions issues BLKRRPART. It fails with EBUSY while any partition
// of the disk is open.
func RereadPartitions(fd uintptr) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, fd, BLKRRPART, 0)
	if errno != 0 {
		return os.NewSyscallError("ioctl BLKRRPART", errno)
	}
	return nil
}
