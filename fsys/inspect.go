package fsys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unsafe"

	"github.com/CodeMonkeyCybersecurity/eos-storage/fsys/superblock"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/blkpg"
	"github.com/CodeMonkeyCybersecurity/eos-storage/internal/fsioctl"
	"github.com/CodeMonkeyCybersecurity/eos-storage/safety"
	"golang.org/x/sys/unix"
)

// Info is what Inspect reports: the superblock's view, where the
// filesystem is mounted, and, when it is, free space and members as the
// kernel sees them.
type Info struct {
	superblock.Super
	Device      string `json:"device"`
	DeviceBytes int64  `json:"device_bytes"`
	// FreeFrom says where FreeBytes came from: "superblock" (unmounted, or
	// swap) or "statfs" (mounted: the superblock's counters are stale
	// while the kernel holds the filesystem, xfs and ext4 write them back
	// lazily). AvailBytes is statfs's f_bavail (space an unprivileged user
	// may use) and is set only when mounted.
	FreeFrom    string   `json:"free_from"`
	AvailBytes  int64    `json:"avail_bytes,omitempty"`
	Mountpoints []string `json:"mountpoints"`
	// Active is set for a swap area in use (listed in /proc/swaps).
	Active bool `json:"active,omitempty"`
}

// Mounted reports whether the filesystem is mounted (or, for swap, active).
func (i *Info) Mounted() bool { return len(i.Mountpoints) > 0 || i.Active }

// openDev opens dev read-only and returns its size: BLKGETSIZE64 for block
// devices, the length for image files.
func openDev(dev string) (*os.File, int64, error) {
	return openDevFlags(dev, 0)
}

// openDirect opens dev as openDev does, with O_DIRECT when dev is a block
// device: the kernel drops a block device's page cache at its last close,
// so a buffered read of a closed device is real I/O plus readahead and the
// close pays to drop it again; a direct read of just the blocks wanted
// costs about half. It reports whether O_DIRECT is on (reads must then be
// aligned; see blockCache).
func openDirect(dev string) (*os.File, int64, bool, error) {
	var st unix.Stat_t
	if err := unix.Stat(dev, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
		f, size, err := openDevFlags(dev, unix.O_DIRECT)
		if err == nil {
			return f, size, true, nil
		}
		if !errors.Is(err, unix.EINVAL) {
			return nil, 0, false, err
		}
	}
	f, size, err := openDevFlags(dev, 0)
	return f, size, false, err
}

func openDevFlags(dev string, flags int) (*os.File, int64, error) {
	f, err := os.OpenFile(dev, os.O_RDONLY|unix.O_CLOEXEC|flags, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("fsys: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("fsys: %w", err)
	}
	if fi.Mode()&os.ModeDevice == 0 {
		return f, fi.Size(), nil
	}
	n, err := blkpg.Size64(f.Fd())
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("fsys: %s: %w", dev, err)
	}
	if n > 1<<62 {
		f.Close()
		return nil, 0, fmt.Errorf("fsys: %s: size %d out of range", dev, n)
	}
	return f, int64(n), nil
}

// blockCache reads a device in whole 4 KiB blocks, each once: the
// superblock readers ask for a few hundred bytes here and there, and on a
// freshly opened block device every read goes to the device.
type blockCache struct {
	r      io.ReaderAt
	size   int64
	blocks map[int64][]byte
	reads  int
	// direct: r is opened O_DIRECT, so every read is of whole aligned
	// blocks into aligned memory, larger ones included.
	direct bool
}

// alignedBuf returns n bytes whose address is a multiple of cacheBlock, as
// O_DIRECT wants (the logical block size is at most 4 KiB).
func alignedBuf(n int) []byte {
	b := make([]byte, n+cacheBlock)
	off := int(uintptr(unsafe.Pointer(&b[0])) & (cacheBlock - 1))
	if off != 0 {
		off = cacheBlock - off
	}
	return b[off : off+n : off+n]
}

// readBlocks reads the whole blocks covering [off, off+n) of the device.
func (c *blockCache) readBlocks(off int64, n int) ([]byte, int64, error) {
	start := off / cacheBlock * cacheBlock
	end := (off + int64(n) + cacheBlock - 1) / cacheBlock * cacheBlock
	if end > c.size {
		end = c.size
	}
	if end <= start {
		return nil, start, io.EOF
	}
	var buf []byte
	if c.direct {
		// The device's size is a multiple of its logical block size;
		// ask for whole 4 KiB blocks and take what the device has.
		buf = alignedBuf(int((end - start + cacheBlock - 1) / cacheBlock * cacheBlock))
	} else {
		buf = make([]byte, end-start)
	}
	got, err := c.r.ReadAt(buf, start)
	c.reads++
	if int64(got) >= end-start {
		err = nil
	}
	if err != nil && err != io.EOF {
		return nil, start, err
	}
	if int64(got) > end-start {
		got = int(end - start)
	}
	return buf[:got:got], start, nil
}

