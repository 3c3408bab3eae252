package probe

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

func synthMpool(size int, name string, uuid []byte) []byte {
	b := make([]byte, size)
	copy(b, "mpoolDev")
	copy(b[8:40], name)
	copy(b[40:56], uuid)
	binary.LittleEndian.PutUint16(b[56:], 1)
	binary.LittleEndian.PutUint32(b[58:], 7)
	binary.LittleEndian.PutUint32(b[62:], crc32.Checksum(b[:62], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func TestMpool(t *testing.T) {
	badCRC := synthMpool(containerSize, "mp1", testUUID)
	badCRC[58]++ // osb_gen is covered by the checksum
	checkImages(t, []imageCase{
		{"name and pool id", synthMpool(containerSize, "mp1", testUUID), &Result{Type: "mpool", Usage: UsageFilesystem, UUID: testUUIDString, Label: "mp1"}},
		{"no name", synthMpool(containerSize, "", testUUID), &Result{Type: "mpool", Usage: UsageFilesystem, UUID: testUUIDString}},
		{"bad checksum", badCRC, nil},
		{"wrong magic", synthMpool(containerSize, "mp1", testUUID)[1:], nil},
	})
}

func FuzzMpool(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{region(synthMpool(1024, "mp1", testUUID), 0, 66)}, probeMpool)
}
