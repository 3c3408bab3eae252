package fsys

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// Capability numbers from linux/capability.h, for PermissionError.Have.
const (
	capSysAdmin    = 21
	capSysResource = 24
)

// Filesystem magic numbers from linux/magic.h, to check that a mountpoint
// holds the type the caller named before an ioctl meant for that type.
const (
	magicExt    = 0xEF53
	magicXFS    = 0x58465342
	magicBtrfs  = 0x9123683E
	magicMSDOS  = 0x4d44
	magicUnused = 0
)

// onlineResize resizes the filesystem mounted at mountpoint to newBytes by
// ioctl, with no tool:
//   - ext2/3/4 (mounted by the ext4 driver): EXT4_IOC_RESIZE_FS with the new
//     block count; grow only, a smaller size is refused before the ioctl
//     (online_shrink_not_supported). The kernel requires CAP_SYS_RESOURCE.
//   - xfs: XFS_IOC_FSGEOMETRY (v5, else v4) for the block size, the current
//     data block count and imaxpct, then XFS_IOC_FSGROWFSDATA with the new
//     count and the CURRENT imaxpct (passing 0 would change the inode space
//     limit). Grow only. CAP_SYS_ADMIN.
//   - btrfs with one device: BTRFS_IOC_RESIZE "devid:bytes" (grow or shrink;
//     see btrfsResizeDevice). A multi-device btrfs is refused
//     (btrfs_multi_device): which device to resize is the caller's choice, by
//     btrfsResizeDevice per device.
//
// newBytes is rounded down to the filesystem block size. Asking for the
// current size does nothing and returns nil.
//
// Cancellation: ctx is checked before any ioctl. An ioctl cannot be
// interrupted, so if ctx ends while the kernel resizes, onlineResize still
// waits for the kernel and returns its result (the resize then has happened,
// or failed, and the caller must be told which): it never reports ctx.Err()
// for a resize that went through.
func onlineResize(ctx context.Context, mountpoint string, t Type, newBytes int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if newBytes <= 0 {
		return fmt.Errorf("%w: new size %d bytes", ErrInvalid, newBytes)
	}
	fd, err := openMountpoint(mountpoint)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := checkMagic(fd, mountpoint, t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case t.IsExt():
		return ext4OnlineGrow(fd, mountpoint, t, newBytes)
	case t == XFS:
		return xfsOnlineGrow(fd, mountpoint, newBytes)
	case t == Btrfs:
		info, err := fsioctl.BtrfsFSInfo(fd)
		if err != nil {
			return ioctlError("BTRFS_IOC_FS_INFO", mountpoint, Btrfs, "online resize", "CAP_SYS_ADMIN", capSysAdmin, err)
		}
		if info.NumDevices != 1 {
			return &RefusedError{Code: "btrfs_multi_device", Reason: fmt.Sprintf(
				"%s has %d devices: resize each one by devid", mountpoint, info.NumDevices)}
		}
		devs, err := btrfsDevicesFd(fd, mountpoint, info)
		if err != nil {
			return err
		}
		if len(devs) != 1 {
			return fmt.Errorf("fsys: btrfs %s: FS_INFO says 1 device, DEV_INFO found %d", mountpoint, len(devs))
		}
		return btrfsResizeDeviceFd(ctx, fd, mountpoint, devs[0].Devid, newBytes)
	default:
		return &NotSupportedError{Type: t, What: "online resize"}
	}
}

func ext4OnlineGrow(fd int, mountpoint string, t Type, newBytes int64) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return fmt.Errorf("fsys: statfs %s: %w", mountpoint, os.NewSyscallError("fstatfs", err))
	}
	bs := int64(st.Bsize) // ext4's f_bsize is its block size
	if bs <= 0 {
		return fmt.Errorf("fsys: %s: statfs block size %d", mountpoint, bs)
	}
	newBlocks := uint64(newBytes / bs)
	cur, err := ext4BlockCount(fd)
	if err != nil {
		return fmt.Errorf("fsys: %s: reading the block count: %w", mountpoint, err)
	}
	switch {
	case newBlocks < cur:
		return &RefusedError{Code: "online_shrink_not_supported", Reason: fmt.Sprintf(
			"%s is %d blocks; ext4 cannot shrink to %d while mounted (unmount, then resize offline)", mountpoint, cur, newBlocks)}
	case newBlocks == cur:
		return nil
	}
	if err := fsioctl.Ext4ResizeFS(fd, newBlocks); err != nil {
		return ioctlError("EXT4_IOC_RESIZE_FS", mountpoint, t, "online grow", "CAP_SYS_RESOURCE", capSysResource, err)
	}
	return nil
}

// ext4BlockCount reads s_blocks_count from the primary superblock of the
// device the mounted filesystem fd is on. statfs cannot give it (f_blocks
// leaves out the metadata overhead). Reading the block device goes through
// the same buffer cache ext4 writes its superblock to, so it is current.
func ext4BlockCount(fd int) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, os.NewSyscallError("fstat", err)
	}
	dev, err := devNode(unix.Major(st.Dev), unix.Minor(st.Dev))
	if err != nil {
		return 0, err
	}
	f, err := os.Open(dev)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sb := make([]byte, 1024)
	if _, err := f.ReadAt(sb, 1024); err != nil {
		return 0, fmt.Errorf("%s: %w", dev, err)
	}
	return parseExt4BlockCount(sb)
}