const cacheBlock = 4096

// headBytes is what one read at the start of a device brings into the
// cache: the ext, XFS and FAT superblocks, swap's header for 4 KiB pages
// and every container signature detect looks for lie in the first 8 KiB.
// Reads of a freshly opened block device all go to the device (the page
// cache goes at the last close), and each costs about as much as the next
// whatever its size up to a few pages, so the head is read once and the
// rest (btrfs at 64 KiB, swap headers of bigger pages) only when needed.
const headBytes = 2 * cacheBlock

// newBlockCache reads the head of r in one read.
func newBlockCache(r io.ReaderAt, size int64, direct bool) (*blockCache, error) {
	c := &blockCache{r: r, size: size, blocks: map[int64][]byte{}, direct: direct}
	buf, _, err := c.readBlocks(0, headBytes)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("fsys: read the first %d bytes: %w", headBytes, err)
	}
	for off := 0; off < len(buf); off += cacheBlock {
		end := min(off+cacheBlock, len(buf))
		c.blocks[int64(off/cacheBlock)] = buf[off:end:end]
	}
	return c, nil
}

// maxCached bounds what one Inspect keeps (FAT counting reads its FAT
// through the cache in bounded chunks; those pass through uncached).
const maxCached = 96

func (c *blockCache) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("fsys: negative offset %d", off)
	}
	if len(p) > 2*cacheBlock {
		if !c.direct {
			return c.r.ReadAt(p, off)
		}
		b, start, err := c.readBlocks(off, len(p))
		if err != nil {
			return 0, err
		}
		n := 0
		if in := off - start; in < int64(len(b)) {
			n = copy(p, b[in:])
		}
		if n < len(p) {
			return n, io.EOF
		}
		return n, nil
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= c.size {
			return n, io.EOF
		}
		bno := pos / cacheBlock
		b, ok := c.blocks[bno]
		if !ok {
			var err error
			b, _, err = c.readBlocks(bno*cacheBlock, cacheBlock)
			if err != nil && err != io.EOF {
				return n, err
			}
			if len(c.blocks) < maxCached {
				c.blocks[bno] = b
			}
		}
		in := int(pos - bno*cacheBlock)
		if in >= len(b) {
			return n, io.EOF
		}
		n += copy(p[n:], b[in:])
	}
	return n, nil
}

// containers are signatures blkid ranks above any filesystem that can sit
// in the first block beside an intact old superblock (a LUKS or LVM2
// header written over the start of an ext4 leaves its superblock at 1 KiB).
// Inspect names them instead of reporting the stale filesystem under them.
var containers = []struct {
	off   int64
	magic string
	what  string
}{
	{0, "LUKS\xba\xbe", "crypto_LUKS"},
	{0, "SKUL\xba\xbe", "crypto_LUKS"},
	{512, "LABELONE", "LVM2_member"}, // the label sits in one of the first four sectors
	{0, "LABELONE", "LVM2_member"},
	{1024, "LABELONE", "LVM2_member"},
	{1536, "LABELONE", "LVM2_member"},
	{0, "\xfc\x4e\x2b\xa9", "linux_raid_member"},    // md 1.1
	{4096, "\xfc\x4e\x2b\xa9", "linux_raid_member"}, // md 1.2
}

