package probe

import (
	"encoding/binary"
	"testing"
)

// synthSquashfs3 is a squashfs superblock of either byte order with the
// given version.
func synthSquashfs3(bigEndian bool, major, minor uint16) *oddfsImage {
	img := newOddfsImage(1 << 20)
	b := img.at(0, 96)
	var order binary.ByteOrder = binary.LittleEndian
	copy(b, "hsqs")
	if bigEndian {
		order = binary.BigEndian
		copy(b, "sqsh")
	}
	order.PutUint32(b[4:], 3) // inodes
	order.PutUint32(b[8:], 4096)
	order.PutUint16(b[28:], major)
	order.PutUint16(b[30:], minor)
	return img
}

func TestSquashfs3(t *testing.T) {
	res := func(v string) *Result { return &Result{Type: "squashfs3", Usage: UsageFilesystem, Version: v} }
	oddfsCheck(t, []oddfsCase{
		{"3.1 big endian", synthSquashfs3(true, 3, 1), res("3.1")},
		{"3.0 little endian", synthSquashfs3(false, 3, 0), res("3.0")},
		{"2.1 big endian", synthSquashfs3(true, 2, 1), res("2.1")},
		{"1.0 little endian", synthSquashfs3(false, 1, 0), res("1.0")},
		{"0.65535", synthSquashfs3(false, 0, 65535), res("0.65535")},
		// version 4 is squashfs, little endian only
		{"4.0 little endian", synthSquashfs3(false, 4, 0), &Result{Type: "squashfs", Usage: UsageFilesystem, Version: "4.0"}},
		{"4.0 big endian", synthSquashfs3(true, 4, 0), nil},
		// a big-endian 3 read little endian is 768
		{"byte order matters", oddfsPatched(synthSquashfs3(true, 3, 0), 0, "hsqs"), &Result{Type: "squashfs", Usage: UsageFilesystem, Version: "768.0"}},
	})
	oddfsNone(t, "4.0 little endian", synthSquashfs3(false, 4, 0), probeSquashfs3)
	oddfsNone(t, "magic", oddfsPatched(synthSquashfs3(true, 3, 0), 0, "sqsH"), probeSquashfs3)
}

func FuzzSquashfs3(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{synthSquashfs3(true, 3, 1).bytes()[:96], synthSquashfs3(false, 2, 0).bytes()[:96]}, probeSquashfs3)
}
