package probe

import (
	"encoding/binary"
	"testing"
)

// synthVxFS is a VxFS superblock at 1 KiB (little endian) or 8 KiB (big
// endian), as the two byte orders place it.
func synthVxFS(size int64, bigEndian bool, version int32) *oddfsImage {
	img := newOddfsImage(size)
	var order binary.ByteOrder = binary.LittleEndian
	off := int64(1024)
	if bigEndian {
		order, off = binary.BigEndian, 8192
	}
	b := img.at(off, 1024)
	order.PutUint32(b, vxfsMagic)
	order.PutUint32(b[4:], uint32(version))
	order.PutUint32(b[32:], 1024) // block size
	order.PutUint32(b[36:], 20480)
	return img
}

func TestVxFS(t *testing.T) {
	const size = 4 << 20
	res := func(v string) *Result { return &Result{Type: "vxfs", Usage: UsageFilesystem, Version: v} }
	both := synthVxFS(size, true, 4)
	synthVxFS(size, false, 6).put(both)
	oddfsCheck(t, []oddfsCase{
		{"little endian", synthVxFS(size, false, 6), res("6")},
		{"big endian", synthVxFS(size, true, 5), res("5")},
		{"both: little endian first", both, res("6")},
		// the version is printed unsigned
		{"negative version", synthVxFS(size, false, -1), res("4294967295")},
		// blkid needs the whole kilobyte holding the magic
		{"big endian on a short device", oddfsTruncated(synthVxFS(size, true, 5), 9215), nil},
		{"big endian magic at 1 KiB", oddfsPatched(newOddfsImage(size), 1024, "\xa5\x01\xfc\xf5"), nil},
	})
	oddfsNone(t, "little endian magic at 8 KiB", oddfsPatched(newOddfsImage(size), 8192, "\xf5\xfc\x01\xa5"), probeVxFS)
}

func FuzzVxFS(f *testing.F) {
	le := synthVxFS(16<<10, false, 6).bytes()
	copy(le[8192:], synthVxFS(16<<10, true, 5).bytes()[8192:8192+64])
	fuzzProbers(f, 0, [][]byte{le[:8192+64]}, probeVxFS)
}
