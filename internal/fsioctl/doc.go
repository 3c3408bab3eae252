// Package fsioctl is the raw filesystem ioctl layer under fsys: the request
// numbers and C structs of online resize (EXT4_IOC_RESIZE_FS,
// XFS_IOC_FSGEOMETRY / XFS_IOC_FSGROWFSDATA, BTRFS_IOC_RESIZE), btrfs device
// and tree queries (BTRFS_IOC_FS_INFO, BTRFS_IOC_DEV_INFO,
// BTRFS_IOC_TREE_SEARCH), the generic label ioctls (FS_IOC_GETFSLABEL,
// FS_IOC_SETFSLABEL) and freeze/thaw (FIFREEZE, FITHAW).
//
// One file per family (ext4.go, xfs.go, btrfs.go, fs.go). The structs mirror
// include/uapi/linux/btrfs.h, linux/fs.h, fs/xfs/libxfs/xfs_fs.h and
// fs/ext4/ext4.h field for field; the tests hold their sizes and offsets,
// and the request numbers, against values taken from those headers.
//
// Every function takes an open file descriptor on the filesystem (the
// mountpoint directory opened O_RDONLY|O_DIRECTORY works for all of them)
// and returns the kernel's errno wrapped by os.NewSyscallError, so callers
// can test errors.Is(err, unix.EPERM). Nothing here interprets errors or
// knows about capabilities: package fsys does.
package fsioctl
