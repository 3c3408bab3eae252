package probe

import (
	"encoding/binary"
	"testing"
)

// synthAPFS is an APFS container superblock (NX superblock) at block 0.
func synthAPFS(typ, subtype, pad uint16, blockSize uint32, uuid []byte) *oddfsImage {
	img := newOddfsImage(4 << 20)
	b := img.at(0, 4096)
	binary.LittleEndian.PutUint64(b[8:], 1)  // oid
	binary.LittleEndian.PutUint64(b[16:], 5) // xid
	binary.LittleEndian.PutUint16(b[24:], typ)
	binary.LittleEndian.PutUint16(b[26:], 0x8000)
	binary.LittleEndian.PutUint16(b[28:], subtype)
	binary.LittleEndian.PutUint16(b[30:], pad)
	copy(b[32:], "NXSB")
	binary.LittleEndian.PutUint32(b[36:], blockSize)
	binary.LittleEndian.PutUint64(b[40:], 1024)
	copy(b[72:], uuid)
	return img
}

func TestAPFS(t *testing.T) {
	oddfsCheck(t, []oddfsCase{
		{"container", synthAPFS(1, 0, 0, 4096, testUUID), &Result{Type: "apfs", Usage: UsageFilesystem, UUID: testUUIDString}},
		{"zero uuid", synthAPFS(1, 0, 0, 4096, nil), &Result{Type: "apfs", Usage: UsageFilesystem}},
		{"volume superblock type", synthAPFS(13, 0, 0, 4096, testUUID), nil},
		{"subtype", synthAPFS(1, 1, 0, 4096, testUUID), nil},
		{"padding", synthAPFS(1, 0, 1, 4096, testUUID), nil},
		{"8 KiB blocks", synthAPFS(1, 0, 0, 8192, testUUID), nil},
	})
	oddfsNone(t, "magic", oddfsPatched(synthAPFS(1, 0, 0, 4096, testUUID), 32, "BSXN"), probeAPFS)
}

func FuzzAPFS(f *testing.F) {
	fuzzProbers(f, 0, [][]byte{synthAPFS(1, 0, 0, 4096, testUUID).bytes()[:128]}, probeAPFS)
}