// detect finds dev's filesystem from the superblocks themselves: the
// readers run on the same cached blocks, exactly one must recognise the
// device, and no container signature may cover it. It is the superblock's view, as the kernel's
// mount sees it; preflight repeats the full blkid-parity probe before any
// change (see sameType).
func (m *Manager) detect(c *blockCache) (Type, Driver, superblock.Super, error) {
	for _, k := range containers {
		b := make([]byte, len(k.magic))
		if _, err := c.ReadAt(b, k.off); err == nil && string(b) == k.magic {
			return "", nil, superblock.Super{}, fmt.Errorf("%w: the device holds %s", ErrUnknownFilesystem, k.what)
		}
	}
	var found []Type
	var drv Driver
	var sb superblock.Super
	var firstErr error
	// The types whose superblock is in the head come first; a device one
	// of them recognises is not read further (the full probe in preflight
	// still looks everywhere before a change).
	for i, t := range []Type{XFS, Ext4, VFAT, Btrfs, Swap} {
		if i >= 3 && len(found) > 0 {
			break
		}
		d, err := m.Driver(t)
		if err != nil {
			continue
		}
		s, err := d.Read(c, c.size)
		if errors.Is(err, superblock.ErrNotFound) {
			continue
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		found = append(found, Type(s.Type))
		if drv == nil {
			drv, sb = d, s
		}
	}
	switch {
	case len(found) > 1:
		return "", nil, sb, fmt.Errorf("%w: conflicting superblocks %v", ErrUnknownFilesystem, found)
	case len(found) == 1:
		d, err := m.Driver(found[0]) // ext2/3/4 share a reader; the type names the driver
		if err != nil {
			return "", nil, sb, err
		}
		return found[0], d, sb, nil
	case firstErr != nil:
		return "", nil, sb, firstErr
	}
	return "", nil, sb, fmt.Errorf("%w: no ext2/3/4, xfs, btrfs, vfat or swap superblock", ErrUnknownFilesystem)
}

// sameType is the preflight check of a change planned for a t filesystem:
// the full probe (blkid's view, RAID members and containers included) must
// find t as the device's primary signature, so a change planned from the
// superblock's view never lands on something blkid calls otherwise.
func sameType(t Type) safety.CheckFunc {
	return func(_ context.Context, f *safety.Facts, _ safety.Op) []safety.Reason {
		if len(f.Ambiguous) > 0 {
			return []safety.Reason{{Code: CodeTypeMismatch,
				Message:  fmt.Sprintf("the change was planned for %s, but the probe finds conflicting signatures", t),
				Evidence: f.Ambiguous}}
		}
		for _, s := range f.Signatures {
			if strings.HasPrefix(s.Where, "primary superblock") {
				if s.Type == string(t) {
					return nil
				}
				return []safety.Reason{{Code: CodeTypeMismatch,
					Message:  fmt.Sprintf("the change was planned for %s, but the device's signature is %s", t, s.Type),
					Evidence: []string{s.String()}}}
			}
		}
		return []safety.Reason{{Code: CodeTypeMismatch,
			Message: fmt.Sprintf("the change was planned for %s, but the probe finds no %s signature", t, t)}}
	}
}

// CodeTypeMismatch refuses a change whose target no longer holds (or never
// held, by blkid's rules) the type it was planned for.
const CodeTypeMismatch safety.Code = "fs_type_mismatch"

// readSuperOf reads dev's superblock with d.
func readSuperOf(ctx context.Context, d Driver, dev string) (superblock.Super, error) {
	f, size, err := openDev(dev)
	if err != nil {
		return superblock.Super{}, err
	}
	defer f.Close()
	if err := ctx.Err(); err != nil {
		return superblock.Super{}, err
	}
	return d.Read(f, size)
}

// Inspect reads the filesystem on dev, in pure Go: its type and the rest
// from the superblock (detect), its mounts; when mounted, free space by
// statfs and (btrfs) every member by ioctl.
func (m *Manager) Inspect(ctx context.Context, dev string) (*Info, error) {
	f, size, direct, err := openDirect(dev)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		f.Close()
		return nil, err
	}
	c, err := newBlockCache(f, size, direct)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("fsys: %s: %w", dev, err)
	}
	t, _, sb, err := m.detect(c)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("fsys: %s: %w", dev, err)
	}
	info := &Info{Super: sb, Device: dev, DeviceBytes: size, FreeFrom: "superblock", Mountpoints: []string{}}
	if t == Swap {
		info.Active, err = m.swapActive(dev)
		return info, err
	}
	mps, err := m.mountsOf(dev, t, sb.UUID)
	if err != nil {
		return nil, err
	}
	if mps != nil {
		info.Mountpoints = mps
	}
	if len(mps) == 0 {
		return info, nil
	}
	if err := m.mountedView(ctx, info, t, dev, mps[0]); err != nil {
		return nil, err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(mps[0], &st); err != nil {
		return nil, fmt.Errorf("fsys: %w", os.NewSyscallError("statfs "+mps[0], err))
	}
	bs := int64(st.Frsize)
	if bs == 0 {
		bs = st.Bsize
	}
	info.FreeBytes = int64(st.Bfree) * bs
	info.AvailBytes = int64(st.Bavail) * bs
	info.FreeFrom = "statfs"
	if t == Btrfs {
		devs, err := btrfsDevices(ctx, mps[0])
		if err != nil && !errors.Is(err, ErrNotSupported) {
			return nil, err
		}
		if len(devs) > 0 {
			info.Devices = info.Devices[:0]
			var total int64
			for _, x := range devs {
				info.Devices = append(info.Devices, Device{ID: x.Devid, UUID: x.UUID, Path: x.Path,
					TotalBytes: x.TotalBytes, UsedBytes: x.UsedBytes})
				total += x.TotalBytes
			}
			info.SizeBytes = total // the kernel's, current where the superblock copy may lag
		}
	}
	return info, nil
}

