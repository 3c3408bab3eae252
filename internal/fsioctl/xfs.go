package fsioctl

import (
	"errors"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// XFSGeomV4 is struct xfs_fsop_geom_v4 (112 bytes), the answer of
// XFS_IOC_FSGEOMETRY_V4 on kernels before 5.2 and still served since.
type XFSGeomV4 struct {
	Blocksize    uint32
	Rtextsize    uint32
	Agblocks     uint32
	Agcount      uint32
	Logblocks    uint32
	Sectsize     uint32
	Inodesize    uint32
	Imaxpct      uint32 // max % of the data space inodes may take
	Datablocks   uint64 // fsblocks in the data subvolume
	Rtblocks     uint64
	Rtextents    uint64
	Logstart     uint64
	UUID         [16]byte
	Sunit        uint32
	Swidth       uint32
	Version      int32
	Flags        uint32
	Logsectsize  uint32
	Rtsectsize   uint32
	Dirblocksize uint32
	Logsunit     uint32
}

// XFSGeom is struct xfs_fsop_geom (the v5 geometry, 256 bytes): the v4
// fields, then the health words and reserved space. Kernels 6.13+ use some
// of the reserved words for realtime groups (rgextents, rgcount, rtstart,
// rtreserved); fsys reads none of them, so they stay Reserved here.
type XFSGeom struct {
	XFSGeomV4
	Sick     uint32
	Checked  uint32
	Reserved [17]uint64
}

// XFSGrowfsData is struct xfs_growfs_data (16 bytes on LP64: 12 of fields
// padded to 8).
type XFSGrowfsData struct {
	Newblocks uint64 // new data subvolume size in fsblocks
	Imaxpct   uint32 // new inode space percentage limit
	_         uint32
}

// XFS request numbers from xfs_fs.h.
var (
	XFSIocFSGeometryV4 = archIOC.ior('X', 124, unsafe.Sizeof(XFSGeomV4{}))
	XFSIocFSGeometry   = archIOC.ior('X', 126, unsafe.Sizeof(XFSGeom{}))
	XFSIocFSGrowFSData = archIOC.iow('X', 110, unsafe.Sizeof(XFSGrowfsData{}))
)

// XFSGeometry returns the filesystem's geometry by XFS_IOC_FSGEOMETRY (v5),
// falling back to XFS_IOC_FSGEOMETRY_V4 when the kernel answers ENOTTY or
// EINVAL (before 5.2). v5 reports which one answered. The error is the
// v5 call's when both fail with those errnos, else the first real failure.
func XFSGeometry(fd int) (g XFSGeom, v5 bool, err error) {
	err = ioctl(fd, "XFS_IOC_FSGEOMETRY", XFSIocFSGeometry, unsafe.Pointer(&g))
	runtime.KeepAlive(&g)
	if err == nil {
		return g, true, nil
	}
	if !errors.Is(err, unix.ENOTTY) && !errors.Is(err, unix.EINVAL) {
		return XFSGeom{}, false, err
	}
	var g4 XFSGeomV4
	if err4 := ioctl(fd, "XFS_IOC_FSGEOMETRY_V4", XFSIocFSGeometryV4, unsafe.Pointer(&g4)); err4 != nil {
		runtime.KeepAlive(&g4)
		if errors.Is(err4, unix.ENOTTY) || errors.Is(err4, unix.EINVAL) {
			return XFSGeom{}, false, err
		}
		return XFSGeom{}, false, err4
	}
	runtime.KeepAlive(&g4)
	return XFSGeom{XFSGeomV4: g4}, false, nil
}

// XFSGrowData grows the data section to newBlocks fsblocks, keeping imaxpct
// (pass the current one from XFSGeometry: the kernel applies whatever it is
// given, and a zero would change the inode space limit).
func XFSGrowData(fd int, newBlocks uint64, imaxpct uint32) error {
	a := XFSGrowfsData{Newblocks: newBlocks, Imaxpct: imaxpct}
	err := ioctl(fd, "XFS_IOC_FSGROWFSDATA", XFSIocFSGrowFSData, unsafe.Pointer(&a))
	runtime.KeepAlive(&a)
	return err
}
