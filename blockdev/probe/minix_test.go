package probe

import (
	"encoding/binary"
	"testing"
)

// synthMinix lays a minix superblock of version ver in byte order o at
// 1 KiB: 32 inodes, one bitmap block each, data from zone 5, and a zone
// count that matches the image size. mod may then damage it.
func synthMinix(size, ver int, o binary.ByteOrder, magic uint16, mod func(sb []byte)) []byte {
	b := make([]byte, size)
	sb := b[minixSBOff:]
	zones := uint32(size / 1024)
	switch ver {
	case 1, 2:
		o.PutUint16(sb[0:], 32)
		o.PutUint16(sb[2:], uint16(zones))
		o.PutUint16(sb[4:], 1)
		o.PutUint16(sb[6:], 1)
		o.PutUint16(sb[8:], 5)
		o.PutUint32(sb[12:], 0x10081c00)
		o.PutUint16(sb[16:], magic)
		o.PutUint16(sb[18:], minixStateValid)
		if ver == 2 {
			o.PutUint16(sb[2:], 0)
			o.PutUint32(sb[20:], zones)
		}
	case 3:
		o.PutUint32(sb[0:], 32)
		o.PutUint16(sb[6:], 1)
		o.PutUint16(sb[8:], 1)
		o.PutUint16(sb[10:], 5)
		o.PutUint32(sb[16:], 0x7fffffff)
		o.PutUint32(sb[20:], zones)
		o.PutUint16(sb[24:], magic)
		o.PutUint16(sb[28:], 1024)
	}
	if mod != nil {
		mod(sb)
	}
	return b
}

func TestMinix(t *testing.T) {
	const size = 1 << 20
	v := func(ver string) *Result { return &Result{Type: "minix", Usage: UsageFilesystem, Version: ver} }
	m1 := func(mod func([]byte)) []byte { return synthMinix(size, 1, le, minixV1Magic, mod) }
	m2be := func(mod func([]byte)) []byte { return synthMinix(size, 2, be, minixV2Name, mod) }
	m3 := func(mod func([]byte)) []byte { return synthMinix(size, 3, le, minixV3Magic, mod) }
	checkImages(t, []imageCase{
		{"v1 le", m1(nil), v("1")},
		{"v1 30-char names be", synthMinix(size, 1, be, minixV1Name, nil), v("1")},
		{"v2 le", synthMinix(size, 2, le, minixV2Magic, nil), v("2")},
		{"v2 30-char names be", m2be(nil), v("2")},
		{"v3 le", m3(nil), v("3")},
		// blkid reads the v3 magic unswapped: a big-endian v3 is not minix to it
		{"v3 be", synthMinix(size, 3, be, minixV3Magic, nil), nil},
		{"state valid and error", m1(func(sb []byte) { le.PutUint16(sb[18:], minixStateValid|minixStateError) }), v("1")},
		{"state zero", m1(func(sb []byte) { le.PutUint16(sb[18:], 0) }), v("1")},
		{"unknown state bit", m1(func(sb []byte) { le.PutUint16(sb[18:], 4) }), nil},
		{"v3 has no state", m3(func(sb []byte) { le.PutUint16(sb[18:], 0xffff) }), v("3")},
		{"zones of two blocks", m1(func(sb []byte) { le.PutUint16(sb[10:], 1) }), nil},
		{"v3 zones of two blocks", m3(func(sb []byte) { le.PutUint16(sb[12:], 1) }), nil},
		{"no inodes", m1(func(sb []byte) { le.PutUint16(sb[0:], 0) }), nil},
		{"v3 inode count all ones", m3(func(sb []byte) { le.PutUint32(sb[0:], 0xffffffff) }), nil},
		// one bitmap block holds 8192 bits: inodes 0..8191 fit, 8192 does not
		{"inode bitmap just fits", m1(func(sb []byte) { le.PutUint16(sb[0:], 8191) }), v("1")},
		{"inode bitmap too small", m1(func(sb []byte) { le.PutUint16(sb[0:], 8192) }), nil},
		{"first data zone past the end", m1(func(sb []byte) { le.PutUint16(sb[8:], 1025) }), nil},
		{"first data zone at the end", m1(func(sb []byte) { le.PutUint16(sb[8:], 1024) }), v("1")},
		{"zone bitmap just fits", m2be(func(sb []byte) { be.PutUint32(sb[20:], 8191+5) }), v("2")},
		{"zone bitmap too small", m2be(func(sb []byte) { be.PutUint32(sb[20:], 8192+5) }), nil},
		// v1 counts zones in 16 bits; the 32-bit field is v2's
		{"v1 ignores the v2 zone count", m1(func(sb []byte) { le.PutUint32(sb[20:], 0xffffffff) }), v("1")},
		{"v2 ignores the v1 zone count", m2be(func(sb []byte) { be.PutUint16(sb[2:], 0xffff) }), v("2")},
		{"smallest device", synthMinix(2048, 1, le, minixV1Magic, minixTwoZones), v("1")},
		{"magic KiB cut", synthMinix(2047, 1, le, minixV1Magic, minixTwoZones), nil},
		{"no magic", synthMinix(size, 1, le, 0x1234, nil), nil},
	})
}

// minixTwoZones shrinks the filesystem to the 2 KiB device's two zones.
func minixTwoZones(sb []byte) {
	le.PutUint16(sb[2:], 2)
	le.PutUint16(sb[8:], 1)
}

// TestMinixExtMagic: bytes of an ext superblock can pass every minix
// check; blkid refuses minix when the ext magic is there, and so do we
// (the ext probers then decide what the device is).
func TestMinixExtMagic(t *testing.T) {
	img := synthMinix(1<<20, 1, le, minixV1Magic, func(sb []byte) { sb[0x38], sb[0x39] = 0x53, 0xef })
	s := fuzzSource(t, img, 0, int64(len(img)))
	if r, err := probeMinix(s); r != nil || err != nil {
		t.Fatalf("minix on an ext magic: %+v, %v", r, err)
	}
	compareWithBlkid(t, writeImage(t, "minix-ext.img", img))
}

func FuzzMinix(f *testing.F) {
	fuzzProbers(f, minixSBOff, [][]byte{
		region(synthMinix(4096, 1, le, minixV1Magic, nil), minixSBOff, 64),
		region(synthMinix(4096, 2, be, minixV2Name, nil), minixSBOff, 64),
		region(synthMinix(4096, 3, le, minixV3Magic, nil), minixSBOff, 64),
	}, probeMinix)
}
