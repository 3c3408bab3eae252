package fsioctl

import (
	"testing"
	"unsafe"
)

type off struct {
	name      string
	got, want uintptr
}

func checkOffsets(t *testing.T, cs []off) {
	t.Helper()
	for _, c := range cs {
		if c.got != c.want {
			t.Errorf("%s = %d, kernel header says %d", c.name, c.got, c.want)
		}
	}
}

// Sizes and offsets of xfs_fs.h (xfslibs-dev 6.1 and fs/xfs/libxfs/xfs_fs.h)
// on LP64.
func TestXFSLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("LP64 layout")
	}
	var g XFSGeom
	var d XFSGrowfsData
	checkOffsets(t, []off{
		{"sizeof(xfs_fsop_geom)", unsafe.Sizeof(g), 256},
		{"sizeof(xfs_fsop_geom_v4)", unsafe.Sizeof(g.XFSGeomV4), 112},
		{"imaxpct", unsafe.Offsetof(g.Imaxpct), 28},
		{"datablocks", unsafe.Offsetof(g.Datablocks), 32},
		{"uuid", unsafe.Offsetof(g.UUID), 64},
		{"sunit", unsafe.Offsetof(g.Sunit), 80},
		{"version", unsafe.Offsetof(g.Version), 88},
		{"logsunit", unsafe.Offsetof(g.Logsunit), 108},
		{"sick", unsafe.Offsetof(g.Sick), 112},
		{"reserved", unsafe.Offsetof(g.Reserved), 120},
		{"sizeof(xfs_growfs_data)", unsafe.Sizeof(d), 16},
		{"growfs_data.imaxpct", unsafe.Offsetof(d.Imaxpct), 8},
	})
}

// Sizes and offsets of include/uapi/linux/btrfs.h on LP64.
func TestBtrfsLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("LP64 layout")
	}
	var v BtrfsVolArgs
	var d BtrfsDevInfoArgs
	var f BtrfsFSInfoArgs
	var k BtrfsSearchKey
	var s BtrfsSearchArgs
	checkOffsets(t, []off{
		{"sizeof(btrfs_ioctl_vol_args)", unsafe.Sizeof(v), 4096},
		{"vol_args.name", unsafe.Offsetof(v.Name), 8},
		{"sizeof(btrfs_ioctl_dev_info_args)", unsafe.Sizeof(d), 4096},
		{"dev_info.uuid", unsafe.Offsetof(d.UUID), 8},
		{"dev_info.bytes_used", unsafe.Offsetof(d.BytesUsed), 24},
		{"dev_info.total_bytes", unsafe.Offsetof(d.TotalBytes), 32},
		{"dev_info.path", unsafe.Offsetof(d.Path), 3072},
		{"sizeof(btrfs_ioctl_fs_info_args)", unsafe.Sizeof(f), 1024},
		{"fs_info.num_devices", unsafe.Offsetof(f.NumDevices), 8},
		{"fs_info.fsid", unsafe.Offsetof(f.FSID), 16},
		{"fs_info.nodesize", unsafe.Offsetof(f.Nodesize), 32},
		{"fs_info.sectorsize", unsafe.Offsetof(f.Sectorsize), 36},
		{"fs_info.csum_type", unsafe.Offsetof(f.CsumType), 44},
		{"fs_info.flags", unsafe.Offsetof(f.Flags), 48},
		{"fs_info.generation", unsafe.Offsetof(f.Generation), 56},
		{"fs_info.metadata_uuid", unsafe.Offsetof(f.MetadataUUID), 64},
		{"sizeof(btrfs_ioctl_search_key)", unsafe.Sizeof(k), 104},
		{"search_key.min_type", unsafe.Offsetof(k.MinType), 56},
		{"search_key.nr_items", unsafe.Offsetof(k.NrItems), 64},
		{"sizeof(btrfs_ioctl_search_args)", unsafe.Sizeof(s), 4096},
		{"search_args.buf", unsafe.Offsetof(s.Buf), 104},
	})
}

// The request numbers as the C preprocessor expands them against the
// headers on x86-64 (linux-libc-dev 6.1, xfslibs-dev 6.1; EXT4_IOC_RESIZE_FS
// as fs/ext4/ext4.h defines it).
func TestRequestNumbers(t *testing.T) {
	if archIOC != genericIOC {
		t.Skip("values below are the asm-generic encoding")
	}
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"EXT4_IOC_RESIZE_FS", Ext4IocResizeFS, 0x40086610},
		{"XFS_IOC_FSGEOMETRY", XFSIocFSGeometry, 0x8100587e},
		{"XFS_IOC_FSGEOMETRY_V4", XFSIocFSGeometryV4, 0x8070587c},
		{"XFS_IOC_FSGROWFSDATA", XFSIocFSGrowFSData, 0x4010586e},
		{"BTRFS_IOC_RESIZE", BtrfsIocResize, 0x50009403},
		{"BTRFS_IOC_DEV_INFO", BtrfsIocDevInfo, 0xd000941e},
		{"BTRFS_IOC_FS_INFO", BtrfsIocFSInfo, 0x8400941f},
		{"BTRFS_IOC_TREE_SEARCH", BtrfsIocTreeSearch, 0xd0009411},
		{"FIFREEZE", FIFreeze, 0xc0045877},
		{"FITHAW", FIThaw, 0xc0045878},
		{"FS_IOC_GETFSLABEL", FSIocGetFSLabel, 0x81009431},
		{"FS_IOC_SETFSLABEL", FSIocSetFSLabel, 0x41009432},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, header gives %#x", c.name, c.got, c.want)
		}
	}
}

// The powerpc/mips/sparc encoding: _IOR is 2<<29 and _IOW 4<<29, so the
// same requests have other values there (from the kernel's
// arch/powerpc/include/uapi/asm/ioctl.h rules).
func TestThreeBitEncoding(t *testing.T) {
	e := threeBitDirIOC
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"EXT4_IOC_RESIZE_FS", e.iow('f', 16, 8), 0x80086610},
		{"XFS_IOC_FSGEOMETRY", e.ior('X', 126, 256), 0x4100587e},
		{"FIFREEZE", e.iowr('X', 119, 4), 0xc0045877},
		{"BTRFS_IOC_TREE_SEARCH", e.iowr(0x94, 17, 4096), 0xd0009411},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}
