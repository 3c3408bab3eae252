package probe

import (
	"encoding/binary"
	"testing"
)

// synthBitLocker is a BitLocker boot sector of the given magic with its FVE
// metadata pointer (at 176 for Windows 7, at 440 for To Go) and, when fve
// is not zero, an FVE metadata block there of the given version.
func synthBitLocker(size int64, magic string, serial uint32, fvePtr, fve int64, version uint16) *oddfsImage {
	img := newOddfsImage(size)
	b := img.at(0, 512)
	copy(b, magic)
	binary.LittleEndian.PutUint16(b[11:], 512)
	b[13] = 8
	binary.LittleEndian.PutUint32(b[67:], serial)
	copy(b[71:], "NO NAME    ")
	switch magic {
	case bitlockerMagicWin7:
		binary.LittleEndian.PutUint64(b[176:], uint64(fvePtr))
	case bitlockerMagicToGo:
		binary.LittleEndian.PutUint64(b[440:], uint64(fvePtr))
	}
	if fve != 0 {
		m := img.at(fve, 64)
		copy(m, bitlockerMagicFVE)
		binary.LittleEndian.PutUint16(m[8:], 1)
		binary.LittleEndian.PutUint16(m[10:], version)
	}
	return img
}

func TestBitLocker(t *testing.T) {
	const size = 64 << 20
	const fve = 0x2100000 // 33 MiB: past the head, one more read
	res := func(ver, uuid string) *Result {
		return &Result{Type: "BitLocker", Usage: UsageCrypto, Version: ver, UUID: uuid}
	}
	oddfsCheck(t, []oddfsCase{
		{"windows 7", synthBitLocker(size, bitlockerMagicWin7, 0, fve, fve, 2), res("2", "")},
		// 0x12345678 = 305419896; the serial prints as a signed decimal.
		{"windows 7 serial", synthBitLocker(size, bitlockerMagicWin7, 0x12345678, fve, fve, 2), res("2", "0000000305419896")},
		{"windows 7 negative serial", synthBitLocker(size, bitlockerMagicWin7, 0xfffffffe, fve, fve, 2), res("2", "-000000000000002")},
		{"windows 7 metadata in head", synthBitLocker(size, bitlockerMagicWin7, 0, 0x3000, 0x3000, 1), res("1", "")},
		{"to go", synthBitLocker(size, bitlockerMagicToGo, 0x12345678, fve, fve, 2), res("2", "")},
		// With the boot signature a To Go header also reads as an MBR,
		// its metadata pointer (at 440) as the disk signature: blkid
		// reports that table beside the BitLocker volume, and so do we.
		{"to go with boot signature", oddfsPatched(synthBitLocker(size, bitlockerMagicToGo, 0, fve, fve, 2), 510, "\x55\xaa"),
			&Result{Type: "BitLocker", Usage: UsageCrypto, Version: "2", PTType: "dos", PTUUID: "02100000"}},
		{"vista", synthBitLocker(size, bitlockerMagicVista, 0x12345678, 0, 0, 0), res("", "")},
		{"no metadata", synthBitLocker(size, bitlockerMagicWin7, 0, fve, 0, 0), nil},
		{"metadata elsewhere", synthBitLocker(size, bitlockerMagicWin7, 0, fve, fve+512, 2), nil},
		{"zero pointer", synthBitLocker(size, bitlockerMagicToGo, 0, 0, fve, 2), nil},
		{"pointer past the end", synthBitLocker(size, bitlockerMagicWin7, 0, size-8, 0, 0), nil},
		{"pointer far past the end", synthBitLocker(size, bitlockerMagicWin7, 0, -4, 0, 0), nil},
	})
}

func FuzzBitLocker(f *testing.F) {
	seed := func(magic string, ptr int64) []byte {
		return synthBitLocker(64<<10, magic, 7, ptr, ptr, 2).bytes()[:ptr+16]
	}
	fuzzProbers(f, 0, [][]byte{
		seed(bitlockerMagicWin7, 0x1000), seed(bitlockerMagicToGo, 0x800), synthBitLocker(1024, bitlockerMagicVista, 0, 0, 0, 0).bytes()[:512],
	}, probeBitLocker)
}
