package fsioctl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// Sizes from include/uapi/linux/btrfs.h.
const (
	BtrfsPathNameMax       = 4087 // BTRFS_PATH_NAME_MAX
	BtrfsDevicePathNameMax = 1024 // BTRFS_DEVICE_PATH_NAME_MAX
	BtrfsUUIDSize          = 16
	BtrfsLabelSize         = 256 // BTRFS_LABEL_SIZE, including the NUL
	// BtrfsSearchArgsBufSize is BTRFS_SEARCH_ARGS_BUFSIZE: 4096 minus the key.
	BtrfsSearchArgsBufSize = 4096 - 104
)

// Tree and key constants from include/uapi/linux/btrfs_tree.h.
const (
	BtrfsDevTreeObjectID = 4   // BTRFS_DEV_TREE_OBJECTID
	BtrfsDevExtentKey    = 204 // BTRFS_DEV_EXTENT_KEY
	// SizeofBtrfsDevExtent is sizeof(struct btrfs_dev_extent) (packed):
	// chunk_tree, chunk_objectid, chunk_offset, length (u64 each), then
	// chunk_tree_uuid[16].
	SizeofBtrfsDevExtent = 48
)

// BtrfsVolArgs is struct btrfs_ioctl_vol_args (4096 bytes).
type BtrfsVolArgs struct {
	Fd   int64
	Name [BtrfsPathNameMax + 1]byte
}

// BtrfsDevInfoArgs is struct btrfs_ioctl_dev_info_args (4096 bytes).
type BtrfsDevInfoArgs struct {
	Devid      uint64 // in/out
	UUID       [BtrfsUUIDSize]byte
	BytesUsed  uint64
	TotalBytes uint64
	_          [379]uint64
	Path       [BtrfsDevicePathNameMax]byte
}

// BtrfsFSInfoArgs is struct btrfs_ioctl_fs_info_args (1024 bytes).
type BtrfsFSInfoArgs struct {
	MaxID          uint64
	NumDevices     uint64
	FSID           [16]byte
	Nodesize       uint32
	Sectorsize     uint32
	CloneAlignment uint32
	CsumType       uint16
	CsumSize       uint16
	Flags          uint64 // in/out: BTRFS_FS_INFO_FLAG_*
	Generation     uint64
	MetadataUUID   [16]byte
	_              [944]byte
}

// BtrfsSearchKey is struct btrfs_ioctl_search_key (104 bytes).
type BtrfsSearchKey struct {
	TreeID      uint64
	MinObjectID uint64
	MaxObjectID uint64
	MinOffset   uint64
	MaxOffset   uint64
	MinTransid  uint64
	MaxTransid  uint64
	MinType     uint32
	MaxType     uint32
	NrItems     uint32 // in: at most this many; out: how many came back
	_           uint32
	_           [4]uint64
}

// SizeofBtrfsSearchHeader is sizeof(struct btrfs_ioctl_search_header):
// transid, objectid, offset (u64), type, len (u32).
const SizeofBtrfsSearchHeader = 32

// BtrfsSearchHeader is struct btrfs_ioctl_search_header, decoded.
type BtrfsSearchHeader struct {
	Transid  uint64
	ObjectID uint64
	Offset   uint64
	Type     uint32
	Len      uint32
}

// BtrfsSearchArgs is struct btrfs_ioctl_search_args (4096 bytes): the key
// and a buffer of (header, item) pairs.
type BtrfsSearchArgs struct {
	Key BtrfsSearchKey
	Buf [BtrfsSearchArgsBufSize]byte
}

// btrfs request numbers (magic 0x94).
var (
	BtrfsIocResize     = archIOC.iow(0x94, 3, unsafe.Sizeof(BtrfsVolArgs{}))
	BtrfsIocTreeSearch = archIOC.iowr(0x94, 17, unsafe.Sizeof(BtrfsSearchArgs{}))
	BtrfsIocDevInfo    = archIOC.iowr(0x94, 30, unsafe.Sizeof(BtrfsDevInfoArgs{}))
	BtrfsIocFSInfo     = archIOC.ior(0x94, 31, unsafe.Sizeof(BtrfsFSInfoArgs{}))
)