// parseExt4BlockCount takes s_blocks_count_lo (0x04) and, with the 64bit
// incompat feature (0x80 in s_feature_incompat at 0x60), s_blocks_count_hi
// (0x150) from a 1024-byte ext2/3/4 superblock.
func parseExt4BlockCount(sb []byte) (uint64, error) {
	if len(sb) < 0x154 || binary.LittleEndian.Uint16(sb[0x38:]) != magicExt {
		return 0, fmt.Errorf("%w: no ext2/3/4 superblock", ErrUnknownFilesystem)
	}
	n := uint64(binary.LittleEndian.Uint32(sb[0x04:]))
	if binary.LittleEndian.Uint32(sb[0x60:])&0x80 != 0 {
		n |= uint64(binary.LittleEndian.Uint32(sb[0x150:])) << 32
	}
	return n, nil
}

// devNode finds /dev/NAME for a device number through sysfs's uevent (no
// udev here, so /dev/block links may be missing).
func devNode(major, minor uint32) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/sys/dev/block/%d:%d/uevent", major, minor))
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(l, "DEVNAME="); ok && name != "" && !strings.Contains(name, "..") {
			return filepath.Join("/dev", name), nil
		}
	}
	return "", fmt.Errorf("fsys: no DEVNAME for block device %d:%d", major, minor)
}

func xfsOnlineGrow(fd int, mountpoint string, newBytes int64) error {
	g, _, err := fsioctl.XFSGeometry(fd)
	if err != nil {
		return ioctlError("XFS_IOC_FSGEOMETRY", mountpoint, XFS, "online grow", "CAP_SYS_ADMIN", capSysAdmin, err)
	}
	if g.Blocksize == 0 {
		return fmt.Errorf("fsys: %s: xfs geometry with block size 0", mountpoint)
	}
	newBlocks := uint64(newBytes) / uint64(g.Blocksize)
	switch {
	case newBlocks < g.Datablocks:
		return &RefusedError{Code: "online_shrink_not_supported", Reason: fmt.Sprintf(
			"%s has %d data blocks; xfs cannot shrink to %d", mountpoint, g.Datablocks, newBlocks)}
	case newBlocks == g.Datablocks:
		return nil
	}
	if err := fsioctl.XFSGrowData(fd, newBlocks, g.Imaxpct); err != nil {
		return ioctlError("XFS_IOC_FSGROWFSDATA", mountpoint, XFS, "online grow", "CAP_SYS_ADMIN", capSysAdmin, err)
	}
	return nil
}

// openMountpoint opens the mountpoint directory the way every ioctl here
// needs it: a file on the filesystem (xfs and btrfs ioctls go to the
// filesystem of the file), read-only, a directory, not inherited by tools.
func openMountpoint(mountpoint string) (int, error) {
	if mountpoint == "" || !filepath.IsAbs(mountpoint) {
		return -1, fmt.Errorf("%w: mountpoint %q must be an absolute path", ErrInvalid, mountpoint)
	}
	fd, err := unix.Open(mountpoint, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("fsys: open %s: %w", mountpoint, &os.PathError{Op: "open", Path: mountpoint, Err: err})
	}
	return fd, nil
}

// checkMagic refuses an ioctl meant for t on a filesystem of another type
// (the numbers of different families can collide in meaning).
func checkMagic(fd int, mountpoint string, t Type) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return fmt.Errorf("fsys: statfs %s: %w", mountpoint, os.NewSyscallError("fstatfs", err))
	}
	want := map[Type]int64{Ext2: magicExt, Ext3: magicExt, Ext4: magicExt, XFS: magicXFS, Btrfs: magicBtrfs, VFAT: magicMSDOS}[t]
	if want != magicUnused && int64(st.Type) != want {
		return fmt.Errorf("%w: %s is not %s (filesystem magic %#x)", ErrInvalid, mountpoint, t, st.Type)
	}
	return nil
}

// ioctlError turns an ioctl's errno into fsys's typed errors: EPERM/EACCES a
// *PermissionError naming the capability the call needs and whether this
// process has it, ENOTTY/EOPNOTSUPP a *NotSupportedError, EBUSY ErrBusy.
// Anything else keeps the syscall error.
func ioctlError(op, path string, t Type, what, capName string, capBit int, err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return &PermissionError{Op: op, Path: path, Capability: capName, Have: haveCapability(capBit), Err: err}
	case errors.Is(err, unix.ENOTTY), errors.Is(err, unix.EOPNOTSUPP):
		return &NotSupportedError{Type: t, What: what, Missing: "kernel support for " + op}
	case errors.Is(err, unix.EBUSY):
		return fmt.Errorf("%w: %s %s: %w", ErrBusy, op, path, err)
	}
	return fmt.Errorf("fsys: %s %s: %w", op, path, err)
}

// haveCapability reports whether bit is set in CapEff of /proc/self/status.
// An unreadable status counts as not having it (the report then says the
// process lacks it, which is the safe guess after an EPERM).
func haveCapability(bit int) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	v, ok := parseCapEff(string(b))
	return ok && v&(1<<uint(bit)) != 0
}

// parseCapEff finds the "CapEff:\t<hex>" line.
func parseCapEff(status string) (uint64, bool) {
	for _, l := range strings.Split(status, "\n") {
		if rest, ok := strings.CutPrefix(l, "CapEff:"); ok {
			v, err := strconv.ParseUint(strings.TrimSpace(rest), 16, 64)
			return v, err == nil
		}
	}
	return 0, false
}
