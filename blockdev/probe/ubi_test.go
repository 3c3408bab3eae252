package probe

import (
	"encoding/binary"
	"testing"
)

func synthUBI(size int, ver byte, seq uint32) []byte {
	b := make([]byte, size)
	copy(b, "UBI#")
	b[4] = ver
	binary.BigEndian.PutUint64(b[8:], 1)     // erase counter
	binary.BigEndian.PutUint32(b[16:], 2048) // vid_hdr_offset
	binary.BigEndian.PutUint32(b[20:], 4096) // data_offset
	binary.BigEndian.PutUint32(b[24:], seq)
	return b
}

func synthUBIFS(size int, fmtVersion, roCompat uint32, uuid []byte) []byte {
	b := make([]byte, size)
	copy(b, "\x31\x18\x10\x06")
	binary.LittleEndian.PutUint32(b[16:], 4096) // node length
	b[20] = 6                                   // superblock node
	binary.LittleEndian.PutUint32(b[36:], 126976)
	binary.LittleEndian.PutUint32(b[80:], fmtVersion)
	copy(b[108:124], uuid)
	binary.LittleEndian.PutUint32(b[124:], roCompat)
	return b
}

func TestUBI(t *testing.T) {
	ubi := func(v, uuid string) *Result { return &Result{Type: "ubi", Usage: UsageRaid, Version: v, UUID: uuid} }
	ubifs := func(v, uuid string) *Result {
		return &Result{Type: "ubifs", Usage: UsageFilesystem, Version: v, UUID: uuid}
	}
	checkImages(t, []imageCase{
		{"ubi", synthUBI(containerSize, 1, 1329411831), ubi("1", "1329411831")},
		{"ubi sequence above 2^31", synthUBI(containerSize, 255, 0xfffffffe), ubi("255", "4294967294")},
		{"ubi zero sequence", synthUBI(containerSize, 1, 0), ubi("1", "")},
		{"ubi wrong magic", synthUBI(containerSize, 1, 1)[1:], nil},

		{"ubifs", synthUBIFS(containerSize, 4, 0, testUUID), ubifs("w4r0", testUUIDString)},
		{"ubifs versions printed signed", synthUBIFS(containerSize, 0xffffffff, 0x80000000, nil), ubifs("w-1r-2147483648", "")},
		{"ubifs wrong magic", synthUBIFS(containerSize, 4, 0, testUUID)[1:], nil},
	})
	// blkid reads the whole 4 KiB superblock node before trusting it.
	if r, _ := probeUBIFS(containerSource(t, synthUBIFS(4096, 5, 1, testUUID))); r == nil || r.version != "w5r1" || r.uuid != testUUIDString {
		t.Errorf("ubifs on 4 KiB: %+v", r)
	}
	containerNone(t, "ubifs node cut", synthUBIFS(4095, 4, 0, testUUID), probeUBIFS)
	containerNone(t, "ubi magic KiB cut", synthUBI(1023, 1, 1), probeUBI)
}

func FuzzUBI(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthUBI(1024, 1, 7), 0, 64), region(synthUBIFS(4096, 4, 0, testUUID), 0, 128)}, probeUBI, probeUBIFS)
}