// ErrShortItem is returned by BtrfsSearchItems when the kernel's buffer
// holds a header or an item that runs past the end.
var ErrShortItem = errors.New("fsioctl: btrfs search result runs past its buffer")

// BtrfsResize runs BTRFS_IOC_RESIZE with spec, the kernel's string form:
// "[devid:]bytes", "[devid:]max", "[devid:]+bytes", "[devid:]-bytes". A
// shrink relocates the chunks beyond the new end first and may take long.
func BtrfsResize(fd int, spec string) error {
	var a BtrfsVolArgs
	if len(spec) == 0 || len(spec) > BtrfsPathNameMax {
		return fmt.Errorf("fsioctl: btrfs resize spec %q: length must be 1..%d", spec, BtrfsPathNameMax)
	}
	copy(a.Name[:], spec)
	err := ioctl(fd, "BTRFS_IOC_RESIZE", BtrfsIocResize, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	return err
}

// BtrfsFSInfo runs BTRFS_IOC_FS_INFO.
func BtrfsFSInfo(fd int) (BtrfsFSInfoArgs, error) {
	var a BtrfsFSInfoArgs
	err := ioctl(fd, "BTRFS_IOC_FS_INFO", BtrfsIocFSInfo, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	return a, err
}

// BtrfsDevInfo runs BTRFS_IOC_DEV_INFO for devid (the uuid left zero, so the
// kernel looks up by devid alone). A devid with no device (ids have holes
// after a device was removed) is ENODEV.
func BtrfsDevInfo(fd int, devid uint64) (BtrfsDevInfoArgs, error) {
	a := BtrfsDevInfoArgs{Devid: devid}
	err := ioctl(fd, "BTRFS_IOC_DEV_INFO", BtrfsIocDevInfo, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	return a, err
}

// BtrfsTreeSearch runs BTRFS_IOC_TREE_SEARCH on a, in place: a.Key.NrItems
// comes back as the number of items in a.Buf. It needs CAP_SYS_ADMIN.
func BtrfsTreeSearch(fd int, a *BtrfsSearchArgs) error {
	err := ioctl(fd, "BTRFS_IOC_TREE_SEARCH", BtrfsIocTreeSearch, unsafe.Pointer(a))
	runtime.KeepAlive(a)
	return err
}

// BtrfsSearchItems decodes the n (header, item) pairs at the front of buf
// and calls fn for each; fn's item slice aliases buf. A header or an item
// that does not fit is ErrShortItem, never a panic.
func BtrfsSearchItems(buf []byte, n uint32, fn func(h BtrfsSearchHeader, item []byte)) error {
	off := 0
	for i := uint32(0); i < n; i++ {
		if len(buf)-off < SizeofBtrfsSearchHeader {
			return fmt.Errorf("%w: header %d at %d", ErrShortItem, i, off)
		}
		b := buf[off:]
		h := BtrfsSearchHeader{
			Transid:  binary.NativeEndian.Uint64(b[0:]),
			ObjectID: binary.NativeEndian.Uint64(b[8:]),
			Offset:   binary.NativeEndian.Uint64(b[16:]),
			Type:     binary.NativeEndian.Uint32(b[24:]),
			Len:      binary.NativeEndian.Uint32(b[28:]),
		}
		off += SizeofBtrfsSearchHeader
		if uint64(h.Len) > uint64(len(buf)-off) {
			return fmt.Errorf("%w: item %d of %d bytes at %d", ErrShortItem, i, h.Len, off)
		}
		fn(h, buf[off:off+int(h.Len)])
		off += int(h.Len)
	}
	return nil
}

// BtrfsDevExtentLength is btrfs_dev_extent.length of an on-disk
// (little-endian) dev extent item, or false when the item is too short.
func BtrfsDevExtentLength(item []byte) (uint64, bool) {
	if len(item) < 32 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(item[24:]), true
}
