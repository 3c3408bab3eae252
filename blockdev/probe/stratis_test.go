package probe

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

const (
	stratisTestDev  = "0123456789abcdef0123456789abcdef"
	stratisTestPool = "fedcba9876543210fedcba9876543210"
)

// stratisCopy fills one 512-byte superblock copy: magic (when magic is
// set), sizes, the two undashed UUIDs, and its CRC-32C (spoiled when
// badCRC is set).
func stratisCopy(b []byte, magic bool, dev string, badCRC bool) {
	if magic {
		copy(b[4:], stratisMagic)
	}
	binary.LittleEndian.PutUint64(b[20:], 2097152)
	copy(b[32:64], stratisTestPool)
	copy(b[64:96], dev)
	binary.LittleEndian.PutUint64(b[96:], 8192)
	binary.LittleEndian.PutUint64(b[120:], 1700000000)
	crc := crc32.Checksum(b[4:512], crc32.MakeTable(crc32.Castagnoli))
	if badCRC {
		crc++
	}
	binary.LittleEndian.PutUint32(b, crc)
}

type stratisOpt struct {
	magic, bad bool
	dev        string
}

func synthStratis(size int64, c1, c2 *stratisOpt) *oddfsImage {
	img := newOddfsImage(size)
	if c1 != nil {
		stratisCopy(img.at(stratisCopy1, 512), c1.magic, c1.dev, c1.bad)
	}
	if c2 != nil {
		stratisCopy(img.at(stratisCopy2, 512), c2.magic, c2.dev, c2.bad)
	}
	return img
}

func TestStratis(t *testing.T) {
	const size = 4 << 20
	good := &stratisOpt{magic: true, dev: stratisTestDev}
	other := &stratisOpt{magic: true, dev: "11111111222233334444555555555555"}
	res := func(uuid string) *Result { return &Result{Type: "stratis", Usage: UsageRaid, UUID: uuid} }
	oddfsCheck(t, []oddfsCase{
		{"both copies", synthStratis(size, good, other), res("01234567-89ab-cdef-0123-456789abcdef")},
		{"first copy only", synthStratis(size, good, nil), res("01234567-89ab-cdef-0123-456789abcdef")},
		{"first copy damaged", synthStratis(size, &stratisOpt{magic: true, bad: true, dev: stratisTestDev}, other),
			res("11111111-2222-3333-4444-555555555555")},
		{"second copy only", synthStratis(size, nil, other), res("11111111-2222-3333-4444-555555555555")},
		// The magic of the second copy lets blkid look; the first copy's
		// CRC then wins although it has no magic.
		{"first copy without magic", synthStratis(size, &stratisOpt{dev: stratisTestDev}, other),
			res("01234567-89ab-cdef-0123-456789abcdef")},
		{"no magic anywhere", synthStratis(size, &stratisOpt{dev: stratisTestDev}, &stratisOpt{dev: stratisTestDev}), nil},
		{"both damaged", synthStratis(size, &stratisOpt{magic: true, bad: true}, &stratisOpt{magic: true, bad: true}), nil},
		// A UUID string stops at its NUL and loses trailing blanks.
		{"short uuid", synthStratis(size, &stratisOpt{magic: true, dev: "0123456789ab"}, nil), res("01234567-89ab-")},
		{"blank uuid", synthStratis(size, &stratisOpt{magic: true, dev: "0123456789ab   "}, nil), res("01234567-89ab-")},
		{"empty uuid", synthStratis(size, &stratisOpt{magic: true}, nil), res("")},
	})
	// blkid's own minimum is 8 KiB, the superblock area: its prober finds
	// a Stratis member on a device of that size (the registry's row holds
	// the size limit; this calls the prober alone).
	small := synthStratis(8192, good, nil)
	if r, err := oddfsRun(t, small, probeStratis); err != nil || r == nil || r.uuid != "01234567-89ab-cdef-0123-456789abcdef" {
		t.Errorf("8 KiB device: %+v, %v", r, err)
	}
	oddfsNone(t, "under 8 KiB", oddfsTruncated(synthStratis(8192, good, nil), 8191), probeStratis)
}

func FuzzStratis(f *testing.F) {
	img := synthStratis(16<<10, &stratisOpt{magic: true, dev: stratisTestDev}, &stratisOpt{magic: true, bad: true})
	fuzzProbers(f, 0, [][]byte{img.bytes()[:stratisArea]}, probeStratis)
}
