package fsys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
)

// BtrfsDevInfo is one device of a mounted btrfs, as BTRFS_IOC_DEV_INFO
// reports it.
type BtrfsDevInfo struct {
	Devid      uint64
	UUID       string // the device's uuid (dev_item.uuid), not the filesystem's
	Path       string // the device node the kernel opened
	TotalBytes int64  // the size btrfs uses on this device
	UsedBytes  int64  // bytes allocated to chunks on it
}

// btrfsDevices lists the devices of the btrfs mounted at mountpoint:
// BTRFS_IOC_FS_INFO for the highest devid, then BTRFS_IOC_DEV_INFO for
// each id up to it (ids of removed devices answer ENODEV and are skipped).
func btrfsDevices(ctx context.Context, mountpoint string) ([]BtrfsDevInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fd, err := openMountpoint(mountpoint)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	if err := checkMagic(fd, mountpoint, Btrfs); err != nil {
		return nil, err
	}
	info, err := fsioctl.BtrfsFSInfo(fd)
	if err != nil {
		return nil, ioctlError("BTRFS_IOC_FS_INFO", mountpoint, Btrfs, "device info", "CAP_SYS_ADMIN", capSysAdmin, err)
	}
	return btrfsDevicesFd(fd, mountpoint, info)
}

func btrfsDevicesFd(fd int, mountpoint string, info fsioctl.BtrfsFSInfoArgs) ([]BtrfsDevInfo, error) {
	var out []BtrfsDevInfo
	for id := uint64(1); id <= info.MaxID; id++ {
		d, err := fsioctl.BtrfsDevInfo(fd, id)
		if errors.Is(err, unix.ENODEV) {
			continue
		}
		if err != nil {
			return nil, ioctlError("BTRFS_IOC_DEV_INFO", mountpoint, Btrfs, "device info", "CAP_SYS_ADMIN", capSysAdmin, err)
		}
		path := d.Path[:]
		if i := bytes.IndexByte(path, 0); i >= 0 {
			path = path[:i]
		}
		out = append(out, BtrfsDevInfo{
			Devid:      d.Devid,
			UUID:       uuid.UUID(d.UUID).String(),
			Path:       string(path),
			TotalBytes: clampInt64(d.TotalBytes),
			UsedBytes:  clampInt64(d.BytesUsed),
		})
	}
	if uint64(len(out)) != info.NumDevices {
		return out, fmt.Errorf("fsys: btrfs %s: FS_INFO says %d devices, DEV_INFO found %d", mountpoint, info.NumDevices, len(out))
	}
	return out, nil
}

func clampInt64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}

// btrfsResizeDevice sets the size btrfs uses on device devid of the
// filesystem mounted at mountpoint, by BTRFS_IOC_RESIZE "devid:bytes";
// newBytes == 0 means "devid:max" (the whole device). A shrink below what
// btrfsMinDevSize computes is refused before the ioctl (below_min_size): the
// kernel would try, relocate chunks for a long time, then fail with ENOSPC.
//
// Cancellation: ctx is checked before the ioctl. A shrink relocates every
// chunk past the new end and can run for minutes; the ioctl cannot be
// interrupted, so when ctx ends during it btrfsResizeDevice still waits and
// returns the kernel's result.
func btrfsResizeDevice(ctx context.Context, mountpoint string, devid uint64, newBytes int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fd, err := openMountpoint(mountpoint)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := checkMagic(fd, mountpoint, Btrfs); err != nil {
		return err
	}
	return btrfsResizeDeviceFd(ctx, fd, mountpoint, devid, newBytes)
}

