package fsioctl

import (
	"bytes"
	"fmt"
	"runtime"
	"unsafe"
)

// FSLabelMax is FSLABEL_MAX in linux/fs.h: the interface's buffer size,
// including the terminating NUL. Each filesystem allows less (ext4 16,
// xfs 12, btrfs 255 bytes).
const FSLabelMax = 256

// Request numbers from include/uapi/linux/fs.h.
var (
	FSIocGetFSLabel = archIOC.ior(0x94, 49, FSLabelMax)
	FSIocSetFSLabel = archIOC.iow(0x94, 50, FSLabelMax)
	// FIFREEZE and FITHAW are declared _IOWR('X', 119/120, int); the kernel
	// ignores the argument.
	FIFreeze = archIOC.iowr('X', 119, 4)
	FIThaw   = archIOC.iowr('X', 120, 4)
)

// GetFSLabel returns the label of the filesystem fd is on
// (FS_IOC_GETFSLABEL, ext4/xfs/btrfs since Linux 4.18-5.x; ENOTTY elsewhere).
func GetFSLabel(fd int) (string, error) {
	var b [FSLabelMax]byte
	err := ioctl(fd, "FS_IOC_GETFSLABEL", FSIocGetFSLabel, unsafe.Pointer(&b))
	runtime.KeepAlive(&b)
	if err != nil {
		return "", err
	}
	if i := bytes.IndexByte(b[:], 0); i >= 0 {
		return string(b[:i]), nil
	}
	return string(b[:]), nil
}

// SetFSLabel sets the label (FS_IOC_SETFSLABEL; needs CAP_SYS_ADMIN). The
// label must leave room for the NUL and contain none; the filesystem checks
// its own, smaller limit (EINVAL).
func SetFSLabel(fd int, label string) error {
	if len(label) >= FSLabelMax || bytes.IndexByte([]byte(label), 0) >= 0 {
		return fmt.Errorf("fsioctl: label of %d bytes: must be under %d with no NUL", len(label), FSLabelMax)
	}
	var b [FSLabelMax]byte
	copy(b[:], label)
	err := ioctl(fd, "FS_IOC_SETFSLABEL", FSIocSetFSLabel, unsafe.Pointer(&b))
	runtime.KeepAlive(&b)
	return err
}

// Freeze runs FIFREEZE: the filesystem flushes and blocks every new write
// until Thaw. EBUSY means it is already frozen.
func Freeze(fd int) error {
	return ioctl(fd, "FIFREEZE", FIFreeze, unsafe.Pointer(nil))
}

// Thaw runs FITHAW. EINVAL means it was not frozen.
func Thaw(fd int) error {
	return ioctl(fd, "FITHAW", FIThaw, unsafe.Pointer(nil))
}
