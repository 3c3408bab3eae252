package fsioctl

import (
	"runtime"
	"unsafe"
)

// Ext4IocResizeFS is EXT4_IOC_RESIZE_FS, _IOW('f', 16, __u64) in
// fs/ext4/ext4.h (not exported in uapi headers). Its argument is the new
// block count. The kernel checks CAP_SYS_RESOURCE (ext4_ioctl_group_add and
// EXT4_IOC_RESIZE_FS both) and refuses a smaller count with EINVAL.
var Ext4IocResizeFS = archIOC.iow('f', 16, 8)

// Ext4ResizeFS grows the ext4 filesystem fd is on to newBlocks blocks. It
// blocks until the kernel has added every new group.
func Ext4ResizeFS(fd int, newBlocks uint64) error {
	n := newBlocks
	err := ioctl(fd, "EXT4_IOC_RESIZE_FS", Ext4IocResizeFS, unsafe.Pointer(&n))
	runtime.KeepAlive(&n)
	return err
}
