package probe

import (
	"encoding/binary"
	"testing"
)

// synthSysV is a System V superblock in the second half of 1 KiB block blk.
func synthSysV(size int64, blk int64, order binary.ByteOrder, fname string) *oddfsImage {
	img := newOddfsImage(size)
	b := img.at(blk*1024+512, 512)
	order.PutUint16(b[0:], 20)   // s_isize
	order.PutUint32(b[4:], 4000) // s_fsize
	copy(b[440:446], fname)
	copy(b[446:452], "pack01")
	order.PutUint32(b[500:], 0x7c269d38) // s_state
	order.PutUint32(b[504:], sysvMagic)
	order.PutUint32(b[508:], 2) // s_type: 1 KiB blocks
	return img
}

// synthXenix is a Xenix superblock at 1 KiB with blkid's magic at 2 KiB.
func synthXenix(size int64, magic, fname string) *oddfsImage {
	img := newOddfsImage(size)
	b := img.at(1024, 1024)
	binary.LittleEndian.PutUint16(b[0:], 20)
	binary.LittleEndian.PutUint32(b[2:], 4000)
	copy(b[632:638], fname)
	copy(b[638:644], "pack")
	copy(img.at(2048, 4), magic)
	return img
}

func TestSysV(t *testing.T) {
	const size = 4 << 20
	sysv := func(l string) *Result { return &Result{Type: "sysv", Usage: UsageFilesystem, Label: l} }
	xenix := func(l string) *Result { return &Result{Type: "xenix", Usage: UsageFilesystem, Label: l} }
	le, be := binary.LittleEndian, binary.BigEndian
	oddfsCheck(t, []oddfsCase{
		{"block 0 little endian", synthSysV(size, 0, le, "root"), sysv("root")},
		{"block 0 big endian", synthSysV(size, 0, be, "usr"), sysv("usr")},
		{"block 9", synthSysV(size, 9, le, "b9fsys"), sysv("b9fsys")},
		{"block 15", synthSysV(size, 15, be, "b15"), sysv("b15")},
		{"block 18", synthSysV(size, 18, le, "b18 "), sysv("b18")},
		{"no name", synthSysV(size, 0, le, ""), sysv("")},
		{"block 18 on a short device", oddfsTruncated(synthSysV(size, 18, le, "b18"), 19455), nil},
		{"block 3", synthSysV(size, 3, le, "b3"), nil},
		{"xenix", synthXenix(size, "\x2b\x55\x44", "xenixf"), xenix("xenixf")},
		{"xenix reversed magic", synthXenix(size, "\x44\x55\x2b", "xfs"), xenix("xfs")},
		{"xenix no name", synthXenix(size, "\x2b\x55\x44", ""), xenix("")},
		{"xenix magic in its own field only", oddfsPatched(synthXenix(size, "", "x"), 2040, "\x2b\x55\x44\xff"), nil},
		{"xenix short device", oddfsTruncated(synthXenix(size, "\x2b\x55\x44", "x"), 3071), nil},
	})
}

func FuzzSysV(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{
		synthSysV(32<<10, 0, binary.BigEndian, "root").bytes()[:1024],
		synthSysV(32<<10, 18, binary.LittleEndian, "root").bytes()[:19456],
		synthXenix(32<<10, "\x2b\x55\x44", "x").bytes()[:2052],
	}, probeSysV, probeXenix)
}