func btrfsResizeDeviceFd(ctx context.Context, fd int, mountpoint string, devid uint64, newBytes int64) error {
	if devid == 0 {
		return fmt.Errorf("%w: btrfs devid 0", ErrInvalid)
	}
	if newBytes < 0 {
		return fmt.Errorf("%w: new size %d bytes", ErrInvalid, newBytes)
	}
	spec := fmt.Sprintf("%d:max", devid)
	if newBytes > 0 {
		spec = fmt.Sprintf("%d:%d", devid, newBytes)
		d, err := fsioctl.BtrfsDevInfo(fd, devid)
		if err != nil {
			if errors.Is(err, unix.ENODEV) {
				return fmt.Errorf("%w: %s has no btrfs device %d", ErrInvalid, mountpoint, devid)
			}
			return ioctlError("BTRFS_IOC_DEV_INFO", mountpoint, Btrfs, "online resize", "CAP_SYS_ADMIN", capSysAdmin, err)
		}
		if uint64(newBytes) < d.TotalBytes {
			min, err := btrfsMinDevSizeFd(ctx, fd, mountpoint, devid)
			if err != nil {
				return err
			}
			if newBytes < min {
				return &RefusedError{Code: "below_min_size", Reason: fmt.Sprintf(
					"btrfs device %d of %s cannot shrink below %d bytes (asked %d)", devid, mountpoint, min, newBytes)}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := fsioctl.BtrfsResize(fd, spec); err != nil {
		return ioctlError("BTRFS_IOC_RESIZE", mountpoint, Btrfs, "online resize", "CAP_SYS_ADMIN", capSysAdmin, err)
	}
	return nil
}

// btrfsMinDevSize is the smallest size device devid of the btrfs mounted at
// mountpoint can be shrunk to, computed as `btrfs inspect-internal
// min-dev-size --id devid` computes it (btrfs-progs cmds/inspect.c): 1 MiB
// (nothing is allocated below it) plus the length of every dev extent; then,
// walking the extents from the one that ends last, each extent ending past
// that sum must move into a hole below it: if a hole is big enough it does
// (one more extent length is added when that hole holds a superblock
// mirror), otherwise the minimum becomes that extent's end and the walk
// stops. If anything must move, the largest moved extent is added as scratch
// space plus 32 MiB for a possible new system chunk. It reads the device
// tree with BTRFS_IOC_TREE_SEARCH (CAP_SYS_ADMIN).
func btrfsMinDevSize(ctx context.Context, mountpoint string, devid uint64) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	fd, err := openMountpoint(mountpoint)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	if err := checkMagic(fd, mountpoint, Btrfs); err != nil {
		return 0, err
	}
	return btrfsMinDevSizeFd(ctx, fd, mountpoint, devid)
}

func btrfsMinDevSizeFd(ctx context.Context, fd int, mountpoint string, devid uint64) (int64, error) {
	ext, err := btrfsDevExtents(ctx, fd, mountpoint, devid)
	if err != nil {
		return 0, err
	}
	return clampInt64(minDevSize(ext)), nil
}

// devExtent is one dev extent: [start, end] inclusive, as the tool keeps it.
type devExtent struct{ start, end uint64 }

// btrfsDevExtents returns devid's dev extents in ascending offset order (the
// tree's order), walking the device tree with fsioctl.BtrfsSearch.
func btrfsDevExtents(ctx context.Context, fd int, mountpoint string, devid uint64) ([]devExtent, error) {
	key := fsioctl.BtrfsSearchRange(fsioctl.BtrfsDevTreeObjectID)
	key.MinObjectID, key.MaxObjectID = devid, devid
	key.MinType, key.MaxType = fsioctl.BtrfsDevExtentKey, fsioctl.BtrfsDevExtentKey
	var out []devExtent
	err := fsioctl.BtrfsSearch(ctx, fd, key, func(h fsioctl.BtrfsSearchHeader, item []byte) error {
		if h.ObjectID != devid || h.Type != fsioctl.BtrfsDevExtentKey {
			return nil
		}
		n, ok := fsioctl.BtrfsDevExtentLength(item)
		if !ok || n == 0 || h.Offset+n < h.Offset {
			return fmt.Errorf("fsys: btrfs %s: malformed dev extent at %d (%d bytes)", mountpoint, h.Offset, len(item))
		}
		out = append(out, devExtent{start: h.Offset, end: h.Offset + n - 1})
		return nil
	})
	var se *os.SyscallError
	if errors.As(err, &se) {
		return nil, ioctlError("BTRFS_IOC_TREE_SEARCH", mountpoint, Btrfs, "min device size", "CAP_SYS_ADMIN", capSysAdmin, err)
	}
	if errors.Is(err, fsioctl.ErrShortItem) {
		return nil, fmt.Errorf("fsys: btrfs %s: %w", mountpoint, err)
	}
	return out, err
}

// btrfsSuperMirrors are the superblock copies' offsets (btrfs_sb_offset:
// 64 KiB, then 16 KiB << 12*i for i = 1, 2).
var btrfsSuperMirrors = [...]uint64{64 << 10, 64 << 20, 256 << 30}

// minDevSize is the min-dev-size computation on extents sorted by start.
func minDevSize(ext []devExtent) uint64 {
	const mib = 1 << 20
	min := uint64(mib)
	var holes []devExtent // ascending, only between extents
	for i, e := range ext {
		min += e.end - e.start + 1
		if i > 0 && ext[i-1].end+1 != e.start {
			holes = append(holes, devExtent{start: ext[i-1].end + 1, end: e.start - 1})
		}
	}
	// The tool's list is in descending order of end.
	byEnd := append([]devExtent(nil), ext...)
	sort.SliceStable(byEnd, func(i, j int) bool { return byEnd[i].end > byEnd[j].end })
	var scratch uint64
	for _, e := range byEnd {
		if e.end <= min {
			break
		}
		n := e.end - e.start + 1
		h := -1
		for i, x := range holes {
			if x.end-x.start+1 >= n {
				h = i
				break
			}
		}
		if h < 0 {
			min = e.end + 1
			break
		}
		if holeHasMirror(holes[h].start, holes[h].start+n-1) {
			min += n
		}
		if holes[h].end-holes[h].start+1 > n {
			holes[h].start += n
		} else {
			holes = append(holes[:h], holes[h+1:]...)
		}
		scratch = max(scratch, n)
	}
	if scratch > 0 {
		min += scratch + 32*mib
	}
	return min
}

func holeHasMirror(start, end uint64) bool {
	for _, m := range btrfsSuperMirrors {
		if m >= start && m <= end {
			return true
		}
	}
	return false
}