// mountsOf lists where dev is mounted. Reading mountinfo costs about 75 us
// of kernel time (it renders every mount's paths), several times what the
// rest of Inspect costs, so it is read only when the kernel has a
// superblock on the device: ustat(2) answers that from the superblock list
// in a microsecond, EINVAL meaning none. btrfs superblocks carry an
// anonymous device number instead of their devices'; a mounted btrfs has
// /sys/fs/btrfs/<fsid> instead, for as long as it is mounted. Otherwise
// (ustat missing, a fake root) mountinfo decides. An image file is never
// mounted here (a loop device over it would be).
func (m *Manager) mountsOf(dev string, t Type, uuid string) ([]string, error) {
	var st unix.Stat_t
	if err := unix.Stat(m.root.Path(dev), &st); err != nil {
		return nil, fmt.Errorf("fsys: %w", os.NewSyscallError("stat "+dev, err))
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return nil, nil
	}
	if t == Btrfs && uuid != "" && !strings.ContainsAny(uuid, "/.") {
		_, err := os.Lstat(m.root.Sys("fs", "btrfs", uuid))
		if errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Lstat(m.root.Sys("fs", "btrfs")); err == nil {
				return nil, nil // btrfs is loaded and this filesystem is not mounted
			}
		}
		if err == nil {
			return m.btrfsMountsOf(dev, uuid)
		}
	}
	if t != Btrfs && m.root.IsLive() && st.Rdev <= 0xffffffff {
		var u unix.Ustat_t
		if err := unix.Ustat(int(st.Rdev), &u); errors.Is(err, unix.EINVAL) {
			return nil, nil
		}
	}
	return mountedAt(m.root, dev)
}

// btrfsMountsOf lists where the mounted btrfs that dev belongs to is
// mounted. mountinfo names one member, the device given to mount; the
// kernel lists every member under /sys/fs/btrfs/<fsid>/devices, so another
// member is found mounted through the one mountinfo names.
func (m *Manager) btrfsMountsOf(dev, uuid string) ([]string, error) {
	mps, err := mountedAt(m.root, dev)
	if err != nil || len(mps) > 0 {
		return mps, err
	}
	members, err := os.ReadDir(m.root.Sys("fs", "btrfs", uuid, "devices"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil // unmounted since the check above
		}
		return nil, fmt.Errorf("fsys: btrfs %s members: %w", uuid, err)
	}
	for _, e := range members {
		member := "/dev/" + e.Name()
		if member == dev || strings.ContainsAny(e.Name(), "/") {
			continue
		}
		if _, err := os.Stat(m.root.Path(member)); err != nil {
			continue // a member whose node this root has not
		}
		if mps, err := mountedAt(m.root, member); err != nil || len(mps) > 0 {
			return mps, err
		}
	}
	return nil, nil
}

// mountedView replaces what the on-disk superblock may not yet say about a
// mounted filesystem with the kernel's own answer. Inspect reads with
// O_DIRECT, and a mounted filesystem writes its superblock back lazily:
// XFS and btrfs keep it in their own buffers, ext4 in the block device's
// page cache. So the label comes from FS_IOC_GETFSLABEL, an ext
// superblock is read again through the page cache (where ext4's copy is
// current), XFS's size comes from XFS_IOC_FSGEOMETRY and btrfs's from its
// members (BTRFS_IOC_DEV_INFO, in Inspect).
func (m *Manager) mountedView(ctx context.Context, info *Info, t Type, dev, mp string) error {
	if t.IsExt() {
		d, err := m.Driver(t)
		if err != nil {
			return err
		}
		sb, err := readSuperOf(ctx, d, dev)
		if err != nil {
			return fmt.Errorf("fsys: %s: %w", dev, err)
		}
		info.Super = sb
	}
	if t == XFS {
		fd, err := openMountpoint(mp)
		if err != nil {
			return err
		}
		g, _, err := fsioctl.XFSGeometry(fd)
		unix.Close(fd)
		if err == nil {
			info.SizeBytes = int64(g.Datablocks) * int64(g.Blocksize)
		}
	}
	if label, err := getLabelOnline(ctx, mp); err == nil {
		info.Label = label
	}
	return nil
}
